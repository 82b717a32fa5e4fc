"""The install cell: what lets a chapter run where ``rnnlab`` is not installed (issue 13).

A chapter opened in Colab (or another hosted notebook) has torch, NumPy and Matplotlib but not
the course's package. Every chapter's first code cell, tagged ``remove-cell`` (the book does
not show it), installs ``rnnlab`` with pip when it cannot be imported, from the repository and
branch named in ``_config.yml`` (``repository.url``, ``repository.branch``: a fork changes them
there, and reruns the command below). Where ``rnnlab`` is importable (``make lab``, the book
build, the tests, Binder) the cell does nothing. The environment variable
``RNNLAB_INSTALL_SOURCE`` replaces the source with anything pip installs (a local clone, a
wheel), which is how the tests check the cell offline.

The cell is written here and nowhere else::

    python -m rnncourse.colab insert chapters/[0-9][0-9]_*.ipynb   # insert or refresh it
    python -m rnncourse.colab check chapters/[0-9][0-9]_*.ipynb    # exit 1 if one is not current
    python -m rnncourse.colab show                                 # print the cell

``insert`` is idempotent: it puts the cell right before a notebook's first code cell (or
refreshes it there), removes stale copies elsewhere, and leaves every other byte of the file
as it was; a notebook whose file is not in Jupyter's layout (indent 1, trailing newline) is
refused rather than rewritten.
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from . import notebooks as nbt
from .repo import find_root

__all__ = ["ENV_VAR", "CELL_ID", "HEADER", "install_source", "cell_source",
           "install_cell", "is_install_cell", "with_install_cell", "insert", "check", "main"]

#: The environment variable that points the install at another source (tests, a local clone).
ENV_VAR = "RNNLAB_INSTALL_SOURCE"
#: The cell's id in every chapter (nbformat 4.5 ids are unique per notebook).
CELL_ID = "install-rnnlab"
#: The first line of the cell: how the command recognises a copy to refresh.
HEADER = "# Installs the course's package rnnlab where it is missing (Colab, other hosted"

_URL = re.compile(r"^https://[\w.-]+(/[\w.-]+)+/?$")
_BRANCH = re.compile(r"^[\w][\w./-]*$")


def install_source(config=None) -> str:
    """The pip requirement of the repository in ``_config.yml``: ``git+URL@BRANCH``."""
    import yaml

    path = Path(config) if config is not None else find_root() / "_config.yml"
    repo = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("repository") or {}
    url, branch = str(repo.get("url", "")).strip(), str(repo.get("branch", "main")).strip()
    if not _URL.match(url):
        raise ValueError(f"{path}: repository.url must be an https URL of a git repository, "
                         f"got {url!r}")
    if not _BRANCH.match(branch):
        raise ValueError(f"{path}: repository.branch must be a branch name, got {branch!r}")
    return f"git+{url.rstrip('/')}@{branch}"


def cell_source(source: str) -> str:
    """The code of the install cell that installs from ``source`` by default."""
    return f"""{HEADER}
# notebooks); does nothing where it is installed. Written by `python -m rnncourse.colab`.
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("rnnlab") is None:
    source = (os.environ.get("{ENV_VAR}")
              or {json.dumps(source)})
    print(f"installing rnnlab from {{source}}")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source], check=True)
    importlib.invalidate_caches()"""


def install_cell(config=None) -> dict:
    """The install cell as a notebook cell (keys in Jupyter's order, source as lines)."""
    lines = cell_source(install_source(config)).splitlines(keepends=True)
    return {"cell_type": "code", "execution_count": None, "id": CELL_ID,
            "metadata": {"tags": ["remove-cell"]}, "outputs": [], "source": lines}


def is_install_cell(cell: dict) -> bool:
    """True for any version of the install cell (recognised by its id or its first line)."""
    return cell.get("cell_type") == "code" and (
        cell.get("id") == CELL_ID or nbt.source(cell).startswith(HEADER))


def with_install_cell(nb: dict, cell: dict) -> dict:
    """``nb`` with ``cell`` as its first code cell and no other install cell (a new dict)."""
    cells = [c for c in nb["cells"] if not is_install_cell(c)]
    first = next((i for i, c in enumerate(cells) if c.get("cell_type") == "code"), len(cells))
    return {**nb, "cells": cells[:first] + [cell] + cells[first:]}


def _layout(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def insert(paths, config=None) -> list[Path]:
    """Insert or refresh the install cell in each notebook; return the files that changed."""
    cell, changed, plans = install_cell(config), [], []
    for path in map(Path, paths):
        text = path.read_text(encoding="utf-8")
        nb = json.loads(text)
        if _layout(nb) != text:
            raise ValueError(f"{path} is not in Jupyter's layout (indent 1, trailing newline); "
                             "rewriting it would change more than the install cell")
        new = _layout(with_install_cell(nb, cell))
        plans.append((path, text, new))
    for path, text, new in plans:   # write only once every notebook was read and checked
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def check(paths, config=None) -> list[str]:
    """What is wrong: one line per notebook whose first code cell is not the current cell."""
    cell, problems = install_cell(config), []
    for path in map(Path, paths):
        nb = nbt.read(path)
        code = [c for c in nb["cells"] if c.get("cell_type") == "code"]
        if not code or code[0] != cell:
            problems.append(f"{path}: the first code cell is not the current install cell "
                            "(run python -m rnncourse.colab insert)")
        elif sum(map(is_install_cell, code)) > 1:
            problems.append(f"{path}: more than one install cell")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnncourse.colab", description=__doc__
                                     .split("\n\n")[0])
    parser.add_argument("command", choices=["insert", "check", "show"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--config", type=Path, default=None,
                        help="the book's _config.yml (default: the repository's)")
    args = parser.parse_args(argv)
    if args.command == "show":
        print(cell_source(install_source(args.config)))
        return 0
    if not args.notebooks:
        parser.error(f"{args.command} needs notebooks, e.g. chapters/{nbt.CHAPTER_GLOB}")
    if args.command == "check":
        problems = check(args.notebooks, args.config)
        print("\n".join(problems) or f"{len(args.notebooks)} notebook(s) have the install cell")
        return 1 if problems else 0
    changed = insert(args.notebooks, args.config)
    print(f"install cell: {len(changed)} of {len(args.notebooks)} notebook(s) changed"
          + "".join(f"\n  {p}" for p in changed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
