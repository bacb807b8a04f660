"""The whole plugin contract of mtkit: markers, hook specs and the plugin API version.

A plugin is a module (found through the ``mtkit`` entry-point group) that implements
one or more of the hooks below with ``@mtkit.hookimpl``. Each hook receives a
``register`` callable; call it with a plugin class (a subclass of ``mtkit.Trunk``,
``mtkit.Head``, ``mtkit.Loss``, ``mtkit.Weighting`` or ``mtkit.Dataset``) whose class
attribute ``name`` is the name users write in their configs. Built-in plugins are
registered through exactly these hooks.
"""

import pluggy

PROJECT = "mtkit"
ENTRY_POINT_GROUP = "mtkit"
PLUGIN_API_VERSION = 1
"""Bumped when a hook or a plugin base class changes incompatibly."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_trunks(register):
    """Register shared-layer builders: ``register(MyTrunk)`` with ``MyTrunk(mtkit.Trunk)``."""


@hookspec
def register_heads(register):
    """Register task-specific top layers: ``register(MyHead)`` with ``MyHead(mtkit.Head)``."""


@hookspec
def register_losses(register):
    """Register per-example losses: ``register(MyLoss)`` with ``MyLoss(mtkit.Loss)``."""


@hookspec
def register_weightings(register):
    """Register ways to combine per-task losses or gradients: ``MyWeighting(mtkit.Weighting)``."""


@hookspec
def register_datasets(register):
    """Register data sources yielding inputs and one label per task: ``MyData(mtkit.Dataset)``."""
