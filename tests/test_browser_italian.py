"""The Italian book (issue 25) in headless Chromium, page by page, as tests/test_browser.py
opens the English one (its fixtures, its checks): math typeset, images and interactive figures
drawn and moved, links, solutions gated, no console error or request leaving the machine; and,
in Italian, <html lang="it">, no English paragraph of prose, a language button that leads to
the same page of the English book (tests/browser_language.py). The full-page screenshots and
the check at a phone's width, which loads each page again, are left to the English pages: the
two books share their layout, styles and figures.

A file of its own, so that the test runner can give it to the other worker than the English
pages (conftest.py's FIRST).
"""
from __future__ import annotations

import browser_language as bl
from page_sources import Expect, expectations
from test_browser import (  # noqa: F401  (fixtures)
    _exists,
    book,
    chromium,
    chromium_path,
    site,
    source_of,
    toc_entries,
)


def test_every_italian_page_as_a_reader_sees_it(site, subtests):  # noqa: F811 (a fixture)
    """The Italian book (issue 25), each page as the English one is checked, and in Italian:
    <html lang="it">, no English paragraph of prose, a language button to the English page."""
    for entry in toc_entries():
        with subtests.test(page=f"it/{entry}"):
            source = source_of(entry)
            expect = expectations(source) if source else Expect()
            rel = f"it/{entry}.html"
            report = site.check(rel, expect, overflow=False)
            problems = report.problems + bl.language_problems(site.page, site.base + rel,
                                                              "it", _exists)
            assert not problems, f"{rel} ({len(problems)} problems):\n  " + \
                "\n  ".join(problems)
