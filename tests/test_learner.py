"""The learner edition (rnncourse.learner, rnncourse.learner_markdown, rnncourse.booknumbers).

Fast tests prove each rewrite on synthetic Markdown and on the synthetic chapter of
tests/nbfixtures.py with numbers made by hand. The slow tests take the numbers from the built
book (the build ``make book`` left in ``_build``, when it is fresh), write the learner edition
of every chapter, render every Markdown cell with a plain CommonMark renderer and look for MyST
left over; and run the synthetic chapter with a wrong answer, where the check must print its
hint and the run must reach the last cell. The runs of every chapter's learner notebook, and
their reading in JupyterLab, are tests/test_learner_runs.py.
"""
from __future__ import annotations

import copy
import dataclasses
import re

import nbformat
import pytest
from markdown_it import MarkdownIt
from nbfixtures import CHAPTERS, ROOT, execute, printed, synthetic
from nbformat.v4 import new_code_cell, new_markdown_cell

from rnncourse import launch_learner, learner, student
from rnncourse import notebooks as nbt
from rnncourse.booknumbers import BookNumbers
from rnncourse.learner_markdown import LearnerMarkdownError, bare_labels, to_commonmark

COMMONMARK = MarkdownIt("commonmark")
#: MyST that must never reach a learner, as it shows in CommonMark's HTML
LEFTOVERS = {"role": re.compile(r"\{[a-z][\w:-]*\}<code>|\{[a-z][\w:-]*\}`"),
             "directive fence": re.compile(r"(```|:::)\{|<code class=\"language-\{"),
             "(label)= target": re.compile(r"^\([\w-]+\)=", re.M),
             "label": re.compile(r"\b(?:eq|fig|ex|sec)-\d\d-[\w-]+|\bch\d\d\b")}


def leftover_myst(markdown: str) -> list[str]:
    """What of ``markdown``, rendered by plain CommonMark, is still MyST (kind: context)."""
    html = COMMONMARK.render(markdown)
    return [f"{kind}: ...{html[max(0, m.start() - 40):m.end() + 40]}..."
            for kind, pattern in LEFTOVERS.items() for m in pattern.finditer(html)]


NUMBERS = BookNumbers(
    refs={"ch02": "*Backprop* (Chapter 2)", "sec-04-x": "*Stacked* (Section 4.7)",
          "ex-99-1": "Exercise 9.1"},
    numrefs={"fig-99-a": "Fig. 9.1", "ex-99-1": "Exercise 9.1"},
    equations={"eq-99-rnn": "9.1"}, figures={"fig-99-a": "9.1"},
    exercises={"ex-99-1": "9.1", "ex-99-2": "9.2"},
    entries={"b94": "Bengio. <em>Learning</em>. 1994.", "e90": "Elman. Finding. 1990."},
    cite=lambda kind, keys: (f"{' and '.join(keys)} [1994]" if kind == "t"
                             else "[" + ", ".join(keys) + "]"))

MARKDOWN = [                              # (construct, MyST, what the learner reads)
    ("chapter reference", "as in {ref}`ch02`.", "as in *Backprop* (Chapter 2)."),
    ("section reference", "see {ref}`sec-04-x`", "see *Stacked* (Section 4.7)"),
    ("exercise reference", "({ref}`ex-99-1`)", "(Exercise 9.1)"),
    ("reference with its own text", "{ref}`this one <ch02>`", "this one"),
    ("figure", "{numref}`fig-99-a` shows", "Fig. 9.1 shows"),
    ("figure, own text", "{numref}`Figure %s <fig-99-a>`", "Figure 9.1"),
    ("equation", "by {eq}`eq-99-rnn`,", "by (9.1),"),
    ("citation", "RNNs {cite}`b94,e90`.", "RNNs [b94, e90]."),
    ("textual citation", "{cite:t}`b94` showed", "b94 [1994] showed"),
    ("target line", "(ch99)=\n# Title", "# Title"),
    ("labelled display math", "$$\na = b\n$$ (eq-99-rnn)", "$$\na = b\n\\tag{9.1}\n$$"),
    ("code block kept as it is", "```python\nx = {ref}`ch02`\n```",
     "```python\nx = {ref}`ch02`\n```"),
    ("exercise", "```{exercise} Square it (★, 5 min)\n:label: ex-99-1\n\nDo {eq}`eq-99-rnn`.\n```",
     "**Exercise 9.1** Square it (★, 5 min)\n\nDo (9.1).\n\n</div>"),
    ("admonition", "```{admonition} At scale\n:class: warning\nBig.\n```",
     "alert-warning\" style=\"border-left: 4px solid #d08c00; padding: 0.2em 1em; margin: 1em "
     "0;\">\n\n**At scale**\n\nBig.\n\n</div>"),
    ("named admonition", "```{note}\nMind the gap.\n```", "**Note**\n\nMind the gap."),
    ("grid of cards", "::::{grid} 1 1 2 2\n:::{grid-item-card} Keras\n```python\nk = 1\n```\n"
     ":::\n::::", "**Keras**\n\n```python\nk = 1\n```"),
]


