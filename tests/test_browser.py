"""The rendered book, opened page by page in headless Chromium as a reader sees it (issue 8).

Uses the build in ``_build/html`` when it succeeded after the last change to any source of the
book (``make book`` and this test mark a successful build); otherwise builds the book first,
as ``make book`` does (``jupyter-book build . --all -W -n --keep-going``, clearing the
execution cache when ``rnnlab`` changed). Each page in ``_toc.yml`` is then
opened from a local server and checked by :mod:`browser_check` (console errors, images,
typeset math, rendered errors, solution dropdowns, internal links); a full-page screenshot of
each goes to ``_build/screenshots/`` for a human to look at.

Chromium comes from the system (Debian's ``chromium``; another one through ``$CHROMIUM``);
nothing is downloaded. Without Chromium or Playwright the tests are skipped with the reason,
except when the environment variable ``CI`` is set: there they fail.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_check as bc  # noqa: E402  (a helper module beside this file, not a package)

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
HTML = BUILD / "html"
SCREENSHOTS = BUILD / "screenshots"
HASH_FILE = BUILD / ".rnnlab-hash"  # written by `make book` after a successful build


def toc_entries() -> list[str]:
    """Every page of the book, in the order of ``_toc.yml`` (root first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                entries.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return list(dict.fromkeys(str(Path(e).with_suffix("")) for e in entries))


def source_of(entry: str) -> Path | None:
    for suffix in (".ipynb", ".md"):
        if (ROOT / entry).with_suffix(suffix).exists():
            return (ROOT / entry).with_suffix(suffix)
    return None


def book_sources() -> list[Path]:
    """Everything a build depends on: pages, configuration, bibliography and the package."""
    files = [ROOT / "_config.yml", ROOT / "_toc.yml", ROOT / "references.bib"]
    files += [p for e in toc_entries() if (p := source_of(e)) is not None]
    files += [p for p in (ROOT / "chapters").rglob("*") if p.is_file()
              and ".ipynb_checkpoints" not in p.parts]
    files += [p for p in (ROOT / "code").rglob("*") if p.is_file()
              and "__pycache__" not in p.parts and ".egg-info" not in str(p)]
    return files


def rnnlab_hash() -> str:
    """The hash ``make book`` keeps in ``_build/.rnnlab-hash`` (same files, same order)."""
    pkg = ROOT / "code" / "rnnlab"
    files = sorted(pkg.glob("*.py")) + sorted(pkg.glob("*/*.py"))
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()[:16]


def build_is_fresh() -> bool:
    """True when a build succeeded after the last change to any source.

    ``_build/.rnnlab-hash`` is written only when a build succeeds (by ``make book`` or by
    :func:`build_book`), so its time is that of the last successful build; the HTML of a build
    that failed (``--keep-going`` still writes pages) is never taken for a good one.
    """
    if not (HTML / "index.html").is_file() or not HASH_FILE.is_file():
        return False
    built = HASH_FILE.stat().st_mtime
    return all(p.stat().st_mtime < built for p in book_sources())


def build_book() -> None:
    """Build with -W as ``make book`` does, re-reading every page (``--all``).

    When ``rnnlab`` changed, the execution cache is cleared so that every notebook runs again.
    ``--all`` matters: Sphinx re-reads only the sources that changed, so without it a notebook
    whose file did not change is neither re-executed nor re-checked for warnings.
    """
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else (shutil.which("jupyter-book") or "jupyter-book"),
           "build", ".", "--all", "-W", "-n", "--keep-going"]
    digest = rnnlab_hash()
    if not HASH_FILE.exists() or HASH_FILE.read_text().strip() != digest:
        shutil.rmtree(BUILD / ".jupyter_cache", ignore_errors=True)
    # The kernels must draw inline: with MPLBACKEND=Agg (set by many CI scripts) plt.show()
    # leaves no image in the notebook, and every figure silently disappears from the book.
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        log = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
        causes = [line for line in log.splitlines() if re.search(r"WARNING|ERROR|\w+Error\b", line)
                  and "IPKernelApp" not in line]
        pytest.fail("the book build failed (`jupyter-book build . --all -W -n --keep-going`); "
                    "its warnings and errors:\n" + "\n".join(causes[:40])
                    + "\n... end of its log:\n" + log[-1500:], pytrace=False)
    HASH_FILE.write_text(digest + "\n")


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium_path() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("Playwright for Python is not installed (pip install -r requirements.txt)")
    path = bc.find_chromium()
    if path is None:
        unavailable("no Chromium found: install Debian's `chromium` package "
                    "(apt-get install chromium) or set $CHROMIUM to a Chromium binary"
                    + (f" ($CHROMIUM={os.environ['CHROMIUM']!r} is not an executable file)"
                       if os.environ.get("CHROMIUM") else ""))
    return path


