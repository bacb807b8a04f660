"""Check a new plugin package's name and derive every name the generated files use.

One user-given name (``mtkit-acme``) fixes the distribution name, the import package
(``mtkit_acme``), the entry-point name (``acme``) and the config name of each plugin
(``acme_trunk``, ``acme_head``, ...), so the generated files agree with each other.
"""

from __future__ import annotations

import keyword
import re
import sys
from dataclasses import dataclass

from mtkit.errors import MtkitError
from mtkit.plugin_types import KIND_TABLE

KINDS: tuple[str, ...] = tuple(k.name for k in KIND_TABLE)
"""Plugin kinds a package can be scaffolded with, in the order files are generated."""

NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")

# Import names a plugin package must not take: it would shadow a module mtkit needs.
RESERVED = frozenset({"mtkit", "tensorflow", "keras", "numpy", "pydantic", "pluggy", "yaml",
                      "onnx", "onnxruntime", "tf2onnx", "typer", "rich", "tests", "test"})


@dataclass(frozen=True)
class PluginNames:
    """Every name derived from the package name the user chose."""

    dist: str
    """Distribution name, as in ``pip install mtkit-acme``."""
    package: str
    """Import package under ``src/`` (``mtkit_acme``)."""
    short: str
    """Entry-point name and prefix of the plugin names (``acme``)."""
    camel: str
    """Class-name prefix (``Acme``)."""

    def plugin(self, kind: str) -> str:
        """The name configs write for this package's plugin of ``kind`` (``acme_trunk``)."""
        return f"{self.short}_{kind}"


def parse_name(name: str) -> PluginNames:
    """Validate ``name`` (e.g. ``mtkit-acme``) and derive the other names; MtkitError if unusable."""
    if not NAME_RE.match(name):
        raise MtkitError(
            f"plugin name '{name}' is not valid: use lowercase letters and digits, words joined "
            "by '-' or '_', starting with a letter (for example mtkit-acme)."
        )
    package = name.replace("-", "_")
    short = re.sub(r"^mtkit[-_]", "", name).replace("-", "_")
    if name == "mtkit" or not short:
        raise MtkitError(f"plugin name '{name}' is not valid: it needs a name of its own after "
                         "'mtkit-' (for example mtkit-acme).")
    if keyword.iskeyword(package) or package in RESERVED or package in sys.stdlib_module_names:
        raise MtkitError(
            f"plugin name '{name}' is not valid: its import name '{package}' is a Python keyword "
            "or a module that mtkit or Python already uses; pick another (for example mtkit-acme)."
        )
    camel = "".join(part.capitalize() for part in short.split("_"))
    return PluginNames(dist=name, package=package, short=short, camel=camel)


def parse_kinds(text: str | None) -> tuple[str, ...]:
    """``"trunk,loss"`` → ``("trunk", "loss")`` in canonical order; None or ``""`` → all kinds."""
    if text is None or not text.strip():
        return KINDS
    asked = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in asked if k not in KINDS]
    if unknown:
        raise MtkitError(f"--kind: unknown plugin kind '{unknown[0]}'; choose one or more of "
                         f"{', '.join(KINDS)}, separated by commas.")
    return tuple(k for k in KINDS if k in asked)
