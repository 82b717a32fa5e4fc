"""Declared versions, tested: every chapter at the lowest versions that ``pyproject.toml``
declares for ``rnnlab`` and at the newest that pip installs, with every claim's value compared.

``rnnlab`` declares lower bounds only (``torch>=2.3``, ...), so that the Colab install cell keeps
a hosted notebook's own torch. A bound is a promise: a learner on an older hosted environment
runs the chapters with it. This module keeps the promise checked:

``python -m rnncourse.versions run [--envs lowest,newest] [--out chapters/versions.json]``
    (``make versions``) builds one virtual environment per set in ``_build/envs/versions-*``
    from PyPI (network needed; several GB of torch wheels the first time), installs ``rnnlab``
    from the working tree into it as the install cell does, executes every chapter there in a
    fresh kernel with the exercise checks strict, logs every claim, and writes the record:
    the versions each set got, each chapter's result, and per claim its value in every set,
    beside the values of this repository's own environment (``.venv``, the exact pins).
``python -m rnncourse.versions report [RECORD]``
    prints the chapters' results and the claims whose values moved most between the sets.

The sets (:func:`requirements`):

* ``lowest``: for each declared bound the newest patch release of that lowest minor release
  (:data:`LOWEST`; a test checks it against ``pyproject.toml``), so that a bound cannot move
  without the record being made again;
* ``newest``: the same packages unpinned, at what pip installs today. A local pip
  configuration may cap a package (this project's machines cap torch at the release they hold
  on disk); the cap is lifted for this environment alone, and the record says what came.

The record is ``chapters/versions.json``; ``tests/test_versions.py`` checks that it answers the
declared bounds and that every chapter passed in every set. Run ``make versions`` before a
release and whenever a bound or a claim's margin changes.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rnnlab.checks._core import STRICT_ENV

from .notebooks import CHAPTER_GLOB

__all__ = ["LOWEST", "SETS", "declared", "requirements", "build", "execute", "compare",
           "record", "report", "main"]

SETS = ("lowest", "newest")
#: The newest patch release of each declared lowest minor release (pyproject.toml).
LOWEST = {"numpy": "1.26.4", "torch": "2.3.1", "matplotlib": "3.8.4", "tqdm": "4.64.1"}
#: What the kernel needs beside rnnlab's own dependencies.
KERNEL = ("ipykernel",)
#: The chapters' own environment, the exact pins, for comparison.
PINNED = "pinned"
RECORD = Path("chapters") / "versions.json"


def declared(pyproject: Path = Path("pyproject.toml")) -> dict[str, str]:
    """``{package: lower bound}`` of rnnlab's run-time dependencies in ``pyproject.toml``."""
    deps = tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))["project"]["dependencies"]
    bounds = {}
    for dep in deps:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9.]*)\s*", dep)
        if not m:
            raise ValueError(f"expected a dependency of the form 'name>=version', got {dep!r}")
        bounds[m.group(1).lower()] = m.group(2)
    return bounds


def requirements(which: str, pyproject: Path = Path("pyproject.toml")) -> list[str]:
    """The pip requirements of the set ``which`` (``"lowest"`` or ``"newest"``)."""
    bounds = declared(pyproject)
    if which == "lowest":
        missing = sorted(set(bounds) - set(LOWEST))
        if missing:
            raise ValueError(f"LOWEST has no version for the declared {missing}")
        return [f"{name}=={LOWEST[name]}" for name in bounds] + list(KERNEL)
    if which == "newest":
        return list(bounds) + list(KERNEL)
    raise ValueError(f"expected one of {list(SETS)}, got {which!r}")


