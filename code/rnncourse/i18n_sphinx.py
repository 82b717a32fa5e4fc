"""The Italian edition's Sphinx extension (in ``_config.yml``; :mod:`rnncourse.i18n`).

* Before Sphinx's own translation step, on every page of both books and in the extraction of
  the catalogues: the outputs of code cells (results, which change when the code does) and
  display math (a translated display equation renders as an empty formula) are marked as not
  to be translated.
* Every HTML page gets a language button in its header (and a ``<link rel="alternate"
  hreflang>``) that leads to the same page in the other language: the Italian book lives in
  ``it/`` inside the English one.
"""
from __future__ import annotations

__all__ = ["SUBDIR", "SWITCH", "other_language_url", "setup"]

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

    app.add_transform(Untranslatable)
    app.connect("html-page-context", _language_button, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
