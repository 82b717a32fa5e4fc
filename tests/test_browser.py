"""The rendered book, opened page by page in headless Chromium as a reader sees it (issue 8).

Uses the build in ``_build/html`` when it succeeded after the last change to any source of the
book (``make book`` and this test mark a successful build); otherwise builds the book first,
as ``make book`` does (:mod:`rnncourse.book`: ``jupyter-book build . --all -W -n
--keep-going``, clearing the execution cache when ``rnnlab`` changed). Each page in
``_toc.yml`` is then opened from a local server and checked by :mod:`browser_check` (console
errors, images, typeset math, rendered errors, solution dropdowns, internal links, and content
cut off at a laptop's and a phone's window width); a full-page screenshot of each goes to
``_build/screenshots/`` for a human to look at. Further tests check the checks on synthetic
pages, the PDF entry of the download button and the Live Code (Thebe) configuration.

Chromium comes from the system (Debian's ``chromium``; another one through ``$CHROMIUM``);
nothing is downloaded. Without Chromium or Playwright the tests are skipped with the reason,
except when the environment variable ``CI`` is set: there they fail.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_check as bc  # noqa: E402  (a helper module beside this file, not a package)
import browser_language as bl  # noqa: E402  (another)
from page_sources import Expect, expectations  # noqa: E402  (one more)

from rnncourse import book as book_build  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
HTML = BUILD / "html"
SCREENSHOTS = BUILD / "screenshots"
HASH_FILE = BUILD / ".rnnlab-hash"  # written by `make book` after a successful build


def toc_entries() -> list[str]:
    """Every page of the book, in the order of ``_toc.yml`` (root first)."""
    return book_build.toc_entries(ROOT)


def source_of(entry: str) -> Path | None:
    for suffix in (".ipynb", ".md"):
        if (ROOT / entry).with_suffix(suffix).exists():
            return (ROOT / entry).with_suffix(suffix)
    return None


def book_sources() -> list[Path]:
    """Everything a build depends on: pages, configuration, bibliography, the package and the
    book's own static files (CSS, JavaScript)."""
    files = [ROOT / "_config.yml", ROOT / "_toc.yml", ROOT / "references.bib"]
    files += [p for p in (ROOT / "_static").rglob("*") if p.is_file()]
    files += [p for e in toc_entries() if (p := source_of(e)) is not None]
    files += [p for p in (ROOT / "chapters").rglob("*") if p.is_file()
              and ".ipynb_checkpoints" not in p.parts]
    files += [p for p in (ROOT / "code").rglob("*") if p.is_file()
              and "__pycache__" not in p.parts and ".egg-info" not in str(p)]
    return files


def rnnlab_hash() -> str:
    """The hash ``make book`` keeps in ``_build/.rnnlab-hash`` (:mod:`rnncourse.book`)."""
    from rnncourse import book
    return book.rnnlab_hash(ROOT)


def build_is_fresh() -> bool:
    """True when a build succeeded after the last change to any source.

    ``_build/.rnnlab-hash`` is written only when a build succeeds (by ``make book`` or by
    :func:`build_book`), so its time is that of the last successful build; the HTML of a build
    that failed (``--keep-going`` still writes pages) is never taken for a good one.
    """
    if not (HTML / "index.html").is_file() or not HASH_FILE.is_file():
        return False
    built = HASH_FILE.stat().st_mtime
    italian = HTML / "it" / "index.html"          # built after the English book, from its cache
    return all(p.stat().st_mtime < built for p in book_sources()) and italian.is_file() and \
        all(p.stat().st_mtime < italian.stat().st_mtime
            for p in (ROOT / "locales").rglob("*.po"))


def build_book() -> None:
    """Build as ``make book`` does, through :mod:`rnncourse.book` (the one place that knows
    the command, ``--all -W -n --keep-going``, and clears the execution cache when ``rnnlab``
    changed), then the Italian book from the same cache (:mod:`rnncourse.i18n`); on failure,
    the summary names the failing notebooks, cells and warnings."""
    from rnncourse import book, i18n

    done = book.build(ROOT, timeout=1800)
    if done.returncode != 0:
        pytest.fail("the book build failed (`python -m rnncourse.book`):\n"
                    + book.failure_summary(done.stdout), pytrace=False)
    done = i18n.build(ROOT)
    if done.returncode != 0:
        pytest.fail("the Italian book's build failed (`python -m rnncourse.i18n build`):\n"
                    + book.failure_summary(done.stdout), pytrace=False)


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


