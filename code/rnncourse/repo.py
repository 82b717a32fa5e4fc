"""Where the course's repository is: the folder holding ``_config.yml`` (the book's
configuration), found by searching upward, first from the current directory, then from this
module (which lies in ``code/rnncourse/`` of a clone). The tooling runs from a clone of the
repository, never from an installed package: the wheel that learners install holds ``rnnlab``
alone.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["MARKER", "RepositoryNotFound", "find_root"]

#: The file that marks the repository's root folder.
MARKER = "_config.yml"


class RepositoryNotFound(FileNotFoundError):
    """No folder holding ``_config.yml`` above the current directory or this module."""


def find_root(start=None) -> Path:
    """The nearest folder holding :data:`MARKER`, at or above ``start`` (default: the current
    directory, then this module's folder). Raises :class:`RepositoryNotFound` saying where it
    looked."""
    starts = [Path(start)] if start is not None else [Path.cwd(), Path(__file__).parent]
    for first in starts:
        for folder in [first.resolve(), *first.resolve().parents]:
            if (folder / MARKER).is_file():
                return folder
    raise RepositoryNotFound(
        f"the course's tooling (rnncourse) runs in a clone of its repository: no {MARKER} in "
        f"{' or '.join(str(s.resolve()) for s in starts)} or any folder above; run it from the "
        "clone's root, e.g. `cd recurrent-networks-hands-on && python -m rnncourse.book`")
