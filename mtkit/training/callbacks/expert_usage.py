"""Expert utilisation of a gated trunk: per gate, the mean softmax weight of each expert
over the diagnostics sample (``train.diagnostics_rows``), read from the layers the trunk
declares in ``Trunk.gates``.

An expert whose mean weight stays near 0 for every task is unused; a task whose gate
puts ~1 on one expert has, in effect, no mixture. Cost: one forward pass of the trunk on
the sample, once per epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mtkit.errors import PluginError
from mtkit.plugin_types import Gate


def _path_to(model: Any, name: str) -> list[Any] | None:
    """The nested models from ``model`` down to its layer ``name`` (both ends included)."""
    for sub in getattr(model, "layers", []):
        if sub.name == name:
            return [model, sub]
        deeper = _path_to(sub, name)
        if deeper:
            return [model, *deeper]
    return None


def _to_core(model: Any, path: list[Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Inputs of ``model`` → inputs of the trunk: the same, or (a raw-column table, whose
    full model nests the core holding the trunk) through the category lookups."""
    if len(path) == 2:
        return lambda x: x
    from mtkit.tabular.keras_model import CORE, core_inputs

    if len(path) == 3 and path[1].name == CORE:
        return lambda x: core_inputs(model, x)
    raise PluginError("diagnostics: the trunk sits inside "
                      f"{' > '.join(m.name for m in path[1:-1])}; only a model's own trunk or "
                      "a table's core trunk can be probed for gate weights.")


def gate_probe(trunk_plugin: Any, tasks: list[Any], model: Any
               ) -> Callable[[dict[str, Any]], list[dict[str, Any]]] | None:
    """A function ``rows -> [{task, layer, experts: {name: mean weight}}]``, or None when the
    trunk declares no gates. Checks every declared layer against the built trunk first."""
    gates: list[Gate] = list(trunk_plugin.gates(tasks))
    if not gates:
        return None
    import keras

    who = f"trunk '{trunk_plugin.name}' (module '{type(trunk_plugin).__module__}')"
    path = _path_to(model, "trunk")
    if path is None:
        raise PluginError(f"{who} declares gates, but the model has no 'trunk' layer.")
    trunk = path[-1]
    names = {layer.name for layer in trunk.layers}
    missing = sorted({g.layer for g in gates} - names)
    if missing:
        raise PluginError(
            f"{who} declares gate layer(s) {', '.join(map(repr, missing))} in gates(), but its "
            "built model has no such layer; gates() must name the softmax layers build() creates.")
    layers = sorted({g.layer for g in gates})
    probe = keras.Model(trunk.inputs, {k: trunk.get_layer(k).output for k in layers},
                        name="gate_probe")
    feed = _to_core(model, path)

    def usage(inputs: dict[str, Any]) -> list[dict[str, Any]]:
        out = {k: np.asarray(v, np.float64) for k, v in probe(feed(inputs), training=False).items()}
        rows = []
        for g in gates:
            w = out[g.layer]
            if w.ndim != 2 or w.shape[1] != len(g.experts):
                raise PluginError(
                    f"{who}: gate layer '{g.layer}' outputs shape {w.shape[1:]} per row, but "
                    f"gates() lists {len(g.experts)} experts for it; declare one expert name per "
                    "column of the gate's softmax.")
            mean = w.mean(axis=0)
            rows.append({"task": g.task, "layer": g.layer,
                         "experts": {e: float(m) for e, m in zip(g.experts, mean, strict=True)}})
        return rows

    return usage
