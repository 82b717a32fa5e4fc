"""What the source of a book page promises its rendered page will show (tests/browser_check.py
checks the page against it): the display and inline math of its prose, the exercises with a
solution, and the figures its notebook names. Not a test module."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Expect:
    """What the source of a page promises the rendered page will show."""

    display_math: int = 0          # number of $$ ... $$ blocks
    inline_math: bool = False      # at least one $...$ in the prose
    solutions: list[str] = field(default_factory=list)   # exercise labels with a solution
    figures: list[str] = field(default_factory=list)     # names of the notebook's code figures


_FENCE = re.compile(r"^(`{3,}|~{3,})(?!\{)[^\n]*\n.*?^\1\s*$", re.M | re.S)  # code, not directives
_INLINE_CODE = re.compile(r"``.*?``|`[^`\n]*`")
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?=\S)[^$\n]+?(?<=\S)(?<!\\)\$(?!\$)")
_SOL_START = re.compile(r"\{solution-start\}\s*(ex-\d\d-\d+)")


def expectations(source: Path) -> Expect:
    """Read a page's ``.md`` or ``.ipynb`` source and count its math and gated solutions."""
    figures = []
    if source.suffix == ".ipynb":
        cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
        text = "\n\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                           for c in cells if c["cell_type"] == "markdown")
        figures = [c["metadata"]["mystnb"]["figure"]["name"] for c in cells
                   if c["cell_type"] == "code"
                   and c.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("name")]
    else:
        text = source.read_text(encoding="utf-8")
    solutions = _SOL_START.findall(text)
    prose = _INLINE_CODE.sub("", _FENCE.sub("", text))
    display = prose.count("$$") // 2
    inline = bool(_INLINE_MATH.search(re.sub(r"\$\$.*?\$\$", "", prose, flags=re.S)))
    return Expect(display_math=display, inline_math=inline, solutions=solutions, figures=figures)
