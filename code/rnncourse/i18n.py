"""The Italian edition: its catalogues and its book (issue 25).

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
    code does: :mod:`rnncourse.i18n_sphinx`), then updates the catalogues (:func:`update`):
    a new English message is added untranslated, a changed one keeps its old translation marked
    *fuzzy* (to be checked), and one that left the page is kept as *obsolete*.
``python -m rnncourse.i18n build`` (``make book-it``)
    builds the Italian book into ``_build/html/it/``, beside the English one, with the same
    toolchain and the same execution cache as ``make book`` (no notebook executes again), the
    book's title and the table of contents' captions in Italian (:data:`TITLE`, :data:`TOC`),
    warnings as errors. Every page of both books carries a language button that leads to the
    same page in the other language (:mod:`rnncourse.i18n_sphinx`).
``python -m rnncourse.i18n check``
    fails, naming the page and the message, on every message that is untranslated, fuzzy or
    obsolete, and on every translation that drops or changes a role, a reference, a citation
    or inline math of its source (:mod:`rnncourse.catalogues`); so a changed English
    paragraph fails the tests until its translation follows.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import book
from .catalogues import LANGUAGE, LOCALES, catalogues, check_catalogues, read
from .i18n_sphinx import SUBDIR
from .repo import find_root

__all__ = ["LANGUAGE", "LOCALES", "TEMPLATES", "SUBDIR", "TITLE", "TOC", "tidy", "update",
           "extract", "italian_config", "build", "main"]

#: Where ``extract`` leaves the templates (``.pot``), relative to the repository.
TEMPLATES = Path("_build") / "i18n" / "gettext"
#: The book's title in Italian (``_config.yml``'s ``title`` is not a message).
TITLE = "Reti ricorrenti, in pratica"
#: The captions of ``_toc.yml``'s parts in Italian (not messages either).
TOC = {"Chapters": "Capitoli", "For readers and instructors": "Per chi legge e chi insegna"}


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
    # MyST-NB renders text/plain for the gettext builder; with the PNG, the figures' alt
    # texts (from the cells' metadata) become messages like their captions
    sphinx["nb_mime_priority_overrides"] = [["gettext", "image/png", 5]]
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
    folder = root / LOCALES / LANGUAGE / "LC_MESSAGES"
    for template in sorted((root / TEMPLATES).rglob("*.pot")):
        _add_exercise_titles(template, out / "_build" / ".doctrees" / template.relative_to(
            root / TEMPLATES).with_suffix(".doctree"))
        update(template, folder / template.relative_to(root / TEMPLATES).with_suffix(".po"))
    return folder


def _add_exercise_titles(template: Path, doctree: Path) -> None:
    """Add the exercises' titles of a page to its template. The translation step sees them
    (:mod:`rnncourse.i18n_sphinx` gives them a source), but the gettext builder reads each page
    after sphinx-exercise has rebuilt the titles without one; the page as read still has them."""
    import pickle

    from babel.messages.pofile import read_po, write_po

    from .i18n_sphinx import exercise_subtitles

    if not doctree.is_file():
        return
    with open(doctree, "rb") as f:
        titles = exercise_subtitles(pickle.load(f))
    if not titles:
        return
    with open(template, "rb") as f:
        pot = read_po(f)
    for node in titles:
        where = os.path.relpath(node.source, template.parent) if node.source else ""
        pot.add(node.rawsource or node.astext(), locations=[(where, node.line or 0)])
    with open(template, "wb") as f:
        write_po(f, pot, width=100)


def update(template: Path, path: Path) -> None:
    """Bring the catalogue ``path`` up to the template ``template`` (what ``sphinx-intl update``
    does, with Babel): new messages untranslated, changed ones fuzzy with their previous English
    kept as ``#| msgid`` for the translator, then :func:`tidy`."""
    from babel.messages.pofile import read_po, write_po

    with open(template, "rb") as f:
        pot = read_po(f)
    if path.exists():
        catalog = read(path)
    else:
        from babel.messages.catalog import Catalog

        catalog = Catalog(locale=LANGUAGE)
        path.parent.mkdir(parents=True, exist_ok=True)
    catalog.update(pot)
    with open(path, "wb") as f:
        write_po(f, catalog, width=100, include_previous=True)
    tidy(path)


#: Flags that Babel guesses from the text of a message: "1% of" reads as a Python %-format,
#: {ref}`x` as a brace format. The prose has no format strings, and with these flags msgfmt
#: --check rejects good translations ("1% rispetto" has a different "conversion" than "1% of").
_GUESSED_FLAGS = {"python-format", "python-brace-format"}


def tidy(path: Path) -> None:
    """Drop the guessed format flags, the obsolete messages and sphinx-intl's placeholder header
    (fuzzy, no translator) from one catalogue; what is translated is left as it is."""
    from babel.messages.pofile import write_po

    catalog = read(path)
    catalog.fuzzy = False
    catalog.project = TITLE
    catalog.last_translator = "The Recurrent Networks, Hands-On authors"
    catalog.language_team = "Italiano"
    catalog.revision_date = catalog.creation_date
    for message in catalog:
        message.flags -= _GUESSED_FLAGS
    catalog.obsolete.clear()                 # English that left the book: nothing to keep
    with open(path, "wb") as f:
        write_po(f, catalog, width=100, include_previous=True)


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
