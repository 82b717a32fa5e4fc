"""The Italian edition's tooling (rnncourse.i18n) on small synthetic catalogues and pages:
what the checks catch (untranslated, fuzzy, obsolete, changed markup), the language button's
address, the Italian configuration and what the extraction leaves out."""
from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from rnncourse import catalogues, i18n, i18n_sphinx

SOURCE = ("The bound {eq}`eq-03-bound` of {cite:t}`bengio1994learning` holds for "
          "$\\sigma_{\\max} < 1$; see [the wall](03_vanishing_exploding.ipynb#the-wall).")
GOOD = ("Il limite {eq}`eq-03-bound` di {cite:t}`bengio1994learning` vale per "
        "$\\sigma_{\\max} < 1$; vedi [il muro](03_vanishing_exploding.ipynb#the-wall).")


def test_markup_keeps_roles_targets_math_and_links_but_not_their_words():
    assert catalogues.markup(SOURCE) == catalogues.markup(GOOD)
    assert catalogues.markup(SOURCE) == sorted(["{eq}eq-03-bound", "{cite:t}bengio1994learning",
                                          "$\\sigma_{\\max} < 1$",
                                          "](03_vanishing_exploding.ipynb#the-wall)"])
    # a role's own text may be translated, its target may not
    assert catalogues.markup("{ref}`the wall <sec-wall>`") == \
        catalogues.markup("{ref}`il muro <sec-wall>`")
    assert catalogues.markup("{term}`vanishing gradient`") == \
        catalogues.markup("{term}`scomparsa del gradiente <vanishing gradient>`")
    assert catalogues.markup("{ref}`sec-wall`") != catalogues.markup("{ref}`sec-muro`")
    assert catalogues.markup("$k$ steps") != catalogues.markup("$n$ passi")


def _catalogue(tmp_path, entries, obsolete=()):
    catalog = Catalog(locale="it")
    for msgid, msgstr, flags in entries:
        catalog.add(msgid, msgstr, flags=flags, locations=[("chapters/03.ipynb", 10005)])
    for msgid in obsolete:
        catalog.add(msgid, "vecchio", locations=[("chapters/03.ipynb", 1)])
        catalog.obsolete[msgid] = catalog[msgid]
        del catalog[msgid]
    path = tmp_path / "locales" / "it" / "LC_MESSAGES" / "chapters" / "03.po"
    path.parent.mkdir(parents=True)
    with open(path, "wb") as f:
        write_po(f, catalog, width=100)
    return path


def test_a_ready_catalogue_has_no_problem(tmp_path):
    path = _catalogue(tmp_path, [(SOURCE, GOOD, ()), ("Summary", "Riepilogo", ())])
    assert catalogues.check_catalogue(path, tmp_path) == []
    assert catalogues.catalogues(tmp_path) == [path]


def test_every_kind_of_unready_message_is_named_with_its_page(tmp_path):
    changed = GOOD.replace("{eq}`eq-03-bound`", "(3.5)")
    path = _catalogue(tmp_path, [("Summary", "", ()), ("Exercises", "Esercizi", ("fuzzy",)),
                                 (SOURCE, changed, ())], obsolete=["An old paragraph."])
    problems = catalogues.check_catalogue(path, tmp_path)
    kinds = {p.message: p.kind for p in problems}
    assert kinds["Summary"] == "untranslated"
    assert kinds["Exercises"].startswith("fuzzy")
    assert kinds[SOURCE].startswith("markup differs (missing ['{eq}eq-03-bound']")
    assert kinds["An old paragraph."].startswith("obsolete")
    assert all(str(p).startswith("locales/it/LC_MESSAGES/chapters/03.po:") for p in problems)


def test_a_changed_english_paragraph_makes_its_translation_fuzzy_and_the_check_fail(tmp_path):
    """What sphinx-intl's update does when a paragraph of the English book changes (the
    workflow the module describes): the old translation stays, marked fuzzy, and the check
    names the page and the paragraph."""
    from babel.messages.catalog import Catalog as Template

    path = _catalogue(tmp_path, [(SOURCE, GOOD, ())])
    template = Template()
    edited = SOURCE.replace("holds for", "holds whenever")
    template.add(edited, locations=[("chapters/03.ipynb", 10005)])
    with open(path, "rb") as f:
        catalog = read_po(f, locale="it")
    catalog.update(template)                    # what sphinx-intl update runs
    with open(path, "wb") as f:
        write_po(f, catalog, width=100)
    problems = catalogues.check_catalogue(path, tmp_path)
    assert [p.kind.split()[0] for p in problems] == ["fuzzy"]
    assert "holds whenever" in problems[0].message
    assert problems[0].catalogue.endswith("chapters/03.po")


