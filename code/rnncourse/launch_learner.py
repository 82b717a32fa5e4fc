"""The launch buttons of a chapter page open its learner edition (issue 23); a Sphinx extension.

sphinx-book-theme points the Binder, JupyterHub and Colab buttons of every page at the page's
own source, ``chapters/NN_slug.ipynb``: the authors' edition, with the solutions in place and
MyST markup that a notebook client shows as raw text. Run after the theme has made the buttons,
this extension points them at ``learner/NN_slug.ipynb`` instead, the learner edition that the
repository carries (``make learner`` writes it from the chapters and the built book; a test
keeps the committed files equal to what the generator writes). The "Live Code" (Thebe) button
runs the page's own cells and is left alone, as are the buttons of every other page.
"""
from __future__ import annotations

import re

__all__ = ["LEARNER_DIR", "learner_url", "setup"]

#: The repository folder that holds the learner edition.
LEARNER_DIR = "learner"
#: A chapter notebook in a launch URL (Binder's ``urlpath``, Colab's and the hub's path).
_CHAPTER = re.compile(r"(?<!\w)chapters/(\d\d_[\w-]+\.ipynb)\b")
#: The theme's group of launch buttons in the page's header.
_GROUP = "launch-buttons"


def learner_url(url: str) -> str:
    """``url`` with the chapter notebook it opens replaced by its learner edition."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, got {type(url).__name__}")
    return _CHAPTER.sub(LEARNER_DIR + r"/\1", url)


def _point_to_learner(app, pagename, templatename, context, doctree) -> None:
    if not _CHAPTER.fullmatch(f"{pagename}.ipynb"):
        return
    for group in context.get("header_buttons", []):
        if isinstance(group, dict) and group.get("label") == _GROUP:
            for button in group.get("buttons", []):
                if "url" in button:
                    button["url"] = learner_url(button["url"])


def setup(app):
    # the theme adds its launch buttons at priority 501; this runs after it
    app.connect("html-page-context", _point_to_learner, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