def test_markdown_becomes_what_the_book_shows(subtests):
    for construct, myst, expected in MARKDOWN:
        with subtests.test(construct):
            got = to_commonmark(myst, NUMBERS)
            assert expected in got, got
            assert not leftover_myst(got.replace(expected, "")) or construct.startswith("code")


def test_citations_are_collected_once_in_order():
    cited = []
    to_commonmark("{cite}`e90` and {cite:t}`b94`, {cite}`e90,b94`", NUMBERS, cited)
    assert cited == ["e90", "b94"]


MARKDOWN_ERRORS = [                      # (what, MyST, the error names)
    ("unknown role", "{glue:text}`x`", r"role \{glue:text\}"),
    ("unknown directive", "```{mermaid}\na\n```", r"directive \{mermaid\}"),
    ("a solution left in place", "```{solution-start} ex-99-1\n```", r"\{solution-start\}"),
    ("a label the build lacks", "{eq}`eq-99-none`", "equation 'eq-99-none' has no number"),
    ("an exercise the build lacks", "```{exercise} T\n:label: ex-98-1\n```", "'ex-98-1'"),
    ("an unclosed fence", "```{note}\nno end", "never closed"),
]


def test_myst_without_a_commonmark_form_is_an_error_naming_it(subtests):
    for what, myst, message in MARKDOWN_ERRORS:
        with subtests.test(what):
            with pytest.raises(LearnerMarkdownError, match=message):
                to_commonmark(myst, NUMBERS)


def test_labels_named_in_plain_words_get_the_book_numbers():
    text = "the bounds of eq-99-rnn (dashed), the runs of fig-99-a, eq-99-unknown"
    assert bare_labels(text, NUMBERS) == ("the bounds of (9.1) (dashed), the runs of Fig. 9.1, "
                                          "eq-99-unknown")
    role = "the bound {eq}`eq-99-rnn` and {numref}`fig-99-a`"          # left to to_commonmark
    assert bare_labels(role, NUMBERS) == role
    assert to_commonmark(bare_labels(role, NUMBERS), NUMBERS, []) == "the bound (9.1) and Fig. 9.1"


def synthetic_chapter() -> dict:
    """The synthetic chapter with a citation, a figure cell and a claim cell added."""
    nb = synthetic()
    for cell in nb["cells"]:   # its goals name the labels in plain words: not what a chapter does
        cell["source"] = nbt.source(cell).replace("practise ex-99-", "practise exercise ")
    nb["cells"][0]["source"] += "\n\nAfter {cite:t}`b94`, see {numref}`fig-99-a`."
    figure = new_code_cell("print('a plot')", metadata={"mystnb": {"figure": {
        "name": "fig-99-a", "caption": "A curve; the bound eq-99-rnn is {cite}`e90`'s."}}})
    claim = new_code_cell('print("claims.less(\'x\', 1, 2)")  # claims. stands in',
                          metadata={"tags": ["hide-cell"]})
    nb["cells"][3:3] = [figure, claim, new_markdown_cell("$$\nh = 1\n$$ (eq-99-rnn)")]
    return nb


