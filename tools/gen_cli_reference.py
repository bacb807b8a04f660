"""Write docs/cli.md from the typer app (run: python tools/gen_cli_reference.py).

Every command, argument and option comes from ``mtkit.cli.app`` itself; a test regenerates
the page and fails when the committed one differs, so the reference cannot drift from the CLI.
"""

from __future__ import annotations

import inspect
import sys
import typing
from pathlib import Path
from typing import Any

import typer.main

from mtkit.cli import app

OUT = Path(__file__).resolve().parents[1] / "docs" / "cli.md"

INTRO = """# CLI reference

Generated from the `mtkit` command line by `tools/gen_cli_reference.py`; do not edit by
hand. Every command prints problems you can fix as one paragraph, `error: <message>`, and
exits with status 2 (130 when interrupted); [Errors and fixes](errors.md) lists them.
`mtkit --help` and `mtkit COMMAND --help` show the same text in the terminal.
"""

TYPE_NAMES = {str: "TEXT", int: "INTEGER", float: "FLOAT", Path: "PATH", bool: "BOOLEAN"}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _value_type(annotation: Any) -> str:
    """``Path | None`` → PATH; ``list[str]`` → TEXT (the option is repeatable)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (list, tuple) or (args and annotation not in TYPE_NAMES):
        return _value_type(args[0]) if args else "TEXT"
    return TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)).upper())


def _is_argument(param: Any) -> bool:
    return getattr(param, "param_type_name", "") == "argument"


def _annotation(param: Any) -> Any:
    descriptor = getattr(param, "type_descriptor", None)
    return getattr(descriptor, "annotation", str)


def _usage(path: str, command: Any) -> str:
    parts = [path]
    if any(not _is_argument(p) for p in command.params):
        parts.append("[OPTIONS]")
    for p in command.params:
        if _is_argument(p) and not getattr(p, "hidden", False):
            name = p.name.upper() + ("..." if p.multiple or p.nargs == -1 else "")
            parts.append(name if p.required else f"[{name}]")
    return " ".join(parts)


def _argument_rows(command: Any) -> list[str]:
    rows = []
    for p in command.params:
        if not _is_argument(p) or getattr(p, "hidden", False):
            continue
        many = " (one or more)" if p.multiple or p.nargs == -1 else ""
        need = "required" if p.required else "optional"
        rows.append(f"| `{p.name.upper()}` | {_value_type(_annotation(p))}{many} | {need} | "
                    f"{_cell(p.help or '')} |")
    return rows


def _option_rows(command: Any) -> list[str]:
    rows = []
    for p in command.params:
        if _is_argument(p) or getattr(p, "hidden", False):
            continue
        names = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
        if getattr(p, "is_flag", False):
            kind = "flag"
            default = "on" if p.default else "off"
        else:
            kind = _value_type(_annotation(p)) + (" (repeatable)" if p.multiple else "")
            default = "—" if p.default is None else f"`{p.default}`"
        rows.append(f"| {names} | {kind} | {default} | {_cell(p.help or '')} |")
    return rows


def _command(path: str, command: Any) -> list[str]:
    out = [f"## `{path}`", "", inspect.cleandoc(command.help or ""), "", "```text",
           _usage(path, command), "```", ""]
    arguments, options = _argument_rows(command), _option_rows(command)
    if arguments:
        out += ["| argument | type | | meaning |", "|---|---|---|---|", *arguments, ""]
    if options:
        out += ["| option | type | default | meaning |", "|---|---|---|---|", *options, ""]
    return out


def _walk(path: str, group: Any) -> list[tuple[str, Any]]:
    found = []
    for name, command in group.commands.items():
        if getattr(command, "hidden", False):
            continue
        sub = f"{path} {name}"
        if hasattr(command, "commands"):  # a group: its own options (when it runs alone), then its commands
            found += ([(sub, command)] if command.invoke_without_command else []) + _walk(sub, command)
        else:
            found.append((sub, command))
    return found


def render() -> str:
    """The whole page, as committed in docs/cli.md."""
    root = typer.main.get_command(app)
    commands = _walk("mtkit", root)
    lines = [INTRO, inspect.cleandoc(root.help or ""), "", "| command | what it does |",
             "|---|---|"]
    for path, command in commands:
        anchor = path.replace(" ", "-")
        summary = _cell(inspect.cleandoc(command.help or "").split("\n\n")[0])
        lines.append(f"| [`{path}`](#{anchor}) | {summary} |")
    lines.append("")
    for path, command in commands:
        lines += _command(path, command)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUT}\n")
