"""Find the fenced code blocks of the Markdown pages, with the markers that steer their tests.

Conventions (also described in tests/docs/test_examples.py):

* a block whose first line is ``# fragment`` (optionally ``# fragment: why``), or with
  ``<!-- docs-test: fragment -->`` on the line before it (invisible on the rendered page), is
  only parsed (YAML) or compiled (Python);
* ``<!-- embed: PATH -->`` on the line before a block: the block must equal that file;
* ``<!-- docs-test: skip REASON -->`` on the line before a block: not run, for the REASON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FENCE = re.compile(r"^(?P<fence>`{3,})(?P<lang>[\w+-]*)[^\n]*$")
MARKER = re.compile(r"^<!--\s*(?P<key>embed|docs-test):\s*(?P<value>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its text and its markers."""

    page: Path
    line: int
    lang: str
    text: str
    embed: str | None = None
    skip: str | None = None
    marked_fragment: bool = False

    @property
    def fragment(self) -> bool:
        first = self.text.lstrip().splitlines()[0].strip() if self.text.strip() else ""
        return self.marked_fragment or first == "# fragment" or first.startswith(
            ("# fragment:", "# fragment "))

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def doc_pages() -> list[Path]:
    """README.md and every page under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(page: Path) -> list[Block]:
    """Every top-level fenced block of ``page``, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, start = m["fence"], i
        j = i + 1
        while j < len(lines) and not lines[j].startswith(fence):
            j += 1
        prev = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
        marker = MARKER.match(prev.strip())
        embed = marker["value"] if marker and marker["key"] == "embed" else None
        skip, fragment = None, False
        if marker and marker["key"] == "docs-test":
            directive, _, reason = marker["value"].partition(" ")
            if directive == "skip":
                skip = reason or "no reason given"
            elif directive == "fragment":
                fragment = True
            else:
                raise ValueError(f"{page}:{start}: unknown marker 'docs-test: {directive}' "
                                 "(use fragment or skip REASON)")
        text = "\n".join(lines[start + 1:j]) + "\n"
        found.append(Block(page, start + 1, m["lang"].lower(), text, embed, skip, fragment))
        i = j + 1
    return found


def all_blocks(*langs: str) -> list[Block]:
    return [b for p in doc_pages() for b in blocks(p) if not langs or b.lang in langs]
