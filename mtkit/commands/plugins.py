"""``mtkit plugins`` (list), ``mtkit plugins --json`` and ``mtkit plugins show NAME``.

Everything shown comes from the plugin classes through ``mtkit.plugin_info``; no
TensorFlow is imported. Plugin text is printed with rich markup escaped, so a summary such
as ``P[y > k]`` survives as written.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mtkit.commands._common import run_guarded
from mtkit.errors import MtkitError

app = typer.Typer(
    name="plugins", invoke_without_command=True, no_args_is_help=False,
    help="List installed trunks, heads, losses, weightings and datasets, and their packages.")


@app.callback()
def list_plugins(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Machine-readable list, with each plugin's description, parameters "
        "(JSON Schema) and example.")] = False,
) -> None:
    """List installed trunks, heads, losses, weightings and datasets, and their packages."""
    if ctx.invoked_subcommand is not None:
        return

    def go() -> None:
        from mtkit.plugin_info import describe
        from mtkit.registry import get_registry

        entries = get_registry().all()
        if as_json:
            typer.echo(json.dumps([describe(e) for e in entries], indent=2, default=str))
            return
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table("kind", "name", "provider", "version", "status", "description")
        for e in entries:
            table.add_row(*(escape(str(v)) for v in (e.kind, e.name, e.provider, e.version,
                                                     e.status, e.summary)))
        Console().print(table)

    run_guarded(go)


@app.command()
def show(
    name: Annotated[str, typer.Argument(
        help="Plugin name as configs write it (or package:name); kind:name picks one kind.")],
) -> None:
    """Describe one plugin: what it does, its parameters with defaults, and an example config."""

    def go() -> None:
        from mtkit.plugin_info import show as render
        from mtkit.registry import get_registry

        reg = get_registry()
        kinds = {e.kind for e in reg.entries}
        kind, _, rest = name.partition(":")
        kind, ref = (kind, rest) if kind in kinds and rest else (None, name)
        provider, _, plugin = ref.rpartition(":")
        found = [e for e in reg.entries if e.name == plugin and (kind is None or e.kind == kind)
                 and (not provider or e.provider == provider)]
        if not found:
            import difflib

            close = difflib.get_close_matches(plugin, sorted({e.name for e in reg.entries}), n=1)
            hint = f" — did you mean '{close[0]}'?" if close else ""
            raise MtkitError(f"no installed plugin is named '{name}'{hint}; `mtkit plugins` "
                             "lists them all.")
        heads = sorted(((e.name, e.cls) for e in reg.entries if e.kind == "head"),
                       key=lambda h: (h[1].__module__.split(".")[0] != "mtkit", h[0]))
        typer.echo("\n".join(render(e, heads) for e in found).rstrip())

    run_guarded(go)
