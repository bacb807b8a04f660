"""What the commands share: turning user-fixable errors into one paragraph and an exit code,
and bugs into a short "internal error, please report" paragraph (exit 1)."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

import typer

from mtkit.errors import MtkitError

DEBUG_VAR = "MTKIT_DEBUG"


def debug_enabled() -> bool:
    """``MTKIT_DEBUG=1``: show tracebacks (for bug reports and plugin authors)."""
    return os.environ.get(DEBUG_VAR, "").strip() not in ("", "0")


def internal_error(exc: BaseException) -> NoReturn:
    """A bug (any exception that is not an MtkitError): ask for a report, exit 1."""
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    typer.echo(
        f"error: internal error ({type(exc).__name__}: {first}). This is a bug in mtkit or in "
        "one of its plugins, not a problem with your input; please report it, with the command "
        f"you ran, your config and the traceback that the same command prints with {DEBUG_VAR}=1 "
        "set in the environment.", err=True)
    raise typer.Exit(1) from None


def run_guarded(fn: Callable[[], Any]) -> Any:
    """Run ``fn``; an MtkitError prints ``error: <message>`` and exits with its code."""
    try:
        return fn()
    except MtkitError as exc:
        if debug_enabled():
            traceback.print_exc()
        table = getattr(exc, "table", "")
        if table:
            typer.echo(table, err=True)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("error: interrupted.", err=True)
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort, typer.BadParameter):  # typer's own control flow
        raise
    except Exception as exc:
        if debug_enabled():
            raise
        internal_error(exc)
