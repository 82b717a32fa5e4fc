"""The checks of the Italian catalogues (the Italian edition, :mod:`rnncourse.i18n`).

* :func:`check_catalogue` / :func:`check_catalogues`: every message untranslated, fuzzy (its
  English changed since it was translated) or obsolete (its English left the page), and every
  translation that drops or changes a role's target, a citation, inline math or a link target
  of its source (:func:`markup`), named by catalogue and line.
* :func:`term_problems`: one term per concept. Each translated message whose English uses a
  term of the glossary (chapters/glossary.md, the "**Italiano:**" renderings of each entry,
  :func:`glossary_terms`) must use one of that term's Italian renderings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .repo import find_root

__all__ = ["LANGUAGE", "LOCALES", "markup", "Problem", "catalogues", "check_catalogue",
           "check_catalogues", "glossary_terms", "term_problems"]

#: The language of the translation, and where its catalogues live (one per page).
LANGUAGE = "it"
LOCALES = Path("locales")

# What must survive translation unchanged: MyST roles with their target ({ref}`ch03`,
# {eq}`eq-03-bound`, {cite:t}`bengio1994learning`), inline math ($...$) and Markdown link
# targets (...](03_vanishing_exploding.ipynb#...)).
_ROLE = re.compile(r"(?<!`)\{[a-z:-]+\}`[^`]*`")    # not inline code such as `{solution-start}`
_MATH = re.compile(r"(?<![\\$])\$(?!\$)([^$]+?)(?<!\\)\$")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_ROLE_TEXT = re.compile(r"^\{(?P<role>[a-z:-]+)\}`(?:(?P<text>[^`<]*?)\s*<(?P<target>[^`>]+)>"
                        r"|(?P<bare>[^`]*))`$")


def markup(text: str) -> list[str]:
    """The parts of a message that its translation must keep as they are, sorted: each role's
    name and target (a role's own link text may be translated: ``{ref}`text <target>```), each
    inline formula and each link target."""
    parts = []
    for role in _ROLE.findall(text):
        m = _ROLE_TEXT.match(role)
        target = m.group("target") or m.group("bare") if m else role
        parts.append(f"{{{m.group('role') if m else '?'}}}{target}")
    parts += [f"${formula.strip()}$" for formula in _MATH.findall(text)]
    parts += [f"]({target})" for target in _LINK.findall(text)]
    return sorted(parts)


@dataclass(frozen=True)
class Problem:
    """One message of one catalogue that is not ready: where, what, and the message."""
    catalogue: str
    line: int
    kind: str
    message: str

    def __str__(self) -> str:
        text = " ".join(self.message.split())
        return f"{self.catalogue}:{self.line}: {self.kind}: {text[:100]}"


def read(path: Path):
    """One catalogue, as Babel reads it."""
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        return read_po(f, locale=LANGUAGE, abort_invalid=True)


def check_catalogue(path: Path, root: Path | None = None) -> list[Problem]:
    """Every problem of one catalogue (see the module's notes)."""
    root = Path(root or find_root())
    name = Path(path).relative_to(root).as_posix() if Path(path).is_absolute() else str(path)
    catalog = read(Path(path))
    problems = []
    for message in catalog:
        if not message.id:
            continue                                     # the header
        line = message.lineno or 0
        source = message.id if isinstance(message.id, str) else message.id[0]
        target = message.string if isinstance(message.string, str) else message.string[0]
        if message.fuzzy:
            problems.append(Problem(name, line, "fuzzy (its English changed; check it)", source))
        elif not target:
            problems.append(Problem(name, line, "untranslated", source))
        elif markup(source) != markup(target):
            missing = sorted(set(markup(source)) - set(markup(target)))
            extra = sorted(set(markup(target)) - set(markup(source)))
            problems.append(Problem(name, line, f"markup differs (missing {missing}, extra "
                                    f"{extra})", source))
    for message in catalog.obsolete.values():
        source = message.id if isinstance(message.id, str) else message.id[0]
        problems.append(Problem(name, message.lineno or 0,
                                "obsolete (its English left the page; delete it)", source))
    return problems


def catalogues(root: Path | None = None) -> list[Path]:
    """The Italian catalogues of the repository, in path order."""
    root = Path(root or find_root())
    return sorted((root / LOCALES / LANGUAGE / "LC_MESSAGES").rglob("*.po"))


def check_catalogues(root: Path | None = None) -> list[Problem]:
    """Every problem of every Italian catalogue."""
    root = Path(root or find_root())
    return [p for path in catalogues(root) for p in check_catalogue(path, root)]


def glossary_terms(root: Path | None = None) -> dict[str, list[str]]:
    """The glossary's pairs: each English term with its Italian renderings (the italic words
    of its entry's "**Italiano:**" line, e.g. ``"forget gate": ["gate di forget",
    "dimenticanza"]``)."""
    root = Path(root or find_root())
    text = (root / "chapters" / "glossary.md").read_text(encoding="utf-8")
    lines = text[text.index("```{glossary}"):].splitlines()
    pairs = {}
    for line, after in zip(lines, lines[1:]):
        if line and not line.startswith((" ", "`", ":")) and "**Italiano:**" in after:
            italian = after.split("**Italiano:**", 1)[1].split(". ", 1)[0]
            pairs[line.strip()] = re.findall(r"\*([^*]+)\*", italian)
    return pairs


def _has_term(text: str, italian: str) -> bool:
    # every word of the term, up to its ending (gradiente/gradienti, nascosto/nascosti,
    # pesi/pesa)
    low = text.lower()
    return all(w[:max(3, len(w) - 2)].lower() in low
               for w in re.findall(r"\w+", italian) if len(w) > 3)


_CODE = re.compile(r"`[^`]*`")


def _prose(text: str) -> str:
    """``text`` without its inline code and the targets of its roles (``attention.Seq2Seq``,
    {numref}`fig-07-attention` name code and labels, not the concept)."""
    return _CODE.sub(" ", _ROLE.sub(" ", text))


def term_problems(root: Path | None = None) -> list[Problem]:
    """Translated messages whose English uses a glossary term and whose Italian uses none of
    that term's renderings (one term per concept; the glossary's own page is exempt)."""
    root = Path(root or find_root())
    pairs = glossary_terms(root)
    patterns = {en: re.compile(r"\b" + re.escape(en) + r"(s|es)?\b", re.I) for en in pairs}
    problems = []
    for path in catalogues(root):
        if path.stem == "glossary":
            continue
        for message in read(path):
            if not message.id or not message.string or message.fuzzy:
                continue
            for en, pattern in patterns.items():
                if pattern.search(_prose(message.id)) and pairs[en] and \
                        not any(_has_term(message.string, it) for it in pairs[en]):
                    problems.append(Problem(path.relative_to(root).as_posix(),
                                            message.lineno or 0,
                                            f"glossary term {en!r} not rendered as "
                                            f"{' or '.join(pairs[en])}", message.id))
    return problems
