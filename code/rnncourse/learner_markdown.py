"""A chapter's MyST Markdown as plain CommonMark plus HTML, for the learner edition.

Notebook clients (JupyterLab, classic Notebook, Colab, VS Code) render CommonMark with inline
HTML and ``$``-math, not MyST. :func:`to_commonmark` rewrites one Markdown cell:

* roles: ``{ref}``, ``{numref}`` and ``{eq}`` become the text the book shows ("Fig. 3.5",
  "(3.4)", "Exercise 3.1", a chapter's title and number), ``{cite}`` / ``{cite:t}`` the
  book's author-year text; the keys cited are collected for the notebook's References cell;
* a labelled display equation ``$$ ... $$ (eq-label)`` gets ``\\tag{3.4}``;
* directives become visible boxes (an HTML ``div`` around Markdown): ``{exercise}`` with its
  number, title and difficulty, ``{admonition}`` and the named admonitions with their title;
  a ``{grid}`` of cards becomes its cards, one after the other, each under its title;
* ``(label)=`` target lines are dropped.

Anything else in MyST syntax (an unknown role or directive, a solution left in place, a label
the build does not know) raises :class:`LearnerMarkdownError` naming it, so a new construct in
a chapter fails the generator instead of reaching a learner as raw markup. The numbers come
from :class:`rnncourse.booknumbers.BookNumbers`.
"""
from __future__ import annotations

import re

from .booknumbers import BookNumbers

__all__ = ["LearnerMarkdownError", "to_commonmark", "bare_labels", "box", "ROLE", "TARGET",
           "LABELLED_MATH"]

#: A MyST role, ``{name}`content```.
ROLE = re.compile(r"\{([a-z][\w:-]*)\}`([^`]*)`")
#: A ``(label)=`` target line.
TARGET = re.compile(r"^\(([\w-]+)\)=[ \t]*$", re.M)
_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|:{3,})\{([\w:-]+)\}[ \t]*(.*)$")
_CODE_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_OPTION = re.compile(r"^:([\w-]+):[ \t]*(.*)$")
#: A labelled display equation, ``$$ ... $$ (eq-label)``: the maths, the label.
LABELLED_MATH = re.compile(r"\$\$(.+?)\$\$[ \t]*\(([\w-]+)\)", re.S)
_BARE = re.compile(r"(?<!`)\b(?:eq|fig)-\d\d-[\w-]*[^\W_]")  # eq-03-bound, not {eq}`eq-03-bound`
_EXPLICIT = re.compile(r"^(.*?)\s*<([\w:-]+)>$", re.S)   # {ref}`text <label>`

#: admonition class -> (alert class, border colour) of the box
_KINDS = {"note": ("alert-info", "#3b82c4"), "tip": ("alert-success", "#2e8b57"),
          "hint": ("alert-success", "#2e8b57"), "important": ("alert-warning", "#d08c00"),
          "warning": ("alert-warning", "#d08c00"), "caution": ("alert-warning", "#d08c00"),
          "seealso": ("alert-info", "#3b82c4"), "exercise": ("alert-info", "#5b5fc7")}


class LearnerMarkdownError(ValueError):
    """A Markdown cell holds MyST that the learner edition cannot turn into CommonMark."""


def box(kind: str, heading: str, body: str) -> str:
    """``heading`` and ``body`` (Markdown) in a coloured box that notebook clients render:
    Bootstrap's alert classes (classic Notebook, JupyterLab) and an inline border (others)."""
    alert, colour = _KINDS.get(kind, _KINDS["note"])
    return (f'<div class="alert alert-block {alert}" style="border-left: 4px solid {colour}; '
            f'padding: 0.2em 1em; margin: 1em 0;">\n\n{heading}\n\n{body.strip()}\n\n</div>')


def bare_labels(text: str, numbers: BookNumbers) -> str:
    """``text`` with the equation and figure labels it names in plain words (a caption, a
    claim's text: "the bounds of eq-03-bound") as the book numbers them: "(3.5)", "Fig. 3.4".
    Labels the build does not know are left as they are."""
    def number(m):
        label = m.group(0)
        if label in numbers.equations:
            return f"({numbers.equations[label]})"
        return numbers.numrefs.get(label, label)
    return _BARE.sub(number, text)


