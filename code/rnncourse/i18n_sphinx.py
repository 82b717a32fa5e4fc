"""The Italian edition's Sphinx extension (in ``_config.yml``; :mod:`rnncourse.i18n`).

* Before Sphinx's own translation step, on every page of both books and in the extraction of
  the catalogues: the outputs of code cells (results, which change when the code does; the
  captions of their figures excepted) and display math (a translated display equation renders
  as an empty formula) are marked as not to be translated, and the exercises' titles are
  offered for translation (sphinx-exercise gives them no source, so Sphinx would skip them);
  after it, each solution takes its title from the translated exercise.
* Every HTML page gets a language button in its header (and a ``<link rel="alternate"
  hreflang>``) that leads to the same page in the other language: the Italian book lives in
  ``it/`` inside the English one.
"""
from __future__ import annotations

__all__ = ["SUBDIR", "SWITCH", "exercise_subtitles", "other_language_url", "setup"]

#: Where the Italian book is served from, inside the English one.
SUBDIR = "it"
#: The language button: (its text, its tooltip) on a page of each language.
SWITCH = {"en": ("IT", "Leggi questa pagina in italiano"),
          "it": ("EN", "Read this page in English")}


def _untranslatable(document) -> None:
    """Mark what is not prose as not to be translated: the outputs of code cells (results,
    which change when the code does), except the captions of the figures drawn there (prose,
    from the cell's metadata), and display math (a translated display equation renders as an
    empty formula)."""
    from docutils import nodes

    for node in document.findall(nodes.math_block):
        node["translatable"] = False
    for box in document.findall(nodes.container):
        if "cell_output" in box.get("classes", []):
            captions = {id(n) for c in box.findall(nodes.caption) for n in c.findall()}
            for node in box.findall(nodes.TextElement):
                if id(node) not in captions:
                    node["translatable"] = False


def exercise_subtitles(document) -> list:
    """The title nodes of the exercises of a page, as sphinx-exercise parses them."""
    return list(document.findall(lambda n: n.tagname == "exercise_subtitle"))


def _exercise_titles(document) -> None:
    """Offer the exercises' titles for translation: sphinx-exercise makes the title from the
    directive's argument without a source, which Sphinx's translation step skips."""
    for subtitle in exercise_subtitles(document):
        title = subtitle.parent
        subtitle.source, subtitle.line = title.source, title.line
        subtitle.rawsource = subtitle.astext()


def _translated_exercises(document, env) -> None:
    """After the translation step: sphinx-exercise titles a solution ("Solution to Exercise
    3.1 (...)") from a copy of its exercise that it kept before the translation; give it the
    translated exercise instead."""
    registry = getattr(env, "sphinx_exercise_registry", {})
    for node in document.findall(lambda n: n.tagname in ("exercise_enumerable_node",
                                                         "exercise_node")):
        label = node.get("label")
        if label in registry:
            registry[label]["node"] = node.deepcopy()


def other_language_url(pagename: str, language: str) -> str:
    """The relative URL, from page ``pagename`` of the book in ``language``, of the same page
    in the other language (the Italian book lives in ``it/`` inside the English one)."""
    if language not in SWITCH:
        raise ValueError(f"language must be one of {sorted(SWITCH)}, got {language!r}")
    up = "../" * pagename.count("/")
    return (f"{up}{SUBDIR}/{pagename}.html" if language == "en"
            else f"{up}../{pagename}.html")


def _language_button(app, pagename, templatename, context, doctree) -> None:
    language = app.config.language or "en"
    if language not in SWITCH or not doctree:
        return
    url = other_language_url(pagename, language)
    text, tooltip = SWITCH[language]
    other = "it" if language == "en" else "en"
    context["metatags"] = context.get("metatags", "") + (
        f'\n<link rel="alternate" hreflang="{other}" href="{url}" />')
    context.setdefault("header_buttons", []).insert(0, {
        "type": "javascript", "javascript": f"window.location.href='{url}'",
        "tooltip": tooltip, "icon": "fas fa-language", "text": text,
        "label": "language-button"})


def setup(app):
    """Sphinx extension (in ``_config.yml``): run :func:`_untranslatable` on every page before
    Sphinx's own translation step, in both languages' builds and in the extraction; give every
    HTML page its language button."""
    from sphinx.transforms import SphinxTransform

    class Untranslatable(SphinxTransform):
        default_priority = 10                       # before sphinx.transforms.i18n.Locale (20)

        def apply(self, **kwargs) -> None:
            _untranslatable(self.document)
            _exercise_titles(self.document)

    class TranslatedExercises(SphinxTransform):
        default_priority = 25                       # after sphinx.transforms.i18n.Locale (20)

        def apply(self, **kwargs) -> None:
            _translated_exercises(self.document, self.env)

    app.add_transform(Untranslatable)
    app.add_transform(TranslatedExercises)
    app.connect("html-page-context", _language_button, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
