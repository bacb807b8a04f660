"""``mtkit new-plugin``: generate a third-party plugin package that works as written.

The generated package declares the ``mtkit`` entry point, holds one working plugin per kind
asked for (trunk, head, loss, weighting, dataset), its own tests, an example config and a
README. Nothing here imports TensorFlow.
"""

from mtkit.scaffold.generate import Scaffold, new_plugin, render
from mtkit.scaffold.names import KINDS, PluginNames, parse_kinds, parse_name

__all__ = ["KINDS", "PluginNames", "Scaffold", "new_plugin", "parse_kinds", "parse_name", "render"]
