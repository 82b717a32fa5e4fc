"""The Italian edition: message catalogues of the book's prose and their checks (issue 25).

The book is written once, in English. Sphinx's gettext workflow cuts its prose into messages (a
paragraph, a heading, a list item, a caption, a table cell) and keeps one catalogue per page
under ``locales/it/LC_MESSAGES/``, where each English message (``msgid``) has its Italian
translation (``msgstr``). Code, code comments, printed outputs and figure labels are not
messages: there is one source of code for both languages.

``python -m rnncourse.i18n extract`` (``make catalogues``)
    writes the templates of every page with Sphinx's ``gettext`` builder, through Jupyter Book,
    into ``_build/i18n/gettext``, reading the notebooks from the execution cache of ``make book``
    (which must be current: no notebook executes here); the figures' captions and alt texts are
    extracted, the outputs of cells are not (they are results, not prose, and change when the
    code does: :func:`setup`), then updates the catalogues with ``sphinx-intl``:
    a new English message is added untranslated, a changed one keeps its old translation marked
    *fuzzy* (to be checked), and one that left the page is kept as *obsolete*.
``python -m rnncourse.i18n build`` (``make book-it``)
    builds the Italian book into ``_build/html/it/``, beside the English one, with the same
    toolchain and the same execution cache as ``make book`` (no notebook executes again), the
    book's title and the table of contents' captions in Italian (:data:`TITLE`, :data:`TOC`),
    warnings as errors. Every page of both books carries a language button that leads to the
    same page in the other language (:func:`setup`).
``python -m rnncourse.i18n check``
    fails, naming the page and the message, on every message that is untranslated, fuzzy or
    obsolete, and on every translation that drops or changes a role, a reference, a citation
    or inline math of its source (:func:`markup`); so a changed English paragraph fails the
    tests until its translation follows.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import book
from .repo import find_root

__all__ = ["LANGUAGE", "LOCALES", "TEMPLATES", "SUBDIR", "TITLE", "TOC", "SWITCH", "markup",
           "Problem", "check_catalogue", "check_catalogues", "catalogues", "extract",
           "tidy", "other_language_url", "italian_config", "build", "glossary_terms",
           "term_problems", "setup", "main"]

LANGUAGE = "it"
#: The catalogues, one per page, relative to the repository.
LOCALES = Path("locales")
#: Where ``extract`` leaves the templates (``.pot``), relative to the repository.
TEMPLATES = Path("_build") / "i18n" / "gettext"
#: Where the Italian book is served from, inside the English one.
SUBDIR = LANGUAGE
#: The book's title in Italian (``_config.yml``'s ``title`` is not a message).
TITLE = "Reti ricorrenti, in pratica"
#: The captions of ``_toc.yml``'s parts in Italian (not messages either).
TOC = {"Chapters": "Capitoli", "For readers and instructors": "Per chi legge e chi insegna"}
#: The language button: (its text, its tooltip) on a page of each language.
SWITCH = {"en": ("IT", "Leggi questa pagina in italiano"),
          "it": ("EN", "Read this page in English")}

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


def _read(path: Path):
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        return read_po(f, locale=LANGUAGE, abort_invalid=True)


def check_catalogue(path: Path, root: Path | None = None) -> list[Problem]:
    """Every problem of one catalogue (see the module's notes)."""
    root = Path(root or find_root())
    name = Path(path).relative_to(root).as_posix() if Path(path).is_absolute() else str(path)
    catalog = _read(Path(path))
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
        for message in _read(path):
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


def _untranslatable(document) -> None:
    """Mark what is not prose as not to be translated: the outputs of code cells (results,
    which change when the code does) and display math (a translated display equation renders
    as an empty formula)."""
    from docutils import nodes

    for node in document.findall(nodes.math_block):
        node["translatable"] = False
    for box in document.findall(nodes.container):
        if "cell_output" in box.get("classes", []):
            for node in box.findall(nodes.TextElement):
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


def italian_config(root: Path) -> tuple[Path, Path]:
    """Write the Italian book's configuration and table of contents (from ``_config.yml`` and
    ``_toc.yml``) into ``_build/i18n``; return their paths."""
    import yaml

    out = root / "_build" / "i18n"
    out.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    config["title"] = TITLE
    config.setdefault("execute", {})["cache"] = str(root / "_build" / ".jupyter_cache")
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx.update({"language": LANGUAGE, "locale_dirs": [str(root / LOCALES)],
                   "gettext_compact": False})
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    for part in toc.get("parts", []):
        if part.get("caption") not in TOC:
            raise ValueError(f"_toc.yml has a caption without an Italian one in "
                             f"rnncourse.i18n.TOC: {part.get('caption')!r}")
        part["caption"] = TOC[part["caption"]]
    conf, toc_path = out / "_config_it.yml", out / "_toc_it.yml"
    conf.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    toc_path.write_text(yaml.safe_dump(toc, sort_keys=False, allow_unicode=True),
                        encoding="utf-8")
    return conf, toc_path


def build(root: Path | None = None, *, timeout: int = 3600) -> subprocess.CompletedProcess:
    """Build the Italian book (see the module's notes) and copy it to ``_build/html/it``;
    return the finished process (stdout: the whole log)."""
    root = Path(root or find_root())
    conf, toc = italian_config(root)
    out = root / "_build" / "i18n" / "book"
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["RNNLAB_CHECKS_STRICT"] = "1"
    done = subprocess.run([book._jupyter_book(), "build", ".", "--all", "-W", "-n", "--keep-going",
                           "--config", str(conf), "--toc", str(toc), "--path-output", str(out)],
                          cwd=root, env=env, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)
    if done.returncode == 0:
        target = root / "_build" / "html" / SUBDIR
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(out / "_build" / "html", target)
    return done


def extract(root: Path | None = None) -> Path:
    """Write the templates (no execution) and update the Italian catalogues; return the
    catalogues' folder."""
    import yaml

    from .book import CACHE, HASH_FILE, rnnlab_hash, uncached_notebooks

    root = Path(root or find_root())
    stale = [p.name for p in uncached_notebooks(root)]
    built = (root / HASH_FILE).is_file() and \
        (root / HASH_FILE).read_text().strip() == rnnlab_hash(root)
    if stale or not built:
        raise RuntimeError("the execution cache is not current (" + (", ".join(stale) or
                           "rnnlab changed") + "): run `make book` first, so that the captions "
                           "and alt texts of the figures, which live with the cells' outputs, "
                           "are extracted without executing a notebook here")
    out = root / "_build" / "i18n"
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    config.setdefault("execute", {})["cache"] = str(root / CACHE)
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx["gettext_compact"] = False            # one catalogue per page
    sphinx["gettext_uuid"] = False
    sphinx["gettext_location"] = True
    out.mkdir(parents=True, exist_ok=True)
    conf = out / "_config_gettext.yml"
    conf.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    shutil.rmtree(root / TEMPLATES, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    subprocess.run([book._jupyter_book(), "build", ".", "--all", "--config", str(conf),
                    "--path-output", str(out), "--builder", "custom",
                    "--custom-builder", "gettext", "-q"],
                   cwd=root, env=env, check=True)
    built = out / "_build" / "gettext"
    if built.exists():
        shutil.move(str(built), str(root / TEMPLATES))
    subprocess.run([sys.executable, "-m", "sphinx_intl", "update", "-p", str(root / TEMPLATES),
                    "-l", LANGUAGE, "-d", str(root / LOCALES), "-w", "100"],
                   cwd=root, check=True)
    for path in catalogues(root):
        tidy(path)
    return root / LOCALES / LANGUAGE / "LC_MESSAGES"


#: Flags that Babel guesses from the text of a message: "1% of" reads as a Python %-format,
#: {ref}`x` as a brace format. The prose has no format strings, and with these flags msgfmt
#: --check rejects good translations ("1% rispetto" has a different "conversion" than "1% of").
_GUESSED_FLAGS = {"python-format", "python-brace-format"}


def tidy(path: Path) -> None:
    """Drop the guessed format flags and sphinx-intl's placeholder header (fuzzy, no
    translator) from one catalogue; what is translated is left as it is."""
    from babel.messages.pofile import write_po

    catalog = _read(path)
    catalog.fuzzy = False
    catalog.project = TITLE
    catalog.last_translator = "The Recurrent Networks, Hands-On authors"
    catalog.language_team = "Italiano"
    catalog.revision_date = catalog.creation_date
    for message in list(catalog) + list(catalog.obsolete.values()):
        message.flags -= _GUESSED_FLAGS
    with open(path, "wb") as f:
        write_po(f, catalog, width=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnncourse.i18n",
                                     description="the Italian edition's message catalogues")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("extract", help="write the templates and update the Italian catalogues")
    sub.add_parser("build", help="build the Italian book into _build/html/it")
    sub.add_parser("check", help="name every message not ready (untranslated, fuzzy, "
                                 "obsolete, markup changed)")
    args = parser.parse_args(argv)
    root = find_root()
    if args.command == "extract":
        print(f"updated the catalogues in {extract(root)}")
        return 0
    if args.command == "build":
        done = build(root)
        if done.returncode != 0:
            print("the Italian build failed:\n" + book.failure_summary(done.stdout),
                  file=sys.stderr)
            return 1
        print(f"built {root / '_build' / 'html' / SUBDIR / 'index.html'}")
        return 0
    problems = check_catalogues(root)
    for problem in problems:
        print(problem)
    n = len(catalogues(root))
    print(f"{n} catalogues, {len(problems)} messages not ready")
    return 1 if problems or not n else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