def test_every_page_as_a_reader_sees_it(site, subtests):
    """Each page checked by browser_check (interactive figures drawn and moved, no request
    leaving the machine, ...). Prints each page's weight, the bytes of all its responses, and
    writes the table to _build/screenshots/page-weights.txt (pytest -rP or -s shows it)."""
    weights = [f"{'page':<40} {'MB':>6} {'responses':>9} {'interactive':>11}"]
    for entry in toc_entries():     # each page a subtest, reported by its name when it fails
        with subtests.test(page=entry):
            source = source_of(entry)
            expect = expectations(source) if source else Expect()
            report = site.check(f"{entry}.html", expect, screenshot_name=Path(entry).name)
            report.problems += bl.language_problems(site.page, site.base + f"{entry}.html",
                                                    "en", _exists)
            weights.append(f"{entry:<40} {report.weight / 1e6:6.2f} {report.responses:9d} "
                           f"{report.interactive:11d}")
            assert not report.problems, (
                f"{entry}.html ({len(report.problems)} problems; screenshot "
                f"{report.screenshot}):\n  " + "\n  ".join(report.problems))
    print("\n".join(weights))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "page-weights.txt").write_text("\n".join(weights) + "\n")


def _exists(path: str) -> bool:
    """Whether the page at URL path ``path`` of the local server exists in the build."""
    return (HTML / path.lstrip("/")).is_file()


def test_the_language_check_finds_english_prose_and_passes_italian():
    assert bl.english_paragraphs(["The gradient of the loss with respect to the weights is "
                                  "a product of Jacobians."]) != []
    assert bl.english_paragraphs(["Il gradiente della loss rispetto ai pesi è un prodotto di "
                                  "matrici jacobiane, una per ogni passo."]) == []
    assert bl.english_paragraphs(["LSTM (chrono) 0.01 0.1448"]) == []   # too short to judge
    button = '<button onclick="window.location.href=\'../it/chapters/03_x.html\'">IT</button>'
    assert bl.switch_target(button, "http://h/chapters/03_x.html") == \
        "http://h/it/chapters/03_x.html"
    assert bl.switch_target(None, "http://h/intro.html") is None


#: The chapters whose page must hold at least one interactive figure (issue 26): every one.
INTERACTIVE_CHAPTERS = ["01", "02", "03", "04", "05", "06", "07"]


def test_chapters_have_an_interactive_figure(book):
    """Each chapter of INTERACTIVE_CHAPTERS has an interactive figure on its page (that each
    is drawn and moves is test_every_page_as_a_reader_sees_it's part)."""
    from rnncourse.interactive import MARK

    for number in INTERACTIVE_CHAPTERS:
        [page] = (book / "chapters").glob(f"{number}_*.html")
        assert page.read_text(encoding="utf-8").count(MARK) >= 1, \
            f"{page.name} has no interactive figure (div.rnn-vega)"


# ------------------------------------------------------------------ the checks can fail
BROKEN_PAGE = r"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title>
<script>console.error("a real error")</script></head><body>
<p id="here">Raw math left over: $$x^2$$ and \(y\).</p>
<p>As Exercise <a href="#here"><span>Exercise 1.4</span></a> shows.</p>
<div class="cell_output"><p>| a | b | |---|---| | 1 | $x^2$ |</p></div>
<img src="missing.png" alt="gone">
<img src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="
 alt="../_images/0a1b2c.png">