def test_the_language_button_leads_to_the_same_page_in_the_other_language():
    assert i18n_sphinx.other_language_url("intro", "en") == "it/intro.html"
    assert i18n_sphinx.other_language_url("chapters/03_vanishing_exploding", "en") == \
        "../it/chapters/03_vanishing_exploding.html"
    assert i18n_sphinx.other_language_url("chapters/03_vanishing_exploding", "it") == \
        "../../chapters/03_vanishing_exploding.html"
    assert i18n_sphinx.other_language_url("intro", "it") == "../intro.html"
    with pytest.raises(ValueError, match="language must be one of"):
        i18n_sphinx.other_language_url("intro", "fr")


def test_the_italian_configuration_shares_the_execution_cache_and_translates_the_toc(tmp_path):
    import yaml

    (tmp_path / "_config.yml").write_text(
        "title: T\nexecute:\n  execute_notebooks: cache\nsphinx:\n  config:\n    numfig: true\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nparts:\n"
                                       "  - caption: Chapters\n    chapters:\n"
                                       "      - file: chapters/01\n")
    conf, toc = i18n.italian_config(tmp_path)
    config, contents = yaml.safe_load(conf.read_text()), yaml.safe_load(toc.read_text())
    assert config["title"] == i18n.TITLE
    assert config["execute"]["cache"] == str(tmp_path / "_build" / ".jupyter_cache")
    assert config["sphinx"]["config"]["language"] == "it"
    assert config["sphinx"]["config"]["locale_dirs"] == [str(tmp_path / "locales")]
    assert config["sphinx"]["config"]["numfig"] is True
    assert contents["parts"][0]["caption"] == "Capitoli"
    (tmp_path / "_toc.yml").write_text("root: intro\nparts:\n  - caption: Appendix\n")
    with pytest.raises(ValueError, match="without an Italian one"):
        i18n.italian_config(tmp_path)


def test_outputs_of_code_cells_and_display_math_are_not_offered_for_translation():
    from docutils import nodes
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    document = new_document("page", get_default_settings(Parser))
    prose = nodes.paragraph("A paragraph.", "A paragraph.")
    output = nodes.container(classes=["cell_output"])
    table_cell = nodes.paragraph("0.53 ± 0.13", "0.53 ± 0.13")
    caption = nodes.caption("Test error by step.", "Test error by step.")
    output += [table_cell, nodes.figure("", caption)]
    math = nodes.math_block("x = 1", "x = 1")
    document += [prose, output, math]
    i18n_sphinx._untranslatable(document)
    assert prose.get("translatable", True) is True
    assert caption.get("translatable", True) is True          # a figure's caption is prose
    assert table_cell["translatable"] is False and math["translatable"] is False



# -- the book's own catalogues -----------------------------------------------------------------
def test_every_page_has_a_catalogue_and_every_message_is_ready(subtests):
    """Every page of the book has its Italian catalogue, and every message is translated, not
    fuzzy, not obsolete, with its markup kept (a changed English paragraph fails here, named by
    page and line, until its translation follows: `make catalogues`, then translate)."""
    from rnncourse import book

    pages = {f"{entry}.po" for entry in book.toc_entries()}
    folder = catalogues.find_root() / catalogues.LOCALES / catalogues.LANGUAGE / "LC_MESSAGES"
    have = {p.relative_to(folder).as_posix() for p in catalogues.catalogues()}
    assert pages <= have, f"pages without a catalogue: {sorted(pages - have)}"
    for path in catalogues.catalogues():
        with subtests.test(catalogue=path.name):
            problems = catalogues.check_catalogue(path)
            assert not problems, "\n".join(map(str, problems[:20]))


def test_catalogues_compile_with_msgfmt_check(subtests):
    import shutil
    import subprocess

    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (Debian's gettext) is not installed; .ci/run installs it")
    for path in catalogues.catalogues():
        with subtests.test(catalogue=path.name):
            done = subprocess.run([msgfmt, "--check", "-o", "/dev/null", str(path)],
                                  capture_output=True, text=True)
            assert done.returncode == 0, done.stderr


def test_translations_use_the_glossarys_italian_terms():
    problems = catalogues.term_problems()
    assert not problems, "\n".join(map(str, problems[:30]))