def _label_text(table: dict, label: str, what: str) -> str:
    if label not in table:
        raise LearnerMarkdownError(f"{what} {label!r} has no number in the book build (is the "
                                   "build current, and was it executed, so that figures exist?)")
    return table[label]


def _role(name: str, content: str, numbers: BookNumbers, cited: list[str]) -> str:
    explicit = _EXPLICIT.match(content)
    text, label = (explicit.group(1), explicit.group(2)) if explicit else (None, content.strip())
    if name == "ref":
        return text or _label_text(numbers.refs, label, "reference")
    if name == "numref":
        shown = _label_text(numbers.numrefs, label, "reference")
        if text:
            number = shown.split(" ", 1)[-1]
            return text.replace("%s", number).replace("{number}", number)
        return shown
    if name == "eq":
        return f"({_label_text(numbers.equations, label, 'equation')})"
    if name in ("cite", "cite:p", "cite:t"):
        keys = tuple(k.strip() for k in content.split(",") if k.strip())
        cited.extend(k for k in keys if k not in cited)
        return numbers.cite("t" if name == "cite:t" else "p", keys)
    if name == "math":
        return f"${content}$"
    raise LearnerMarkdownError(f"role {{{name}}}`{content}` has no CommonMark form in the "
                               "learner edition (rnncourse.learner_markdown)")


def _inline(text: str, numbers: BookNumbers, cited: list[str]) -> str:
    """Roles, targets and labelled equations of ``text`` outside code blocks."""
    def tag(m):
        label = m.group(2)
        number = _label_text(numbers.equations, label, "equation")
        return f"$$\n{m.group(1).strip()}\n\\tag{{{number}}}\n$$"

    text = LABELLED_MATH.sub(tag, text)
    text = ROLE.sub(lambda m: _role(m.group(1), m.group(2), numbers, cited), text)
    return TARGET.sub("", text).strip("\n") + "\n" if text.strip() else ""


def _directive(name: str, argument: str, lines: list[str], numbers: BookNumbers,
               cited: list[str]) -> str:
    options = {}
    while lines and _OPTION.match(lines[0]):
        key, value = _OPTION.match(lines[0]).groups()
        options[key], lines = value.strip(), lines[1:]
    body = to_commonmark("\n".join(lines), numbers, cited)
    title = _inline(argument, numbers, cited).strip()
    if name == "exercise":
        label = options.get("label", "")
        number = _label_text(numbers.exercises, label, "exercise")
        return box("exercise", f"**Exercise {number}** {title}".rstrip(), body)
    if name == "admonition":
        kind = next((c for c in options.get("class", "").split() if c in _KINDS), "note")
        return box(kind, f"**{title}**", body)
    if name in _KINDS:
        return box(name, f"**{name.capitalize()}**", f"{title}\n\n{body}")
    if name == "grid":
        return body
    if name == "grid-item-card":
        return f"**{title}**\n\n{body}"
    raise LearnerMarkdownError(f"directive {{{name}}} has no CommonMark form in the learner "
                               "edition (solutions must be removed before; others: add one to "
                               "rnncourse.learner_markdown)")


def _closing(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing the fence ``fence`` opened before ``start``."""
    close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
    for j in range(start, len(lines)):
        if close.match(lines[j]):
            return j
    raise LearnerMarkdownError(f"a {fence} fence is never closed")


def to_commonmark(text: str, numbers: BookNumbers, cited: list[str] | None = None) -> str:
    """``text`` (a Markdown cell's MyST) as CommonMark plus HTML; the keys it cites are
    appended to ``cited`` (once each, in order)."""
    cited = [] if cited is None else cited
    lines, out, plain, i = text.split("\n"), [], [], 0
    while i < len(lines):
        directive, code = _FENCE_OPEN.match(lines[i]), _CODE_FENCE.match(lines[i])
        if directive or code:
            out.append(_inline("\n".join(plain), numbers, cited))
            plain = []
            fence = (directive or code).group(1)
            end = _closing(lines, i + 1, fence)
            if directive:
                out.append(_directive(directive.group(2), directive.group(3),
                                      lines[i + 1:end], numbers, cited) + "\n")
            else:
                out.append("\n".join(lines[i:end + 1]) + "\n")
            i = end + 1
        else:
            plain.append(lines[i])
            i += 1
    out.append(_inline("\n".join(plain), numbers, cited))
    return "\n\n".join(part.strip("\n") for part in out if part.strip())