@pytest.fixture(scope="module")
def chromium(chromium_path):
    with bc.Chromium(chromium_path) as c:
        yield c


@pytest.fixture(scope="module")
def book(chromium_path) -> Path:
    """The built HTML book: the existing build if it is fresh, else a new one."""
    if not build_is_fresh():
        build_book()
    return HTML


@pytest.fixture(scope="module")
def site(chromium, book):
    with chromium.site(book, SCREENSHOTS) as s:
        yield s


def test_every_page_of_the_toc_was_built(book):
    missing = [e for e in toc_entries() if not (book / f"{e}.html").is_file()]
    assert not missing, f"_toc.yml lists pages the build did not write: {missing}"


@pytest.mark.parametrize("entry", toc_entries())
def test_page_as_a_reader_sees_it(site, entry):
    source = source_of(entry)
    expect = bc.expectations(source) if source else bc.Expect()
    report = site.check(f"{entry}.html", expect, screenshot_name=Path(entry).name)
    assert not report.problems, (f"{entry}.html ({len(report.problems)} problems; screenshot "
                                 f"{report.screenshot}):\n  " + "\n  ".join(report.problems))


# ------------------------------------------------------------------ the checks can fail
BROKEN_PAGE = r"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title>
<script>console.error("a real error")</script></head><body>
<p id="here">Raw math left over: $$x^2$$ and \(y\).</p>
<div class="cell_output"><p>| a | b | |---|---| | 1 | $x^2$ |</p></div>
<img src="missing.png" alt="gone">
<a href="other.html">ok</a> <a href="other.html#nowhere">bad anchor</a>
<a href="#here">ok</a> <a href="nothere.html">bad page</a>
<div class="cell"><div class="cell_output"><div class="output traceback">boom</div></div></div>
<div class="cell_output"><pre>it 50%|#####     | 5/10</pre></div>
<div class="solution dropdown admonition" id="sol-1"><p class="admonition-title">Solution</p>
<section><p>answer</p></section></div>
</body></html>"""


def test_checks_report_a_broken_page(chromium, tmp_path):
    (tmp_path / "broken.html").write_text(BROKEN_PAGE)
    (tmp_path / "other.html").write_text('<html><body><p id="there">x</p></body></html>')
    expect = bc.Expect(display_math=1, inline_math=True, solutions=["ex-01-1", "ex-01-2"],
                       figures=["fig-01-gone"])
    with chromium.site(tmp_path) as s:
        problems = "\n".join(s.check("broken.html", expect).problems)
        clean = s.check("other.html")
    for needle in ["console: a real error", "image did not load: missing.png",
                   "raw LaTeX", "'| a | b |", "raw text", "display equations", "inline $...$ math",
                   "missing anchor: other.html#nowhere", "missing page: nothere.html",
                   "traceback/error/stderr", "debris", "2 solutions in the source, 1 on the page",
                   "sol-1 is open before any click", "figure fig-01-gone"]:
        assert needle in problems, f"the check missed {needle!r}; it reported:\n{problems}"
    assert not clean.problems, clean.problems


def test_expectations_count_math_and_solutions(tmp_path):
    md = tmp_path / "page.md"
    md.write_text("Text $a+b$ and\n\n$$\nx\n$$ (eq-1)\n\n```python\nprint('$$ not math $$')\n```\n"
                  "`$inline code$`\n```{solution-start} ex-02-1\n:class: dropdown\n```\n")
    e = bc.expectations(md)
    assert (e.display_math, e.inline_math, e.solutions) == (1, True, ["ex-02-1"])
    md.write_text("Costs nothing. No math here, only `code $x$`.\n")
    assert bc.expectations(md) == bc.Expect()
    nb = tmp_path / "page.ipynb"
    nb.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# T\n", "$x$"]},
        {"cell_type": "code", "metadata": {"mystnb": {"figure": {"name": "fig-09-a"}}},
         "source": "plt.show()", "outputs": [], "execution_count": None}]}))
    e = bc.expectations(nb)
    assert (e.inline_math, e.figures) == (True, ["fig-09-a"])
