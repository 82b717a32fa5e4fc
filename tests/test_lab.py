"""Notebooks in JupyterLab, read in a real browser (issue 23): tests/lab_check.py.

A JupyterLab server started by the check, headless Chromium on it, every rendered cell read.
The learner test (tests/test_learner.py) runs the check on every chapter's learner notebook as
its learner runs executed it (``_build/learner-run``: no execution of its own). Here the check
is tested on two synthetic notebooks whose outputs are written directly (no kernel): one that
must pass (math, a Matplotlib figure and an interactive Vega-Lite figure,
each with its numbered caption) and one with every fault the check must report. Where
JupyterLab finds jupyterlab-myst (``make lab`` installs it), an authors' chapter is opened
with it too.

Chromium comes from the system, as for tests/test_browser.py: without it, or without
Playwright, the tests skip with the reason, except when ``CI`` is set: there they fail.
"""
from __future__ import annotations

import copy
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lab_check  # noqa: E402
from test_browser import chromium_path, unavailable  # noqa: E402, F401  (a fixture)

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab_chromium(chromium_path) -> str:  # noqa: F811  (the imported fixture)
    """Chromium (test_browser's fixture: Playwright and a system Chromium, or a skip that
    fails in CI) and JupyterLab in this environment."""
    if not Path(sys.executable).with_name("jupyter-lab").exists():
        unavailable("JupyterLab is not installed in this environment "
                    "(pip install -r requirements-lab.txt)")
    return chromium_path


# ------------------------------------------------------------------ synthetic notebooks
def _figure_outputs():
    """A slider figure's outputs as a kernel would store them, and a plain PNG of it."""
    from rnnlab.explore import slider_figure

    lags = np.arange(6)
    fig = slider_figure({k: {"r": (lags, k ** lags)} for k in np.linspace(0.5, 1.5, 11)},
                        knob="rho", x="lag", y="r", alt="r against lag; a slider sets rho")
    bundle = fig._repr_mimebundle_()
    vega = new_output("display_data", data=bundle)
    png = new_output("display_data", data={"image/png": bundle["image/png"],
                                           "text/plain": "<Figure>"})
    return fig, vega, png


def _figure_cell(name: str, *outputs):
    cell = new_code_cell("plt.show()", metadata={"mystnb": {"figure": {"name": name}}})
    cell.outputs = list(outputs)
    return cell


def synthetic_notebooks(folder: Path) -> tuple[str, str]:
    """Write ``99_good.ipynb`` and ``99_bad.ipynb`` into ``folder``; their names."""
    fig, vega, png = _figure_outputs()
    good = new_notebook(cells=[
        new_markdown_cell("# A good notebook\n\nInline $x_t^2$ and a display\n\n"
                          "$$\nh_t = \\tanh(W h_{t-1}) \\tag{9.1}\n$$\n\nas in Fig. 9.1."),
        _figure_cell("fig-99-png", png),
        new_markdown_cell("**Fig. 9.1** A plain figure."),
        _figure_cell("fig-99-vega", vega),
        new_markdown_cell("**Fig. 9.2** An interactive figure."),
    ])
    frozen = copy.deepcopy(vega)
    for layer in frozen.data[lab_check.VEGALITE_MIME]["layer"]:
        layer["transform"] = [{"filter": "datum.k == 1"}]         # the slider moves nothing
    broken = new_output("display_data", data={"image/png": "aGVsbG8=", "text/plain": "x"})
    bad = new_notebook(cells=[
        new_markdown_cell("(sec-bad)=\n# A bad notebook\n\nAs {numref}`fig-99-png` shows, "
                          "and $$x = 1 in a display never closed."),
        new_markdown_cell("```{exercise} Do it (★)\n:label: ex-99-1\nText\n```"),
        _figure_cell("fig-99-uncaptioned", png),
        new_markdown_cell("A caption without its number."),
        _figure_cell("fig-99-frozen", frozen),
        new_markdown_cell("**Fig. 9.2** A frozen figure."),
        _figure_cell("fig-99-unrun"),
        new_markdown_cell("**Fig. 9.3** Never run."),
        _figure_cell("fig-99-broken", broken),
        new_markdown_cell("**Fig. 9.4** A broken image."),
    ])
    for nb, name in ((good, "99_good.ipynb"), (bad, "99_bad.ipynb")):
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, folder / name)
    return "99_good.ipynb", "99_bad.ipynb"


@pytest.fixture(scope="module")
def found(lab_chromium, tmp_path_factory) -> dict[str, list[str]]:
    folder = tmp_path_factory.mktemp("lab")
    synthetic_notebooks(folder)
    return lab_check.check_folder(folder, ["99_good.ipynb", "99_bad.ipynb", "99_missing.ipynb"])


def test_a_good_notebook_passes_with_its_interactive_figure(found):
    assert found["99_good.ipynb"] == [], "\n".join(found["99_good.ipynb"])


def test_the_check_reports_every_fault_by_cell(found):
    text = "\n".join(found["99_bad.ipynb"])
    for needle in ["99_bad.ipynb cell 1: a MyST role left as text: '",
                   "cell 1: a (label)= target left as text: '(sec-bad)=",
                   "cell 1: math not typeset: '",
                   "cell 2: a directive fence shown as a code block: ```{exercise}",
                   "cell 3: figure fig-99-uncaptioned has no caption with its number",
                   "interactive figure 1 of 99_bad.ipynb: moving its slider from 1 to 1.5 "
                   "does not change what is drawn",
                   "cell 7: figure fig-99-unrun has no image or Vega-Lite output",
                   "cell 9: 1 image output(s) in the notebook, 0 shown"]:
        assert needle in text, f"the check missed {needle!r}; it reported:\n{text}"
    [missing] = found["99_missing.ipynb"]
    assert missing.startswith("99_missing.ipynb: no such notebook in "), missing


def test_authors_chapter_renders_its_myst_with_jupyterlab_myst(lab_chromium, tmp_path):
    """``make lab-authors``: with jupyterlab-myst (requirements-lab.txt), chapter 1's MyST
    renders: no role, directive fence or ``(label)=`` target left as text, math typeset, and
    every ``{eq}`` is a link to its equation. What jupyterlab-myst 2.7.0 leaves unlinked is
    not asserted (it renders each as its bare label): ``{numref}`` of the figures, whose
    labels live in code cells' metadata (``mystnb.figure``), ``{ref}`` to other chapters, and
    ``{cite}``; that is the learner edition's job."""
    if not lab_check.myst_installed():
        pytest.skip("jupyterlab-myst is not installed where JupyterLab finds extensions "
                    "(pip install -r requirements-lab.txt, as make lab does)")
    name = "01_recurrent_networks.ipynb"
    shutil.copy(ROOT / "chapters" / name, tmp_path / name)
    found = lab_check.myst_roles(tmp_path, name)
    raw = [p for p in found["problems"]
           if "left as text" in p or "directive fence" in p or "not typeset" in p]
    assert not raw, "\n".join(raw)
    eq = found.get("eq", {"linked": 0, "total": 0})
    assert eq["total"] and eq["linked"] == eq["total"], eq
