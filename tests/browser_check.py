"""Open the built book in headless Chromium and check each page as a reader sees it (issue 8).

Used by ``tests/test_browser.py``; also runnable by hand on any built book::

    python tests/browser_check.py [BOOK_ROOT]    # checks BOOK_ROOT/_build/html page by page

The driver is Playwright for Python pointed at the system Chromium (Debian's ``chromium``
package): nothing is downloaded. One browser serves all pages, which are opened in sequence
from a local ``http.server`` on 127.0.0.1. Requests to any other host are aborted, so the
book is checked as it behaves offline (MathJax must come from the build itself).

For every page, :meth:`Site.check` reports as problems:

* console errors and uncaught page errors, except the ones listed in :data:`IGNORED`;
* requests to the local server that fail or answer 4xx/5xx (apart from those in
  :data:`EXPECTED_MISSING`);
* images that did not load (``naturalWidth == 0``), and figures named in a notebook's cell
  metadata (``mystnb.figure.name``) that are not on the page with a loaded image or a drawn
  interactive figure;
* interactive figures (issue 26, :mod:`rnncourse.interactive`): every ``div.rnn-vega`` must be
  drawn (``data-drawn="yes"``, an SVG with line paths), its slider must reach both ends of the
  knob's grid, and moving it (value set, ``input`` and ``change`` dispatched, as a drag does)
  must change the drawn paths;
* any request that leaves 127.0.0.1 (it is aborted, and the page must not need it);
* images without an alt text, or with a file name as one (what MyST-NB writes for a figure
  cell without ``mystnb.image.alt``), which a screen reader would read out;
* math not typeset: a ``.math`` element without MathJax output, a MathJax error, fewer display
  equations than the source has ``$$`` blocks, inline math in the source but none on the page,
  or raw ``\\(``, ``\\[``, ``$$``, ``$...$`` or ``\\begin{`` left in the visible text outside
  code (for instance math in a Markdown output rendered without MyST);
* a Markdown table shown as raw ``| --- |`` text (an output rendered as CommonMark);
* rendered errors: traceback, error or stderr outputs, ``Traceback (most recent call last)``,
  Python warnings or tqdm bars in cell outputs (cells tagged ``raises-exception`` may show
  their exception on purpose and are exempt);
* exercises: a solution dropdown per exercise of the source, each hidden at first and
  visible after a click on its toggle button;
* internal links whose page or ``#fragment`` does not exist in the build;
* content cut off (issue 13): at each window width of :data:`WIDTHS` (a laptop's and a
  phone's), any display equation, table, code block, cell output, figure or image of the text
  column whose content is wider than the room it has, with no scrollbar to reach the rest:
  clipped by an ancestor that hides overflow, or sticking out of the text column (over the
  margin or off the screen). Every ``<details>`` and solution is open while this is measured.
* a word twice in a row in the prose ("Exercise Exercise 1.4": the text named what a
  reference renders by itself), math, code and outputs each counting as a word between.

Each report also carries the page's weight (bytes of all responses, :data:`js.JS_WEIGHT`) and
its number of interactive figures drawn; ``main`` and tests/test_browser.py print them.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import socketserver
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import browser_js as js
from page_sources import Expect, expectations

#: Console messages and page errors that are not faults of the book, each with its reason.
IGNORED = {
    # Chromium asks every site for /favicon.ico; the book has no favicon and needs none.
    "favicon": re.compile(r"favicon\.ico"),
    # Every request that leaves 127.0.0.1 is aborted (the check is offline on purpose) and
    # Chromium logs each one; the pages must work without them, which the other checks verify.
    "offline": re.compile(r"net::ERR_BLOCKED_BY_CLIENT"),
    # sphinx-thebe 0.3.1 adds its inline configuration script while the documents are read;
    # Sphinx 7.4 then writes that script twice into every page, and the second copy fails to
    # re-declare a `const`. The first copy has already defined it, so the launch button's
    # thebe still works (a framework bug, not something the course can fix in its files).
    "thebe-twice": re.compile(r"^Identifier 'THEBE_JS_URL' has already been declared$"),
    # _static/pdf-download.js asks whether the book's PDF is there (only `make pdf` makes it)
    # before it offers it in the download button; without it the answer is a 404.
    "no-pdf-yet": re.compile(r"status of 404 .*\[\S*/book\.pdf\]$"),
}
#: Requests whose failure is expected, each with its reason (see IGNORED).
EXPECTED_MISSING = ("/favicon.ico", "/book.pdf")

#: Window widths (CSS px) at which nothing may be cut off: a common laptop's, then a phone's.
#: The first is also the width of the screenshots.
WIDTHS = (1366, 390)
WINDOW_HEIGHT = 900

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def find_chromium() -> str | None:
    """Path of the system Chromium: ``$CHROMIUM``, else the first of the usual names on PATH."""
    if os.environ.get("CHROMIUM"):
        path = os.environ["CHROMIUM"]
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


# ---------------------------------------------------------------- the local web server
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def serve(directory: Path) -> tuple[_Server, str]:
    """Serve ``directory`` on 127.0.0.1 at a free port; return the server and its base URL."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


