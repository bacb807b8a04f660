"""Raw head outputs → readable predictions, by the decoders the plugins name in the model.

Each task's decode spec (``mtkit.task.<name>`` metadata) carries ``decoder``: the dotted
path ``module:function`` of its head's numpy-only decoder (``mtkit.Head.decoder``); the
model-level spec may name a dataset's decoder the same way (e.g. the multi-digit plugin's
number reader). The runtime imports that module, which must need nothing but numpy. A
decoder is only imported from ``mtkit`` itself or from a package that declares an
``mtkit`` entry point (an installed plugin), so a model file cannot make the runtime
import arbitrary code. A spec without a usable decoder passes the raw output through
(``{"raw": [...]}``), with one warning saying which package to install.
"""

from __future__ import annotations

import importlib
import warnings
from functools import cache
from importlib import metadata
from typing import Any

import numpy as np

from mtkit.runtime.metadata import ModelMeta, TaskMeta

LEGACY_DECODERS = {
    "categorical": "mtkit.builtin.heads._decode:categorical",
    "binary": "mtkit.builtin.heads._decode:binary",
    "multilabel": "mtkit.builtin.heads._decode:multilabel",
    "regression": "mtkit.builtin.heads._decode:regression",
}
"""For specs written before decoders were named in the file (models exported by earlier
mtkit versions, and plugin heads whose ``decode_spec`` does not extend the base one): the
built-in heads' output types map to the built-in decoders."""


@cache
def allowed_packages() -> frozenset[str]:
    """Top-level packages a decoder may come from: mtkit and every installed plugin."""
    tops = {"mtkit"}
    for ep in metadata.entry_points(group="mtkit"):
        tops.add(ep.value.split(":")[0].split(".")[0])
    return frozenset(tops)


@cache
def resolve(path: str) -> Any:
    """The function at ``module:attr.attr`` or None (with a warning) when unusable."""
    module_name, _, attrs = path.partition(":")
    if module_name.split(".")[0] not in allowed_packages():
        warnings.warn(f"decoder '{path}' is not from mtkit or an installed mtkit plugin; "
                      "returning raw outputs (install the plugin package the model was "
                      "trained with to decode them).", stacklevel=3)
        return None
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attrs.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        warnings.warn(f"decoder '{path}' cannot be loaded ({type(exc).__name__}: {exc}); "
                      "returning raw outputs (install the plugin package the model was "
                      "trained with to decode them).", stacklevel=3)
        return None
    return obj if callable(obj) else None


def raw_rows(out: np.ndarray) -> list[dict[str, Any]]:
    return [{"raw": out[i].tolist()} for i in range(len(out))]


def decode_task(task: TaskMeta, out: np.ndarray) -> list[dict[str, Any]]:
    """One dict per row of ``out`` (the task's raw output, shape (N, ...))."""
    spec = dict(task.decode)
    if not spec.get("labels") and task.labels:
        spec["labels"] = task.labels
    path = spec.get("decoder") or LEGACY_DECODERS.get(spec.get("type", task.output_type))
    fn = resolve(path) if path else None
    return fn(spec, out) if fn is not None else raw_rows(out)


def decode(meta: ModelMeta, raw: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """One dict per example: ``{task: decoded, ...}`` plus any dataset-level decoding."""
    n = len(next(iter(raw.values()))) if raw else 0
    rows: list[dict[str, Any]] = [{} for _ in range(n)]
    for name, task in meta.tasks.items():
        for row, item in zip(rows, decode_task(task, raw[name]), strict=True):
            row[name] = item
    path = meta.decode.get("decoder")
    fn = resolve(path) if path else None
    if fn is not None:
        kind = meta.decode.get("type", "dataset")
        key = meta.decode.get("name", kind)
        if key in meta.tasks:  # never shadow a task's own prediction
            key = f"{kind}_{key}"
        for row, item in zip(rows, fn(meta.decode, raw), strict=True):
            row[key] = item
    return rows
