"""Error types that the CLI turns into one clear paragraph and exit code 2.

Anything a user can fix (a config field, a data file, a plugin) raises ``MtkitError``
with a message that names the culprit and the fix; everything else is a bug.
"""

from __future__ import annotations


class MtkitError(Exception):
    """A problem the user can fix. ``str(err)`` is the whole message, one paragraph."""

    exit_code = 2


class ConfigError(MtkitError):
    """The config file (or a ``--set`` override) is invalid."""


class PluginError(MtkitError):
    """A plugin is unknown, ambiguous, broken or returned something invalid."""


class DataError(MtkitError):
    """A data file or a dataset plugin produced arrays that cannot be used."""


class TrainingError(MtkitError):
    """Training cannot go on (for instance a non-finite loss)."""


def first_line(exc: BaseException, limit: int = 240) -> str:
    """The first line of an exception's message (or its type name), cut to ``limit`` chars:
    enough to name a library's complaint inside one of our one-paragraph errors."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:limit]