#: An interactive figure narrower than this has no room for its plot (what a "container" width
#: gives in JupyterLab's output area: 174 px, axes and no curves).
MIN_FIGURE_WIDTH = 300


def vega_problems(fig: dict) -> list[str]:
    """What is wrong with one interactive figure, as :data:`js.JS_VEGA` found it (shared with
    tests/lab_check.py)."""
    name = f"interactive figure {fig['name']}"
    if fig["drawn"] != "yes":
        return [f"{name} is not drawn (data-drawn: {fig['drawn']})"]
    if not fig["lines"]:
        return [f"{name} is drawn with no line in its SVG"]
    if fig.get("width", MIN_FIGURE_WIDTH) < MIN_FIGURE_WIDTH:
        return [f"{name} is drawn {fig['width']} px wide, too narrow to show its curves (a "
                "'container' width where the container has no width?)"]
    if fig["slider"] is None:
        return [f"{name} has no slider"]
    s, problems = fig["slider"], []
    problems += [f"{name}: its slider cannot reach {end} (it stops at {got}: the step "
                 f"{s['step']} does not divide the range {s['min']}..{s['max']})"
                 for end, got in fig["ends"]]
    if not fig["moved"]:
        problems.append(f"{name}: moving its slider from {s['start']} to {fig['to']} does not "
                        "change what is drawn")
    return problems


# ---------------------------------------------------------------- the browser session
@dataclass
class PageReport:
    page: str
    problems: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    weight: int = 0          # bytes of all responses the page received
    responses: int = 0
    interactive: int = 0     # interactive figures drawn and moved without a fault


class Chromium:
    """One headless Chromium driven by Playwright (a context manager); opens :class:`Site` s.

    Playwright's synchronous API allows one running instance per thread, so a test session
    starts one of these and checks every site with it.
    """

    def __init__(self, executable: str):
        self.executable = executable

    def __enter__(self):
        from playwright.sync_api import sync_playwright
        self._pw = sync_playwright().start()
        try:
            # Playwright hides scrollbars by default; the overflow check needs them drawn.
            self.browser = self._pw.chromium.launch(executable_path=self.executable,
                                                    headless=True, args=CHROMIUM_ARGS,
                                                    ignore_default_args=["--hide-scrollbars"])
        except Exception:
            self._pw.stop()
            raise
        return self

    def __exit__(self, *exc):
        for closer in (self.browser.close, self._pw.stop):
            try:
                closer()
            except Exception:  # pragma: no cover - best effort on teardown
                pass

    def site(self, html_dir: Path, screenshots: Path | None = None) -> Site:
        return Site(self.browser, html_dir, screenshots)


