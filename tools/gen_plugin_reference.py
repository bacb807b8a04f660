"""Write docs/builtin-<kind>.md, one page per plugin kind with a section per built-in plugin,
from each plugin class (docstring, ``Params``, ``example``): run
``python tools/gen_plugin_reference.py``.

A test regenerates the pages and fails when a committed one differs, so a plugin's page
cannot drift from its code; a new built-in plugin file gets its section by running this.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mtkit.plugin_info import markdown
from mtkit.plugin_types import KIND_TABLE
from mtkit.registry import BUILTIN_PROVIDER, load_registry

DOCS = Path(__file__).resolve().parents[1] / "docs"

INTRO = """# Built-in {title}

Generated from the plugin classes by `tools/gen_plugin_reference.py`; do not edit by hand.
Each section shows the plugin's description, its parameters (validated by its `Params`;
unknown keys are refused) and a config that uses it with its example parameters.
`mtkit plugins show NAME` prints the same in the terminal, and `mtkit plugins --json`
gives the parameters as JSON Schema. Writing your own: [Writing a plugin](plugins.md).

| name | what it does |
|---|---|
"""


def page_name(plural: str) -> str:
    return f"builtin-{plural}.md"


def render() -> dict[str, str]:
    """``{file name under docs/: text}`` for every kind."""
    entries = [e for e in load_registry(entry_points=False).entries if e.provider == BUILTIN_PROVIDER]
    heads = sorted((e.name, e.cls) for e in entries if e.kind == "head")
    pages = {}
    for kind in KIND_TABLE:
        mine = sorted((e for e in entries if e.kind == kind.name), key=lambda e: e.name)
        lines = [INTRO.format(title=kind.plural).rstrip("\n")]
        lines += [f"| [`{e.name}`](#{e.name}) | "
                  f"{e.summary.replace('|', chr(92) + '|')} |" for e in mine]
        lines.append("")
        for e in mine:
            lines += markdown(e, heads)
        pages[page_name(kind.plural)] = "\n".join(lines).rstrip() + "\n"
    return pages


if __name__ == "__main__":
    for name, text in render().items():
        (DOCS / name).write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {DOCS / name}\n")