def test_learner_notebook_of_the_synthetic_chapter():
    nb = synthetic_chapter()
    before = copy.deepcopy(nb)
    out = learner.learner_notebook(nb, NUMBERS, "99_synthetic.ipynb")
    assert nb == before, "the chapter must not be changed"
    nbformat.validate(nbformat.from_dict(out))
    ids = [c.get("id") for c in out["cells"]]
    assert None not in ids and len(set(ids)) == len(ids), "every cell has its own id"
    sources = [nbt.source(c) for c in out["cells"]]
    text = "\n".join(sources)
    assert "model answer kept away" not in text and "secret explanation" not in text
    assert all(not leftover_myst(s) for c, s in zip(out["cells"], sources)
               if c["cell_type"] == "markdown"), [leftover_myst(s) for s in sources]
    assert sources[1] == learner.HOW_TO, "the how-to box follows the title"
    setup = next(i for i, s in enumerate(sources) if "@_core.check" in s)
    assert sources[setup + 1] == learner.REPORT_SOURCE, "report_failures right after setup"
    figure = next(i for i, c in enumerate(out["cells"]) if "mystnb" in c["metadata"])
    assert sources[figure + 1] == "**Fig. 9.1** A curve; the bound (9.1) is [e90]'s."
    claim = next(c for c in out["cells"] if "hide-cell" in nbt.tags(c))
    assert nbt.source(claim).startswith(learner.CLAIM_TITLE + "\n")
    assert "\\tag{9.1}" in text
    assert sources[-1] == ("## References\n\n- Bengio. <em>Learning</em>. 1994.\n"
                           "- Elman. Finding. 1990."), "cited entries, in the book's order"
    assert [nbt.source(c) for c in out["cells"] if nbt.is_starter(c) or nbt.is_check(c)] == [
        nbt.source(c) for c in student.student_notebook(nb)[0]["cells"]
        if nbt.is_starter(c) or nbt.is_check(c)]


STALE = [                    # (what changed since the build, the numbers the build has)
    ("an equation added before this one", {"equations": {"eq-99-rnn": "9.2"}}, "equations 9.2"),
    ("a figure the build lacks", {"figures": {}}, "figures none"),
    ("exercises swapped", {"exercises": {"ex-99-1": "9.2", "ex-99-2": "9.1"}},
     r"exercises 9.2, 9.1 in the order the chapter has them now \(ex-99-1, ex-99-2\)"),
]


def test_a_build_older_than_the_chapter_is_refused(subtests):
    for what, changed, message in STALE:
        with subtests.test(what):
            stale = dataclasses.replace(NUMBERS, **changed)
            with pytest.raises(learner.LearnerEditionError, match=message):
                learner.learner_notebook(synthetic_chapter(), stale, "99_synthetic.ipynb")


FOLDING = [                  # (client, metadata path, value) that folds a claim cell there
    ("JupyterLab and Notebook 7: source", ("jupyter", "source_hidden"), True),
    ("JupyterLab and Notebook 7: outputs", ("jupyter", "outputs_hidden"), True),
    ("classic Notebook: outputs", ("collapsed",), True),
    ("Colab: a form shows only its title", ("cellView",), "form"),
]


def test_claim_cells_fold_in_every_client_under_a_title_explaining_headroom(subtests):
    cell = learner.fold(new_code_cell("claims.less('x', 1, 2)"), title=learner.CLAIM_TITLE)
    for client, path, value in FOLDING:
        with subtests.test(client):
            got = cell["metadata"]
            for key in path:
                got = got[key]
            assert got == value
    with subtests.test("Colab's form title, explaining headroom"):
        assert nbt.source(cell).startswith("# @title Checks of the claims above (headroom: ")
        assert "how far a value is from failing" in learner.CLAIM_TITLE


def test_after_the_first_exercise_only_starters_and_checks_run(subtests):
    # why a NOT YET can let the notebook go on: no later cell needs an exercise's result
    for path in CHAPTERS:
        with subtests.test(path.name):
            nb, _ = student.student_notebook(nbt.read(path), path.name)
            owner = student.exercise_of_cells(nb)
            others = [nbt.source(c)[:60] for i, c in enumerate(nb["cells"])
                      if owner[i] and c["cell_type"] == "code"
                      and not (nbt.is_starter(c) or nbt.is_check(c))]
            assert others == []


# -- the chapters, with the built book's numbers (slow) --------------------------------------
@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    """The learner edition of the chapters, with the numbers of the fresh book build. Without
    one it does not build (the browser test may be building on the other worker): it fails in
    CI, where `make book` runs first, and is skipped elsewhere, saying so."""
    from test_browser import build_is_fresh, unavailable
    if not build_is_fresh():
        unavailable("the learner edition takes its numbers from the book: run `make book` "
                    "after the last change to a source, then this test")
    out = tmp_path_factory.mktemp("learner")
    learner.write_learner_edition(out, ROOT / "chapters", ROOT / "_build")
    return out


