"""What the commands share: turning user-fixable errors into one paragraph and an exit code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from mtkit.errors import MtkitError


def run_guarded(fn: Callable[[], Any]) -> Any:
    """Run ``fn``; an MtkitError prints ``error: <message>`` and exits with its code."""
    try:
        return fn()
    except MtkitError as exc:
        table = getattr(exc, "table", "")
        if table:
            typer.echo(table, err=True)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("error: interrupted.", err=True)
        raise typer.Exit(130) from None