class Site:
    """A built site served on 127.0.0.1 and one browser tab on it (a context manager)."""

    def __init__(self, browser, html_dir: Path, screenshots: Path | None = None,
                 widths=WIDTHS, height=WINDOW_HEIGHT):
        self._browser = browser
        self.html_dir = Path(html_dir)
        self.screenshots = screenshots
        self.widths, self.height = tuple(widths), height
        self._static_ids: dict[Path, set[str]] = {}
        self.blocked: set[str] = set()   # hosts the pages tried to reach (aborted: offline)
        self._overlay_page = None        # the phone-like tab of the overflow check

    def __enter__(self):
        self.server, self.base = serve(self.html_dir)
        self._context = self._browser.new_context(
            viewport={"width": self.widths[0], "height": self.height})
        self._context.route("**/*", self._offline)
        self.page = self._context.new_page()
        self.page.set_default_timeout(30_000)
        self._events: list[tuple[str, str]] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda e: self._events.append(("pageerror", str(e))))
        self.page.on("requestfailed", lambda r: self._on_failed(r.url, r.failure or "failed"))
        self.page.on("response", lambda r: r.status >= 400 and self._on_failed(r.url, r.status))
        return self

    def __exit__(self, *exc):
        closers = [self._context.close, self.server.shutdown, self.server.server_close]
        if self._overlay_page is not None:
            closers.insert(0, self._overlay_context.close)
        for closer in closers:
            try:
                closer()
            except Exception:  # pragma: no cover - best effort on teardown
                pass

    # event handlers ----------------------------------------------------------------------
    def _offline(self, route):
        if route.request.url.startswith(self.base) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            self.blocked.add(urlsplit(route.request.url).netloc)
            self._events.append(("request", f"leaves the machine (blocked): "
                                            f"{route.request.url[:120]}"))
            route.abort("blockedbyclient")

    def _on_console(self, msg):
        if msg.type == "error":
            where = (msg.location or {}).get("url", "")
            self._events.append(("console", f"{msg.text} [{where}]"))

    def _on_failed(self, url, why):
        if url.startswith(self.base) and not url.endswith(EXPECTED_MISSING):
            self._events.append(("request", f"{url[len(self.base):]}: {why}"))

    # checks -----------------------------------------------------------------------------
    def check(self, rel: str, expect: Expect | None = None, screenshot_name: str | None = None,
              *, overflow: bool = True) -> PageReport:
        """Open ``rel`` (a path under the html folder) and return what is wrong with it
        (``overflow=False``: without the check at a phone's width, which loads the page again)."""
        report, expect = PageReport(rel), expect or Expect()
        self._events.clear()
        self.page.goto(self.base + rel, wait_until="load")
        math_state = self.page.evaluate(js.JS_WAIT_MATH)
        if math_state not in ("no math", "typeset"):
            report.problems.append(f"math: {math_state}")
        for src in self.page.evaluate(js.JS_IMAGES):
            report.problems.append(f"image did not load: {src}")
        self._check_interactive(report)
        for name in expect.figures:
            if not self.page.evaluate(js.JS_FIGURE, name):
                report.problems.append(f"figure {name} of the source has no image or drawn "
                                       "interactive figure on the page (was the notebook run "
                                       "with MPLBACKEND=Agg?)")
        weight = self.page.evaluate(js.JS_WEIGHT)
        report.weight, report.responses = weight["bytes"], weight["responses"]
        info = self.page.evaluate(js.JS_INSPECT)
        self._check_math(info, expect, report)
        if info["badOutputs"]:
            report.problems.append(f"{info['badOutputs']} traceback/error/stderr "
                                   "output(s) rendered")
        report.problems += [f"error or debris in an output: {d!r}" for d in info["debris"]]
        report.problems += [f"a word twice in a row: {d!r}" for d in info["doubled"]]
        report.problems += [f"image with no alt text for a screen reader: {src}"
                            for src in info["noAlt"]]
        self._check_links(rel, info, report)
        if self.screenshots is not None and screenshot_name:
            self.screenshots.mkdir(parents=True, exist_ok=True)
            report.screenshot = self.screenshots / f"{screenshot_name}.png"
            self.page.screenshot(path=str(report.screenshot), full_page=True)
        self._check_solutions(expect, report)
        if overflow:
            self._check_overflow(report)
        self.page.wait_for_timeout(50)  # let late console messages arrive
        self._sort_events(report)
        return report

    def _check_interactive(self, report: PageReport):
        """Every interactive figure drawn, its slider's ends reachable, a move redrawn."""
        for fig in self.page.evaluate(js.JS_VEGA, {"selector": "div.rnn-vega", "wait": 20_000,
                                                 "marked": True}):
            problems = vega_problems(fig)
            report.problems += problems
            report.interactive += not problems

    def _check_math(self, info, expect: Expect, report: PageReport):
        p = report.problems
        p += [f"math not typeset: {t!r}" for t in info["untypeset"]]
        p += [f"MathJax error: {t!r}" for t in info["mathErrors"]]
        p += [f"raw LaTeX in the visible text: {t!r}" for t in info["raw"]]
        p += [f"a Markdown table shown as raw text: {t!r}" for t in info["rawTables"]]
        if info["displayMath"] < expect.display_math:
            p.append(f"the source has {expect.display_math} $$ blocks, the page only "
                     f"{info['displayMath']} display equations")
        if expect.inline_math and not info["inlineMath"]:
            p.append("the source has inline $...$ math, the page none")

    def _check_overflow(self, report: PageReport):
        """Content wider than its room and no scrollbar to reach it, at each width (issue 13).

        Measured in a tab that emulates a phone's browser (mobile, touch), at every width:
        there, as on phones and on macOS by default, an ordinary scrollbar is an overlay that
        appears only while scrolling, so a box that scrolls looks cut off. A box passes if
        its content fits, or if it scrolls with a scrollbar that is always drawn.
        """
        if self._overlay_page is None:
            self._overlay_context = self._browser.new_context(
                viewport={"width": self.widths[0], "height": self.height},
                is_mobile=True, has_touch=True, device_scale_factor=1)
            self._overlay_context.route("**/*", self._offline)
            self._overlay_page = self._overlay_context.new_page()
            self._overlay_page.set_default_timeout(30_000)
        page, seen = self._overlay_page, {}
        page.set_viewport_size({"width": self.widths[0], "height": self.height})
        page.goto(self.base + report.page, wait_until="load")
        page.evaluate(js.JS_WAIT_MATH)
        for width in self.widths:
            page.set_viewport_size({"width": width, "height": self.height})
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                          "requestAnimationFrame(r)))")   # let the new layout settle
            for item in page.evaluate(js.JS_OVERFLOW):
                entry = seen.setdefault((item["index"], item["by"]), {**item, "at": []})
                entry["at"].append(f"{width} px ({item['width']} px of content in "
                                   f"{item['room']} px)")
        checked = " and ".join(f"{w} px" for w in self.widths)
        for e in seen.values():
            report.problems.append(
                f"cut off on {report.page}: {e['what']} is wider than {e['by']}, which "
                f"{e['how']}, at window width {'; '.join(e['at'])} (widths checked: {checked})")

    def _check_solutions(self, expect: Expect, report: PageReport):
        boxes = self.page.locator("div.solution")
        n = boxes.count()
        if n != len(expect.solutions):
            report.problems.append(f"{len(expect.solutions)} solutions in the source, "
                                   f"{n} on the page")
        for k in range(n):
            box = boxes.nth(k)
            name = box.get_attribute("id") or f"solution {k + 1}"
            if "dropdown" not in (box.get_attribute("class") or "").split():
                report.problems.append(f"{name} is not a dropdown (its answer is not gated)")
                continue
            if box.evaluate(js.JS_SOLUTION_STATE):
                report.problems.append(f"{name} is open before any click")
            button = box.locator("button.toggle-button").first
            if not button.count():
                report.problems.append(f"{name} has no toggle button")
                continue
            button.scroll_into_view_if_needed()
            button.click()
            try:
                self.page.wait_for_function(js.JS_SOLUTION_STATE, arg=box.element_handle(),
                                            timeout=3_000)
            except Exception:
                report.problems.append(f"{name} does not open on click")

    def _check_links(self, rel: str, info, report: PageReport):
        here = (self.html_dir / rel).resolve()
        seen = set()
        for href in info["links"]:
            if not href.startswith(self.base) or href in seen:
                continue
            seen.add(href)
            parts = urlsplit(href)
            path = unquote(parts.path)[len(urlsplit(self.base).path):]
            target = self.html_dir / path
            if not path or path.endswith("/"):
                target = target / "index.html"
            if not target.is_file():
                report.problems.append(f"link to a missing page: {path or '/'}")
                continue
            frag = unquote(parts.fragment)
            if not frag or target.suffix != ".html":
                continue
            ids = set(info["ids"]) if target.resolve() == here else self._ids_of(target)
            if frag not in ids:
                report.problems.append(f"link to a missing anchor: {path}#{frag}")

    def _ids_of(self, target: Path) -> set[str]:
        if target not in self._static_ids:
            html = target.read_text(encoding="utf-8", errors="replace")
            self._static_ids[target] = set(re.findall(r'\b(?:id|name)="([^"]+)"', html))
        return self._static_ids[target]

    def _sort_events(self, report: PageReport):
        for kind, text in dict.fromkeys(self._events):   # once each (the page loads twice)
            reason = next((r for r, pat in IGNORED.items()
                           if kind in ("console", "pageerror") and pat.search(text)), None)
            if reason:
                report.ignored.append(f"{reason}: {text}")
            else:
                report.problems.append(f"{kind}: {text}")


def main(argv=None) -> int:  # pragma: no cover - manual use
    root = Path((argv or sys.argv[1:] or ["."])[0]).resolve()
    html = root / "_build" / "html"
    chromium = find_chromium()
    if chromium is None:
        print("no Chromium found (install Debian's chromium or set $CHROMIUM)")
        return 2
    pages = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                   if p.name not in ("genindex.html", "search.html", "index.html")
                   and not p.relative_to(html).parts[0].startswith("_"))
    bad = 0
    with Chromium(chromium) as c, c.site(html, root / "_build" / "screenshots") as b:
        for rel in pages:
            src = [(root / rel).with_suffix(s) for s in (".ipynb", ".md")
                   if (root / rel).with_suffix(s).exists()]
            r = b.check(rel, expectations(src[0]) if src else None, rel[:-5].replace("/", "_"))
            bad += bool(r.problems)
            print(("FAIL " if r.problems else "ok   ") + rel
                  + f"  ({r.weight / 1e6:.2f} MB in {r.responses} responses, "
                  f"{r.interactive} interactive figures)", *r.problems,
                  *(f"(ignored) {i}" for i in r.ignored), sep="\n    ")
        print("hosts blocked (offline):", sorted(b.blocked) or "none")
    return 1 if bad else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
