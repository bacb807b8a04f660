"""The whole plugin contract of mtkit: markers, hook specs and the plugin API version.

A plugin is a module (found through the ``mtkit`` entry-point group) that implements
one or more of the hooks below with ``@mtkit.hookimpl``. Each hook receives a
``register`` callable; call it with a plugin class (a subclass of ``mtkit.Trunk``,
``mtkit.Head``, ``mtkit.Loss``, ``mtkit.Weighting`` or ``mtkit.Dataset``) whose class
attribute ``name`` is the name users write in their configs. Built-in plugins are
registered through exactly these hooks. The hooks are derived from
``mtkit.plugin_types.KIND_TABLE`` (one row per kind): ``register_trunks``,
``register_heads``, ``register_losses``, ``register_weightings``, ``register_datasets``.
"""

import pluggy

from mtkit.plugin_types import KIND_TABLE, PluginKind

PROJECT = "mtkit"
ENTRY_POINT_GROUP = "mtkit"
PLUGIN_API_VERSION = 1
"""Bumped when a hook or a plugin base class changes incompatibly. A plugin module may
declare the version it was written for as a literal, ``MTKIT_PLUGIN_API = 1``; the
registry then lists a package written for another version as broken, with what to do."""

API_ATTRIBUTE = "MTKIT_PLUGIN_API"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


def _spec(kind: PluginKind):
    """The hook spec of one kind: ``register_<plural>(register)``."""

    def spec(register):  # pragma: no cover - a spec has no body
        pass

    spec.__name__ = spec.__qualname__ = kind.hook
    spec.__doc__ = (f"Register {kind.role}: ``register(My{kind.base.__name__})`` with "
                    f"``My{kind.base.__name__}(mtkit.{kind.base.__name__})``.")
    return hookspec(spec)


# One hook per row of the kind table: register_trunks, register_heads, register_losses,
# register_weightings, register_datasets.
for _kind in KIND_TABLE:
    globals()[_kind.hook] = _spec(_kind)
del _kind