<a href="other.html">ok</a> <a href="other.html#nowhere">bad anchor</a>
<a href="#here">ok</a> <a href="nothere.html">bad page</a>
<div class="cell"><div class="cell_output"><div class="output traceback">boom</div></div></div>
<div class="cell_output"><pre>it 50%|#####     | 5/10</pre></div>
<div class="solution dropdown admonition" id="sol-1"><p class="admonition-title">Solution</p>
<section><p>answer</p></section></div>
</body></html>"""


def test_checks_report_a_broken_page(chromium, tmp_path):
    (tmp_path / "broken.html").write_text(BROKEN_PAGE)
    (tmp_path / "other.html").write_text('<html><body><p id="there">the product of '
                                         '<code>T</code> of them</p></body></html>')
    expect = Expect(display_math=1, inline_math=True, solutions=["ex-01-1", "ex-01-2"],
                       figures=["fig-01-gone"])
    with chromium.site(tmp_path) as s:
        problems = "\n".join(s.check("broken.html", expect).problems)
        clean = s.check("other.html")
    for needle in ["console: a real error", "image did not load: missing.png",
                   "raw LaTeX", "'| a | b |", "raw text", "display equations", "inline $...$ math",
                   "missing anchor: other.html#nowhere", "missing page: nothere.html",
                   "traceback/error/stderr", "debris", "2 solutions in the source, 1 on the page",
                   "sol-1 is open before any click", "figure fig-01-gone",
                   "a word twice in a row: 'As Exercise Exercise 1.4 shows.'",
                   "image with no alt text for a screen reader: data:image/gif"]:
        assert needle in problems, f"the check missed {needle!r}; it reported:\n{problems}"
    assert not clean.problems, clean.problems


def _vega_page(folder: Path, figures: dict[str, str], extra: str = "") -> None:
    """A page with the book's Vega scripts (rnncourse.interactive) and ``figures``: id -> the
    HTML of a ``div.rnn-vega``, each in a ``<figure id>`` as MyST-NB writes it."""
    from rnncourse import interactive

    shutil.copytree(interactive.STATIC / "vega", folder / "vega", dirs_exist_ok=True)
    scripts = "".join(f'<script src="{s}"></script>' for s in interactive.SCRIPTS)
    scripts += f'<link rel="stylesheet" href="{interactive.STYLE}">'
    body = "".join(f'<figure id="{name}">{html}</figure>' for name, html in figures.items())
    (folder / "vega.html").write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8">'
                                      f'<title>figures</title>{scripts}</head><body>'
                                      f'<article class="bd-article">{body}{extra}</article>'
                                      '</body></html>', encoding="utf-8")


def test_interactive_figures_are_drawn_reachable_and_move(chromium, tmp_path):
    """One good figure passes (and counts as drawn), over a grid whose step has a float error
    (0.5 to 1.5 in 20 steps: 0.05000000000000004, which rnnlab.explore rounds); a spec Vega
    refuses, an empty box, a slider that moves nothing, a slider that cannot reach the grid's
    end (a step that does not divide the range) and a request to another host are each
    reported by name."""
    from rnncourse.interactive import figure_html
    from rnnlab.explore import slider_figure

    lags = np.arange(6)
    good = slider_figure({k: {"r": (lags, k ** lags)} for k in np.linspace(0.5, 1.5, 21)},
                         knob="rho", x="lag", y="r", alt="r against lag; a slider sets rho")
    frozen = good.spec()
    for layer in frozen["layer"]:
        layer["transform"] = [{"filter": "datum.k == 1"}]          # the knob moves nothing
    stuck = good.spec()
    stuck["params"][0]["bind"]["step"] = 0.05 + 1e-12             # 1.5 is off its steps
    broken = {**good.spec(), "layer": [{"mark": "no-such-mark"}]}
    figures = {"fig-good": figure_html(good.spec()), "fig-frozen": figure_html(frozen),
               "fig-stuck": figure_html(stuck), "fig-broken": figure_html(broken),
               "fig-empty": '<div class="rnn-vega" role="figure" aria-label="x"></div>'}
    _vega_page(tmp_path, figures, extra='<img alt="remote" src="https://example.com/a.png">')
    expect = Expect(figures=list(figures))
    with chromium.site(tmp_path) as s:
        report = s.check("vega.html", expect)
    text = "\n".join(report.problems)
    for needle in ["interactive figure fig-frozen: moving its slider from 1 to 1.5 does "
                   "not change what is drawn",
                   "interactive figure fig-stuck: its slider cannot reach 1.5 (it stops at 1.4",
                   "interactive figure fig-broken is not drawn (data-drawn: failed)",
                   "interactive figure fig-empty is not drawn (data-drawn: not drawn)",
                   "figure fig-empty of the source has no image or drawn interactive figure",
                   "request: leaves the machine (blocked): https://example.com/a.png"]:
        assert needle in text, f"the check missed {needle!r}; it reported:\n{text}"
    assert "fig-good" not in text and "figure fig-frozen of the source" not in text, text
    assert report.interactive == 1, report
    assert report.weight > sum(f.stat().st_size for f in (tmp_path / "vega").glob("*.js")), \
        report.weight


OVERFLOW_PAGE = r"""<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>wide</title><style>
body { margin: 0; }
article.bd-article { width: calc(100vw - 40px); max-width: 700px; margin: 20px; }
.clip { overflow: hidden; } .scroll { overflow-x: auto; }
.drawn::-webkit-scrollbar { height: 8px; } .drawn::-webkit-scrollbar-thumb { background: #888; }
td { white-space: nowrap; } pre { margin: 0; }
</style></head><body><article class="bd-article">
<div class="clip"><table><caption>clipped table</caption><tr><td><div style="width: 900px">x
</div></td></tr></table></div>
<div class="scroll drawn"><table><caption>scrolling table</caption><tr>
<td><div style="width: 900px">x</div></td></tr></table></div>
<div class="highlight scroll"><pre>overlay scrollbar code """ + "x" * 150 + r"""</pre></div>
<div class="cell_output"><pre style="overflow: visible">spilling output """ + "y" * 150 + r"""
</pre></div>
<img alt="wide figure" style="width: 500px; height: 20px; display: block"
 src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==">
<img alt="fitting figure" style="width: 200px; height: 20px; display: block"
 src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==">
</article></body></html>"""


def test_overflow_check_names_page_element_and_widths(chromium, tmp_path):
    """Clipped, overlay-scrolled and spilling content is reported; what fits or scrolls with
    a drawn scrollbar is not; a figure that only a phone's width cuts off, only there."""
    (tmp_path / "wide.html").write_text(OVERFLOW_PAGE)
    with chromium.site(tmp_path) as s:
        problems = s.check("wide.html").problems
    cut = [p for p in problems if p.startswith("cut off")]
    text = "\n".join(problems)
    assert len(cut) == len(problems) == 4, text

    def about(element):
        [problem] = [p for p in cut if f": {element}" in p]
        return problem

    clipped, code = about('table "clipped table"'), about('code "overlay scrollbar code xx')
    spill, figure = about('cell output "spilling output yy'), about('image "wide figure"')
    for problem in cut:
        assert problem.startswith("cut off on wide.html: "), problem
        assert "(widths checked: 1366 px and 390 px)" in problem, problem
    assert "hides what does not fit" in clipped and "at window width 1366 px (" in clipped
    assert "which scrolls but shows no scrollbar" in code
    assert "wider than the text column, which sticks out of it" in spill
    assert "at window width 390 px (" in figure and "1366 px (" not in figure, figure


PDF_PAGE = """<!DOCTYPE html><html data-content_root="./"><head><meta charset="utf-8">
<title>pdf</title><script src="pdf-download.js"></script></head><body>
<div class="dropdown dropdown-download-buttons"><ul class="dropdown-menu">
<li><a href="page.md">.md</a></li></ul></div></body></html>"""


def test_download_button_offers_the_book_pdf_once_it_is_built(chromium, tmp_path):
    """_static/pdf-download.js adds the whole book's PDF to the download button, only when
    `make pdf` has put book.pdf beside the pages; before that, no entry and no error."""
    shutil.copy(ROOT / "_static" / "pdf-download.js", tmp_path)
    (tmp_path / "page.html").write_text(PDF_PAGE)
    (tmp_path / "page.md").write_text("x")
    entry = ".dropdown-download-buttons a[href='./book.pdf']"
    with chromium.site(tmp_path) as s:
        report = s.check("page.html")
        assert not report.problems, report.problems
        assert any(i.startswith("no-pdf-yet") for i in report.ignored), report.ignored
        assert s.page.locator(entry).count() == 0
        (tmp_path / "book.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
        s.page.reload()
        s.page.wait_for_selector(entry, state="attached", timeout=5_000)
        assert "book .pdf" in s.page.locator(entry).inner_text()


def test_thebe_live_code_points_at_the_binder_environment(book):
    """The Live Code button and its configuration: Binder, this repository and branch."""
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["launch_buttons"].get("thebe") is True
    repo = re.sub(r"^https://github\.com/|/$", "", cfg["repository"]["url"])
    html = (book / "chapters" / "01_recurrent_networks.html").read_text(encoding="utf-8")
    assert "initThebeSBT()" in html and "launch-thebe" in html, "no Live Code button"
    config = re.search(r'<script type="text/x-thebe-config">(.*?)</script>', html, re.S)
    assert config, "no thebe configuration in the page"
    assert f'repo: "{repo}"' in config.group(1), config.group(1)
    assert f'ref: "{cfg["repository"]["branch"]}"' in config.group(1), config.group(1)
    assert (ROOT / "binder" / "requirements.txt").is_file(), "Binder builds binder/"


def test_expectations_count_math_and_solutions(tmp_path):
    md = tmp_path / "page.md"
    md.write_text("Text $a+b$ and\n\n$$\nx\n$$ (eq-1)\n\n```python\nprint('$$ not math $$')\n```\n"
                  "`$inline code$`\n```{solution-start} ex-02-1\n:class: dropdown\n```\n")
    e = expectations(md)
    assert (e.display_math, e.inline_math, e.solutions) == (1, True, ["ex-02-1"])
    md.write_text("Costs nothing. No math here, only `code $x$`.\n")
    assert expectations(md) == Expect()
    nb = tmp_path / "page.ipynb"
    nb.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# T\n", "$x$"]},
        {"cell_type": "code", "metadata": {"mystnb": {"figure": {"name": "fig-09-a"}}},
         "source": "plt.show()", "outputs": [], "execution_count": None}]}))
    e = expectations(nb)
    assert (e.inline_math, e.figures) == (True, ["fig-09-a"])
