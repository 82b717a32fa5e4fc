"""What language a page of the book is in, read in the browser (the Italian edition, issue 25).

Not a test module (pytest collects nothing here): tests/test_browser.py opens each page of the
Italian book and asks :func:`language_problems` what is wrong with it: the page must declare
its language (``<html lang="it">``), every paragraph of prose must read as Italian (a
paragraph is English when it has more of the most common English words than of the most
common Italian ones: code, outputs, math, references and the English names of the glossary's
entries are left out), and the language button must lead to the same page in the other
language, which must exist.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

#: The most common short words of each language, which prose cannot avoid.
ENGLISH = frozenset("the of and to is that with for are this which from by as be it its "
                    "an on not at we can has have each what when than".split())
ITALIAN = frozenset("il lo la gli le di del della dei delle che per con una un non sono "
                    "si ogni come nel nella alla dal dalla più anche questo questa".split())

#: The prose of a page: paragraphs and list items of the article, less code, outputs, math,
#: the glossary's terms (English names by design) and the bibliography (titles stay).
JS_PROSE = r"""() => {
  const root = document.querySelector("main article, article, main") || document.body;
  const skip = "pre, code, .cell_output, .output, mjx-container, .MathJax, .math, "
             + "dt, .citation, .footnote, #references, .bibliography, .docutils.citation";
  const out = [];
  for (const el of root.querySelectorAll("p, li")) {
    if (el.closest(".cell_output, .output, .bibliography, .citation, dt, nav, header, footer"))
      continue;
    if (el.tagName === "LI" && el.querySelector("p")) continue;   // its paragraphs count
    const copy = el.cloneNode(true);
    copy.querySelectorAll(skip).forEach(n => n.remove());
    const text = copy.textContent.replace(/\s+/g, " ").trim();
    if (text) out.push(text);
  }
  return {lang: document.documentElement.lang,
          switch: (document.querySelector(".btn-language-button") || {}).outerHTML || null,
          prose: out};
}"""

_WORD = re.compile(r"[a-zà-ù']+", re.I)
_TARGET = re.compile(r"window\.location\.href='([^']+)'")


def english_paragraphs(paragraphs: list[str], *, min_words: int = 6) -> list[str]:
    """The paragraphs with more common English words than common Italian ones."""
    found = []
    for text in paragraphs:
        words = [w.lower().strip("'") for w in _WORD.findall(text)]
        if len(words) < min_words:
            continue
        en = sum(w in ENGLISH for w in words)
        it = sum(w in ITALIAN for w in words)
        if en > it and en >= 2:
            found.append(text)
    return found


def switch_target(button_html: str | None, page_url: str) -> str | None:
    """The absolute URL the language button of the page at ``page_url`` leads to."""
    if not button_html:
        return None
    found = _TARGET.search(button_html)
    return urljoin(page_url, found.group(1)) if found else None


def language_problems(page, url: str, lang: str, other_exists) -> list[str]:
    """What is wrong with the language of the page open in Playwright's ``page`` (at ``url``):
    its declared language, its English paragraphs (when ``lang`` is "it"), its language
    button; ``other_exists(path)`` says whether the other language's page exists."""
    info = page.evaluate(JS_PROSE)
    problems = []
    if info["lang"] != lang:
        problems.append(f'<html lang="{info["lang"]}">, expected "{lang}"')
    if lang == "it":
        problems += [f"English paragraph: {text[:120]!r}"
                     for text in english_paragraphs(info["prose"])]
    target = switch_target(info["switch"], url)
    if target is None:
        problems.append("no language button")
    elif not other_exists(urlsplit(target).path):
        problems.append(f"the language button leads to a page that does not exist: {target}")
    return problems