@pytest.mark.slow
def test_every_learner_notebook_is_plain_commonmark(edition, subtests):
    for path in CHAPTERS:
        with subtests.test(path.name):
            nb = nbt.read(edition / path.name)
            found = [f"cell {i}: {bad}" for i, c in enumerate(nb["cells"])
                     if c["cell_type"] == "markdown" for bad in leftover_myst(nbt.source(c))]
            assert found == []
            figures = [i for i, c in enumerate(nb["cells"]) if "mystnb" in c["metadata"]]
            assert all(nbt.source(nb["cells"][i + 1]).startswith("**Fig. ") for i in figures)
            assert nbt.source(nb["cells"][-1]).startswith("## References\n\n- ")


@pytest.mark.slow
def test_the_committed_learner_edition_is_what_the_generator_writes(edition, subtests):
    # the launch buttons open learner/ in the repository: it must be the current edition
    for path in CHAPTERS:
        with subtests.test(path.name):
            committed = ROOT / launch_learner.LEARNER_DIR / path.name
            assert committed.is_file(), "run make book and make learner, then commit learner/"
            assert (committed.read_text(encoding="utf-8")
                    == (edition / path.name).read_text(encoding="utf-8")), \
                "learner/ is stale: run make book and make learner, then commit learner/"


@pytest.mark.slow
def test_every_chapter_page_launches_its_learner_notebook(edition, subtests):
    for path in CHAPTERS:
        with subtests.test(path.name):
            page = (ROOT / "_build" / "html" / "chapters" / path.with_suffix(".html").name)
            links = re.findall(r'href="(https://(?:colab\.research\.google\.com|mybinder\.org)'
                               r'[^"]*)"', page.read_text(encoding="utf-8"))
            assert len(links) == 2, links                        # Binder and Colab
            for link in links:
                assert f"learner/{path.name}" in link and "chapters/" not in link, link


def test_launch_urls_of_a_chapter_point_to_its_learner_notebook(subtests):
    binder = ("https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/chapters/03_vanishing.ipynb")
    colab = "https://colab.research.google.com/github/o/r/blob/main/chapters/03_vanishing.ipynb"
    for url, want in [(binder, "lab/tree/learner/03_vanishing.ipynb"),
                      (colab, "blob/main/learner/03_vanishing.ipynb")]:
        with subtests.test(url[:30]):
            assert launch_learner.learner_url(url).endswith(want)
    for page, changed in [("chapters/03_vanishing", True), ("chapters/glossary", False),
                          ("intro", False)]:
        with subtests.test(page):
            context = {"header_buttons": [
                {"label": "launch-buttons", "buttons": [
                    {"text": "Colab", "url": f"https://colab/blob/main/{page}.ipynb"},
                    {"text": "Live Code", "javascript": "initThebeSBT()"}]},
                {"label": "download-buttons", "buttons": [{"url": f"_sources/{page}.ipynb"}]}]}
            launch_learner._point_to_learner(None, page, "page.html", context, None)
            launch, download = context["header_buttons"]
            assert ("learner/" in launch["buttons"][0]["url"]) == changed
            assert launch["buttons"][1] == {"text": "Live Code", "javascript": "initThebeSBT()"}
            assert download["buttons"][0]["url"] == f"_sources/{page}.ipynb"
    with pytest.raises(TypeError, match="url must be a str, got NoneType"):
        launch_learner.learner_url(None)


@pytest.mark.slow
@pytest.mark.usefixtures("lenient")
def test_a_wrong_answer_prints_its_hint_and_the_run_goes_on(tmp_path):
    nb = learner.learner_notebook(synthetic_chapter(), NUMBERS, "99_synthetic.ipynb")
    starter = next(c for c in nb["cells"] if nbt.is_starter(c))
    starter["source"] = "# starter: ex-99-1\ndef square(x):\n    return 2 * x  # a mistake"
    nb["cells"].append(new_code_cell("print('reached the last cell')"))
    run = execute(nb, tmp_path)
    said = "\n".join(printed(c) for c in run["cells"])
    assert "NOT YET square: square(3) gave 6, expected 9" in said
    assert printed(run["cells"][-1]) == "reached the last cell\n"


def test_without_a_book_build_the_command_says_how_to_make_one(tmp_path, capsys):
    assert learner.main([str(tmp_path / "out"), "--build", str(tmp_path / "none")]) == 1
    assert "no book build at" in capsys.readouterr().err and not (tmp_path / "out").exists()