def _versions(python: Path, names) -> dict[str, str]:
    code = ("import importlib.metadata as m, json, sys; print(json.dumps({n: m.version(n) "
            "for n in sys.argv[1:]}))")
    done = subprocess.run([str(python), "-c", code, *names], capture_output=True, text=True,
                          check=True)
    versions = json.loads(done.stdout)
    versions["python"] = subprocess.run(
        [str(python), "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True, check=True).stdout.strip()
    return versions


def build(which: str, root: Path, folder: Path, *, log=print) -> Path:
    """A virtual environment ``folder/versions-<which>`` with the set ``which`` and ``rnnlab``
    from the working tree ``root`` (not editable, without its dependencies, which the set
    fixed); its python. The set is installed again only when its requirements changed (or,
    for ``newest``, after a day); ``rnnlab`` every time."""
    env_dir = folder / f"versions-{which}"
    python = env_dir / "bin" / "python"
    reqs = requirements(which, root / "pyproject.toml")
    stamp = env_dir / ".requirements"
    key = json.dumps([reqs, datetime.date.today().isoformat() if which == "newest" else None])
    fresh = not (python.exists() and stamp.is_file() and stamp.read_text() == key)
    if fresh:
        shutil.rmtree(env_dir, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        no_cap = Path(tmp) / "no-constraints.txt"
        no_cap.write_text("")
        pip_env = {**os.environ, "PIP_CONSTRAINT": str(no_cap),
                   "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        steps = ([reqs] if fresh else []) + [["--no-deps", "--force-reinstall", str(root)]]
        log(f"{which}: pip install {' '.join(reqs)}" if fresh else f"{which}: reused")
        for args in steps:
            done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *args],
                                  capture_output=True, text=True, env=pip_env, cwd=tmp)
            if done.returncode != 0:
                tail = "\n".join(line for line in (done.stdout + done.stderr).splitlines()
                                 if not line.startswith("WARNING: Location"))[-2000:]
                raise RuntimeError(f"pip could not build the {which} environment:\n{tail}")
    stamp.write_text(key)
    return python


def _kernel(name: str, python: Path, share: Path) -> None:
    kernel = share / "kernels" / name
    kernel.mkdir(parents=True, exist_ok=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": name, "language": "python"}))


def execute(which: str, python: Path, chapters, log_path: Path, *, log=print) -> dict:
    """Execute every chapter in a fresh kernel of ``python``, claims logged to ``log_path``;
    ``{notebook: {"passed": bool, "error": str | None, "seconds": float}}``."""
    from nbclient.exceptions import CellExecutionError

    from .timing import run_notebook

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        name = f"rnnlab-versions-{which}"
        _kernel(name, python, Path(tmp) / "share")
        for path in map(Path, chapters):
            # the kernel inherits these: checks strict, 1 thread; its claims go to log_path
            os.environ.update({"JUPYTER_PATH": str(Path(tmp) / "share"),
                               STRICT_ENV: "1", "OMP_NUM_THREADS": "1"})
            try:
                seconds, error = run_notebook(path, kernel=name, claims_log=log_path)["wall"], None
            except CellExecutionError as exc:
                seconds, error = float("nan"), _summary(str(exc))
            results[path.name] = {"passed": error is None, "error": error,
                                  "seconds": round(seconds, 1)}
            log(f"{which}: {path.name} {'passed' if error is None else 'FAILED: ' + error}")
    return results


def _summary(message: str) -> str:
    """The line of a cell's error that names the failing claim or exception."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in message.splitlines()]
    named = [line for line in lines if re.match(r"^\w*(Error|Failed|Exception)\b", line)]
    return (named or [line for line in lines if line] or ["(no message)"])[-1][:400]


def _claim_values(log_path: Path) -> dict:
    """``{notebook: {claim key: value}}`` of the measured claims in a claims log; a text that
    occurs twice in one notebook gets ``#2``, ``#3`` ... in order."""
    out: dict = defaultdict(dict)
    seen: dict = defaultdict(int)
    if not log_path.is_file():
        return out
    for raw in log_path.read_text(encoding="utf-8").splitlines():
        line = json.loads(raw)
        if line["kind"] == "holds" or line.get("value") is None:
            continue
        source = line.get("source") or "unknown"
        seen[source, line["claim"]] += 1
        k = seen[source, line["claim"]]
        out[source][line["claim"] + (f" #{k}" if k > 1 else "")] = line["value"]
    return out


def _change(values: list[float]) -> dict:
    """How far apart the values of one claim are: relative (to the larger magnitude) and, when
    all are positive, in orders of magnitude."""
    lo, hi = min(values), max(values)
    scale = max(abs(lo), abs(hi))
    rel = 0.0 if scale == 0 else (hi - lo) / scale
    orders = math.log10(hi / lo) if lo > 0 else None
    return {"relative": round(rel, 6), "orders": None if orders is None else round(orders, 3)}


def compare(values_by_set: dict) -> dict:
    """``{notebook: {claim: {set: value, ..., "change": {...}}}}`` over the claims that every
    set measured (a failed chapter stops early: its later claims are missing in that set)."""
    out: dict = defaultdict(dict)
    sets = list(values_by_set)
    notebooks = set().union(*(v.keys() for v in values_by_set.values()))
    for nb in sorted(notebooks):
        claims = set().union(*(values_by_set[s].get(nb, {}).keys() for s in sets))
        for claim in sorted(claims):
            row = {s: values_by_set[s].get(nb, {}).get(claim) for s in sets}
            present = [v for v in row.values() if v is not None and math.isfinite(v)]
            row["change"] = _change(present) if len(present) == len(sets) else None
            out[nb][claim] = row
    return out


def record(sets, root: Path, *, out: Path, parallel: int = 2, log=print) -> dict:
    """Build the environments of ``sets`` (:data:`PINNED` is this one, ``.venv``), execute
    every chapter in each, and write the record to ``out``."""
    chapters = sorted((root / "chapters").glob(CHAPTER_GLOB))
    folder = root / "_build" / "envs"
    pythons = {which: (Path(sys.executable) if which == PINNED else
                       build(which, root, folder, log=log)) for which in sets}
    names = list(declared(root / "pyproject.toml"))
    with tempfile.TemporaryDirectory() as tmp:
        logs = {which: Path(tmp) / f"{which}.jsonl" for which in pythons}
        saved = dict(os.environ)
        try:
            # one set per core: each executes its chapters one after another
            with ThreadPoolExecutor(max_workers=parallel) as pool:
                futures = {which: pool.submit(_execute_isolated, which, python, chapters,
                                              logs[which], log)
                           for which, python in pythons.items()}
                results = {which: f.result() for which, f in futures.items()}
        finally:
            os.environ.clear()
            os.environ.update(saved)
        values = {which: _claim_values(logs[which]) for which in pythons}
    data = {
        "date": datetime.date.today().isoformat(),
        "declared": declared(root / "pyproject.toml"),
        "sets": {which: {"versions": _versions(python, names),
                         "chapters": results[which]} for which, python in pythons.items()},
        "claims": compare(values),
    }
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return data


def _execute_isolated(which, python, chapters, log_path, log):
    """:func:`execute` in a subprocess of its own, so that two sets' kernels (which inherit
    the environment variables of the process that starts them) do not share them."""
    code = ("import json, sys; from pathlib import Path; from rnncourse.versions import "
            "execute; print('RESULT ' + json.dumps(execute(sys.argv[1], Path(sys.argv[2]), "
            "sys.argv[4:], Path(sys.argv[3]), log=lambda m: print(m, flush=True))))")
    proc = subprocess.Popen([sys.executable, "-c", code, which, str(python), str(log_path),
                             *map(str, chapters)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    result = None
    for line in proc.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
        elif "Kernel is running over TCP without encryption" not in line:   # every kernel
            log(line.rstrip())
    if proc.wait() != 0 or result is None:
        raise RuntimeError(f"executing the chapters in the {which} environment failed")
    return result


def report(data: dict, *, top: int = 15) -> str:
    """The chapters' results per set and the ``top`` claims that moved most between sets."""
    out = []
    for which, s in data["sets"].items():
        v = s["versions"]
        failed = {nb: r["error"] for nb, r in s["chapters"].items() if not r["passed"]}
        out.append(f"{which}: " + ", ".join(f"{k} {v[k]}" for k in v)
                   + f": {len(s['chapters']) - len(failed)}/{len(s['chapters'])} chapters passed")
        out += [f"    FAILED {nb}: {err}" for nb, err in failed.items()]
    rows = [(nb, claim, row) for nb, claims in data["claims"].items()
            for claim, row in claims.items() if row["change"]]
    rows.sort(key=lambda r: (r[2]["change"]["orders"] or 0, r[2]["change"]["relative"]),
              reverse=True)
    sets = list(data["sets"])
    out.append(f"largest changes of a claim's value between {', '.join(sets)}:")
    for nb, claim, row in rows[:top]:
        ch = row["change"]
        values = ", ".join(f"{row[s]:.3g}" for s in sets)
        orders = "" if ch["orders"] is None else f", {ch['orders']:.2f} orders"
        out.append(f"    {nb[:2]} rel {ch['relative']:.2%}{orders}: {claim} ({values})")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnncourse.versions",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="build the environments, execute, write the record")
    p_run.add_argument("--envs", default=",".join((*SETS, PINNED)))
    p_run.add_argument("--out", type=Path, default=RECORD)
    p_rep = sub.add_parser("report", help="print a record's results and largest changes")
    p_rep.add_argument("record", nargs="?", type=Path, default=RECORD)
    p_rep.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    if args.command == "run":
        sets = [s for s in args.envs.split(",") if s]
        for s in sets:
            if s not in (*SETS, PINNED):
                parser.error(f"--envs takes {', '.join((*SETS, PINNED))}, got {s!r}")
        data = record(sets, Path.cwd(), out=args.out)
        print(report(data))
        failed = any(not r["passed"] for s in data["sets"].values()
                     for r in s["chapters"].values())
        return 1 if failed else 0
    if not args.record.is_file():
        parser.error(f"no such record: {args.record}")
    print(report(json.loads(args.record.read_text(encoding="utf-8")), top=args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
