"""The PDF (make pdf) without TeX: what Sphinx writes into book.tex for it, on a small book.

The whole PDF is not built here (TeX Live is not in CI); README, "The book as a PDF", says how
its pages were checked."""
import re
from pathlib import Path

import yaml
from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parents[1]

BIB = """@article{zulu1999, author = {Zed Zulu and Amy Able}, title = {Late}, journal = {J},
  year = {1999}}
@article{baker1990, author = {Bob Baker}, title = {Early}, journal = {J}, year = {1990}}
"""


def _latex(tmp_path) -> str:
    """book.tex of a three-page book: a chapter citing two works (the later author first),
    the References page with its {bibliography} directive, and a page after it."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        "extensions = ['sphinxcontrib.bibtex', 'rnncourse.latex_bibliography']\n"
        "bibtex_bibfiles = ['refs.bib']\nbibtex_reference_style = 'author_year'\n"
        "bibtex_default_style = 'plain'\n"
        "latex_documents = [('index', 'book.tex', 'T', 'A', 'manual')]\n")
    (src / "refs.bib").write_text(BIB)
    (src / "index.rst").write_text("Book\n====\n\n.. toctree::\n\n   chapter\n   references\n"
                                   "   guide\n")
    (src / "chapter.rst").write_text("Chapter\n=======\n\nAs :cite:t:`zulu1999` and "
                                     ":cite:p:`baker1990` show.\n")
    (src / "references.rst").write_text("References\n==========\n\nThe works cited.\n\n"
                                        ".. bibliography::\n")
    (src / "guide.rst").write_text("Guide\n=====\n\nThe last page.\n")
    app = Sphinx(str(src), str(src), str(tmp_path / "out"), str(tmp_path / "doctrees"),
                 "latex", status=None, warning=None, freshenv=True)
    app.build()
    return (tmp_path / "out" / "book.tex").read_text()


def test_pdf_bibliography_is_on_the_references_page_in_author_year_order(tmp_path):
    """rnncourse.latex_bibliography: the list the citations link to is the References page's
    (not a chapter of its own after the last page), sorted by author and year, as the text's
    author-year citations are found; every citation links to an entry of it."""
    tex = _latex(tmp_path)
    chapters = re.findall(r"\\chapter\{([^}]*)\}", tex)
    assert chapters == ["Chapter", "References", "Guide"], chapters
    references = tex[tex.index(r"\chapter{References}"):tex.index(r"\chapter{Guide}")]
    assert tex.count(r"\begin{sphinxthebibliography}") == 1
    assert r"\begin{sphinxthebibliography}" in references, "the list is not on its page"
    assert "Zulu and Able" in tex and "Baker, 1990" in tex, "the text cites by author-year"
    entries = re.findall(r"\\bibitem\[[^\]]*\]\{([^}]*)\}\s*\\sphinxAtStartPar\s*(\w+ \w+)",
                         references)
    assert [author for _, author in entries] == ["Bob Baker", "Zed Zulu"], entries
    links = set(re.findall(r"\\hyperlink\{cite\.([^}]*)\}", tex))
    assert links == {key for key, _ in entries}, (links, entries)


def test_pdf_latex_files_are_copied_and_loaded():
    """_config.yml: every file the PDF needs is copied beside book.tex, and the preamble is
    _static/latex/rnnbook.sty (without it the list above would still be numbered)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    files = config["latex_additional_files"]
    assert all((ROOT / name).is_file() for name in files), files
    assert "_static/latex/rnnbook.sty" in files
    assert config["latex_elements"]["preamble"].strip() == r"\usepackage{rnnbook}"
