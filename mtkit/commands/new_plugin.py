"""``mtkit new-plugin NAME``: write a ready third-party plugin package (see ``mtkit.scaffold``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mtkit.commands._common import run_guarded


def new_plugin(
    name: Annotated[str, typer.Argument(
        help="Distribution name of the new package, e.g. mtkit-acme (lowercase, '-' or '_').")],
    kind: Annotated[str | None, typer.Option(
        "--kind", "-k",
        help="Plugins to generate, comma-separated: trunk,head,loss,weighting,dataset "
             "(default: all five).")] = None,
    directory: Annotated[Path | None, typer.Option(
        "--dir", "-d", help="Package folder to create (default: ./NAME); must be new or empty.")
    ] = None,
) -> None:
    """Create a plugin package: entry point, one working plugin per kind, tests, README."""

    def go() -> None:
        from mtkit.scaffold import new_plugin as scaffold
        from mtkit.scaffold import parse_kinds

        made = scaffold(name, parse_kinds(kind), directory)
        typer.echo(f"created {made.names.dist} in {made.root}:")
        for kind_name, plugin in made.plugins.items():
            typer.echo(f"  {kind_name:<9} {plugin}")
        typer.echo(
            f"next: cd {made.root} && pip install -e '.[test]' && pytest && "
            f"mtkit train src/{made.names.package}/example.yaml --out runs/{made.names.short}"
        )

    run_guarded(go)
