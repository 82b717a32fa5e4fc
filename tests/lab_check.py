"""Open executed notebooks in JupyterLab, in headless Chromium, and read them as a learner sees
them (issue 23).

Used by ``tests/test_lab.py`` and by tests/test_learner.py (on the executed learner notebooks
in ``_build/learner-run``); also runnable by hand::

    python tests/lab_check.py FOLDER NB.ipynb ...     # prints each notebook's problems

:func:`lab_server` starts JupyterLab (the ``jupyter-lab`` beside this Python) on 127.0.0.1 at
a free port, with no token, ``--no-browser`` (and ``--allow-root`` as root), its root the
given folder, and its settings, workspaces and runtime files in a temporary folder: notebooks
are shown whole (``windowingMode: none``, so every cell is in the page), and JupyterLab asks
for no news and no update. The browser is :class:`browser_check.Chromium`, with the same
launch flags; every request that leaves 127.0.0.1 is aborted and reported.

:func:`check_folder` opens each notebook in a fresh JupyterLab tab, waits for its cells to
render, and reports as problems:

* MyST left in the rendered Markdown: a role (``{numref}``, ``{eq}``, ``{cite}``, ...), a
  directive fence (```` ```{exercise} ````, ``:::{note}``), a ``(label)=`` target;
* math not typeset: ``$$``, ``$...$``, ``\\(``, ``\\[`` or ``\\begin{`` left in the visible
  text outside code;
* images: an image output not shown (``naturalWidth`` 0 or not visible), or fewer images on
  the page than the notebook has image outputs (outputs that also carry a Vega-Lite spec are
  drawn as Vega, not as their PNG);
* a figure cell (``mystnb.figure`` in its metadata) with no image or Vega-Lite output in the
  notebook (executed with ``MPLBACKEND=Agg``, every figure vanishes), or whose next cell is
  not a Markdown cell showing its number ("Fig. N.M");
* Vega-Lite outputs (``application/vnd.vegalite.v5+json``, drawn by JupyterLab's own Vega
  renderer): not drawn, fewer than in the notebook, a slider that cannot reach the grid's
  ends or that changes nothing when moved (:data:`browser_js.JS_VEGA`, shared with the book's
  check);
* uncaught errors of the page and requests that leave the machine.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import browser_check as bc
import browser_js as js

VEGALITE_MIME = "application/vnd.vegalite.v5+json"
#: The output boxes of Vega-Lite figures in the notebook that is shown.
VEGA_SELECTOR = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output.jp-RenderedVegaLite"
#: JupyterLab's settings for the check (user settings, one file per plugin).
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}
STARTUP_S = 120
#: The MyST renderer for JupyterLab (its labextension's name).
MYST_EXTENSION = "jupyterlab-myst"

#: MyST that a CommonMark renderer leaves as text (roles, directive fences, label targets).
RAW_MYST = {
    "a MyST role": re.compile(r"\{(?:numref|eq|ref|doc|cite(?::\w+)?|glue(?::\w+)?|term|"
                              r"download|abbr|math|prf:\w+)\}"),
    "a directive fence": re.compile(r"(?m)^\s*(?:`{3,}|:{3,})\{[\w:-]+\}"),
    "a (label)= target": re.compile(r"(?<![\w(])\([A-Za-z][\w.:-]*\)=(?!=)"),
}
RAW_MATH = re.compile(r"\$\$|\\\(|\\\[|\\begin\{|\$[^$\s][^$\n]*[^$\s\\]\$|\$[^$\s]\$")
FIG_NUMBER = re.compile(r"\bFig\. \d+\.\d+\b")

# ---------------------------------------------------------------- what the notebook holds
def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def expected_cells(nb: dict) -> list[dict]:
    """Per cell: its kind, its image outputs and Vega-Lite outputs, whether it is a figure."""
    cells = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {})
        hidden = meta.get("jupyter", {}).get("outputs_hidden", False)
        outputs = [o.get("data", {}) for o in cell.get("outputs", [])
                   if o.get("output_type") in ("display_data", "execute_result")]
        cells.append({
            "kind": cell["cell_type"],
            "images": 0 if hidden else sum(
                any(m.startswith("image/") for m in d) and VEGALITE_MIME not in d
                for d in outputs),
            "vega": 0 if hidden else sum(VEGALITE_MIME in d for d in outputs),
            "figure": meta.get("mystnb", {}).get("figure", {}).get("name"),
            "text": cell["cell_type"] == "markdown" and bool(_source(cell).strip()),
        })
    return cells


def cell_problems(where: str, want: dict, got: dict, caption: dict | None) -> list[str]:
    """What is wrong with one rendered cell (``got``, from :data:`js.JS_LAB_CELLS`) against the
    notebook (``want``, from :func:`expected_cells`); ``caption`` is the next cell shown."""
    problems = []
    if want["kind"] != got["kind"]:
        return [f"{where}: a {want['kind']} cell is shown as a {got['kind']} cell"]
    if want["kind"] == "markdown":
        if not got["rendered"]:
            return [f"{where}: Markdown not rendered"]
        for what, pattern in RAW_MYST.items():
            problems += [f"{where}: {what} left as text: {_around(got['text'], m)!r}"
                         for m in pattern.finditer(got["text"])]
        problems += [f"{where}: a directive fence shown as a code block: ```{f}"
                     for f in got["fences"]]
        problems += [f"{where}: math not typeset: {_around(got['prose'], m)!r}"
                     for m in RAW_MATH.finditer(got["prose"])]
    shown = sum(i["shown"] for i in got["images"])
    if shown < want["images"]:
        problems.append(f"{where}: {want['images']} image output(s) in the notebook, {shown} "
                        "shown" + "".join(f"; not shown: {i['src']}..." for i in got["images"]
                                          if not i["shown"]))
    if got["vega"] < want["vega"]:
        problems.append(f"{where}: {want['vega']} Vega-Lite output(s) in the notebook, "
                        f"{got['vega']} on the page")
    if want["figure"] and not want["images"] + want["vega"]:
        problems.append(f"{where}: figure {want['figure']} has no image or Vega-Lite output in "
                        "the notebook (was it executed with MPLBACKEND=Agg?)")
    if want["figure"] and not (caption and caption["kind"] == "markdown"
                               and FIG_NUMBER.search(caption["text"])):
        problems.append(f"{where}: figure {want['figure']} has no caption with its number "
                        "(\"Fig. N.M\") in the Markdown cell under it")
    return problems


def _around(text: str, m: re.Match) -> str:
    return text[max(0, m.start() - 30):m.end() + 30].replace("\n", " ").strip()


# ---------------------------------------------------------------- the JupyterLab server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def lab_server(root: Path, myst: bool = False):
    """JupyterLab serving ``root`` on 127.0.0.1 (a context manager); its base URL.

    The MyST renderer ``jupyterlab-myst`` (in the lab environment, requirements-lab.txt) is
    disabled unless ``myst``: the learner edition must read well in a plain JupyterLab, as in
    Colab or VS Code, which render CommonMark only."""
    lab = Path(sys.executable).with_name("jupyter-lab")
    with tempfile.TemporaryDirectory(prefix="lab-check-") as tmp:
        tmp = Path(tmp)
        files = {**{Path("settings") / n: v for n, v in SETTINGS.items()},
                 Path("config") / "labconfig" / "page_config.json":
                     {"disabledExtensions": {MYST_EXTENSION: not myst}}}
        for name, value in files.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_text(json.dumps(value))
        env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
               "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
               "JUPYTER_CONFIG_DIR": str(tmp / "config")}
        port = _free_port()
        args = [str(lab), "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                "--ServerApp.port_retries=0", "--IdentityProvider.token=",
                "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
                f"--ServerApp.root_dir={root}",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.news_url=None"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")
        log = open(tmp / "server.log", "w+")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
        base = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + STARTUP_S
            while True:
                try:
                    with urllib.request.urlopen(base + "api/status", timeout=5):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(f"JupyterLab did not start ({' '.join(args)}):\n"
                                           + log.read()[-2000:]) from None
                    time.sleep(0.5)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:   # pragma: no cover
                proc.kill()
                proc.wait()
            log.close()


def _end_sessions(base: str) -> None:
    """Shut down the kernels that opening notebooks started."""
    with urllib.request.urlopen(base + "api/sessions", timeout=10) as r:
        sessions = json.loads(r.read())
    for s in sessions:
        req = urllib.request.Request(base + f"api/sessions/{s['id']}", method="DELETE")
        urllib.request.urlopen(req, timeout=20).close()


# ---------------------------------------------------------------- the check
class Lab:
    """One JupyterLab server on ``folder`` and a browser context on it (a context manager)."""

    def __init__(self, chromium: bc.Chromium, folder: Path, myst: bool = False):
        self._chromium, self.folder, self.myst = chromium, Path(folder), myst

    def __enter__(self):
        self._server = lab_server(self.folder, self.myst)
        self.base = self._server.__enter__()
        self._context = self._chromium.browser.new_context(
            viewport={"width": bc.WIDTHS[0], "height": bc.WINDOW_HEIGHT})
        self._context.route("**/*", self._offline)
        self._events: list[str] = []
        return self

    def __exit__(self, *exc):
        for closer in (self._context.close, lambda: self._server.__exit__(None, None, None)):
            try:
                closer()
            except Exception:  # pragma: no cover - best effort on teardown
                pass

    def _offline(self, route):
        url = route.request.url
        if url.startswith(self.base) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self._events.append(f"a request leaves the machine (blocked): {url[:120]}")
            route.abort("blockedbyclient")

    def check(self, name: str, timeout_s: float = 60) -> list[str]:
        """Open ``name`` (a notebook under the folder) in a new tab; what is wrong with it."""
        path = self.folder / name
        if not path.is_file():
            return [f"{name}: no such notebook in {self.folder}"]
        want = expected_cells(json.loads(path.read_text(encoding="utf-8")))
        self._events.clear()
        page = self._context.new_page()
        page.set_default_timeout(timeout_s * 1000)
        page.on("pageerror", lambda e: self._events.append(f"uncaught error: {e}"))
        try:
            page.goto(f"{self.base}lab/tree/{quote(name)}?reset", wait_until="load")
            texts = [i for i, w in enumerate(want) if w["text"]]
            try:
                page.wait_for_function(js.JS_LAB_READY, arg=[len(want), texts])
            except Exception:
                return [f"{name}: JupyterLab did not show its {len(want)} cells, their "
                        f"Markdown rendered, within {timeout_s:g} s"]
            page.evaluate(js.JS_IMAGES)
            got = self._rendered(page)
            problems = [] if len(got) == len(want) else [
                f"{name}: {len(want)} cells in the notebook, {len(got)} shown"]
            for i, (w, g) in enumerate(zip(want, got)):
                nxt = got[i + 1] if i + 1 < len(got) else None
                problems += cell_problems(f"{name} cell {i + 1}", w, g, nxt)
            for k, fig in enumerate(page.evaluate(js.JS_VEGA, {
                    "selector": VEGA_SELECTOR, "wait": 20_000, "marked": False})):
                fig["name"] = f"{k + 1} of {name}"
                problems += bc.vega_problems(fig)
            page.wait_for_timeout(50)
            return problems + [f"{name}: {e}" for e in dict.fromkeys(self._events)]
        finally:
            page.close()
            _end_sessions(self.base)

    @staticmethod
    def _rendered(page, settle_s: float = 10) -> list[dict]:
        """The cells as shown, once MathJax is done: no raw math left, or ``settle_s`` passed
        (a loaded machine may take seconds to load MathJax; only a fault waits that long)."""
        deadline = time.monotonic() + settle_s
        while True:
            got = page.evaluate(js.JS_LAB_CELLS) or []
            if not any(RAW_MATH.search(c["prose"]) for c in got) or time.monotonic() > deadline:
                return got
            page.wait_for_timeout(250)


ROLE = re.compile(r"\{(numref|eq|ref|cite(?::\w+)?)\}`(?:[^`<]*<)?([^`>]+)>?`")


def myst_installed() -> bool:
    """Whether JupyterLab here finds the jupyterlab-myst extension (its labextensions path)."""
    from jupyter_core.paths import jupyter_path
    return any((Path(d) / MYST_EXTENSION).is_dir() for d in jupyter_path("labextensions"))


def myst_roles(folder: Path, name: str) -> dict[str, dict]:
    """Open ``name`` (a MyST notebook of ``folder``, the authors' chapters) in JupyterLab with
    jupyterlab-myst; per role kind of its Markdown (numref, eq, ref, cite, cite:t), how many
    ``linked`` (rendered as a link to ``#label``), out of ``total``, and the labels not linked,
    with the problems :meth:`Lab.check` finds (raw MyST, untypeset math, ...)."""
    source = json.loads((Path(folder) / name).read_text(encoding="utf-8"))
    roles = [m.groups() for c in source["cells"] if c["cell_type"] == "markdown"
             for m in ROLE.finditer(_source(c))]
    chromium = bc.find_chromium()
    if chromium is None:
        raise RuntimeError("no Chromium found (install Debian's chromium or set $CHROMIUM)")
    with bc.Chromium(chromium) as c, Lab(c, folder, myst=True) as lab:
        problems = lab.check(name)
        page = lab._context.new_page()
        try:
            page.goto(f"{lab.base}lab/tree/{quote(name)}?reset", wait_until="load")
            page.wait_for_selector(".jp-NotebookPanel .jp-MarkdownCell .myst", timeout=60_000)
            page.wait_for_timeout(2000)
            hrefs = {href for href, _ in page.evaluate(js.JS_LAB_LINKS)}
        finally:
            page.close()
            _end_sessions(lab.base)
    found: dict[str, dict] = {"problems": problems}
    for kind, label in roles:
        entry = found.setdefault(kind, {"linked": 0, "total": 0, "not linked": []})
        entry["total"] += 1
        if f"#{label}" in hrefs:
            entry["linked"] += 1
        else:
            entry["not linked"].append(label)
    return found


def check_folder(folder: Path, names: list[str]) -> dict[str, list[str]]:
    """Open each notebook of ``names`` (executed, under ``folder``) in JupyterLab in headless
    Chromium; map each name to its problems (an empty list: as a learner should see it).
    Raises RuntimeError when there is no Chromium or JupyterLab does not start."""
    chromium = bc.find_chromium()
    if chromium is None:
        raise RuntimeError("no Chromium found (install Debian's chromium or set $CHROMIUM)")
    with bc.Chromium(chromium) as c, Lab(c, folder) as lab:
        return {name: lab.check(name) for name in names}


def main(argv=None) -> int:  # pragma: no cover - manual use
    args = argv or sys.argv[1:]
    if len(args) < 2:
        print(__doc__.split("\n\n")[1])
        return 2
    found = check_folder(Path(args[0]).resolve(), args[1:])
    for name, problems in found.items():
        print(("FAIL " if problems else "ok   ") + name, *problems, sep="\n    ")
    return 1 if any(found.values()) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
