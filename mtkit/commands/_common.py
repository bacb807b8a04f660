"""What the commands share: turning user-fixable errors into one paragraph and an exit code,
and bugs into a short "internal error, please report" paragraph (exit 1)."""

from __future__ import annotations

import errno
import os
import signal
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


def file_error(exc: OSError) -> str | None:
    """The message for a file-system error the user can fix (a path, permissions, a full
    disk), or None when the error names no file (then it is treated as a bug)."""
    if exc.filename is None and exc.errno != errno.ENOSPC:
        return None
    where = f" '{exc.filename}'" if exc.filename else ""
    return (f"cannot access{where}: {exc.strerror or exc}; check that the path exists, that "
            "you may write there and that the disk has space.")


class Interrupted(MtkitError):
    """Ctrl-C or SIGTERM, with what it left behind; exit 130 (128 + SIGINT)."""

    exit_code = 130


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM → KeyboardInterrupt, so cleanup (temp files, locks, staging) runs as for Ctrl-C."""
    raise KeyboardInterrupt


def check_path_text(path: Any, option: str) -> None:
    """A path the user typed must be text mtkit can print and store (UTF-8): a name with
    undecodable bytes reaches Python as lone surrogates that fail later, far from here."""
    if path is None:
        return
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise MtkitError(f"{option} '{shown}' contains bytes that are not UTF-8 text; mtkit "
                         "stores and prints paths as UTF-8. Rename it (or choose another "
                         "path) using UTF-8 characters only.") from None


def run_guarded(fn: Callable[[], Any]) -> Any:
    """Run a command body: an MtkitError prints ``error: <message>`` (and a check's table)
    and exits with its code (2 for bad input); a file-system error the user can fix exits 2;
    anything else is a bug: one "internal error, please report" paragraph and exit 1
    (``MTKIT_DEBUG=1`` shows tracebacks)."""
    try:
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (e.g. typer's test runner in a thread)
        pass
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
        typer.echo("error: interrupted; nothing was written (outputs appear only when "
                   "complete).", err=True)
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort, typer.BadParameter):  # typer's own control flow
        raise
    except Exception as exc:
        if debug_enabled():
            raise
        message = file_error(exc) if isinstance(exc, OSError) else None
        if message:
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(2) from None
        internal_error(exc)
