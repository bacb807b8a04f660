"""Helpers for the weighting tests: make a weighting plugin and call it inside tf.function."""

from __future__ import annotations

from typing import Any

import numpy as np

from mtkit.plugin_types import TaskInfo
from mtkit.registry import get_registry


def tasks(*names: str, output_type: str = "regression") -> list[TaskInfo]:
    return [TaskInfo(name=n, head="regression", output_type=output_type,
                     continuous=output_type == "regression") for n in names]


def make(name: str, task_list: list[TaskInfo], **params: Any):
    """A set-up weighting plugin, found through the real registry."""
    cls = get_registry().get("weighting", name)
    plugin = cls(cls.Params(**params))
    plugin.validate(task_list)
    plugin.setup(task_list)
    return plugin


def combine_gradients(plugin, grads: dict[str, list[np.ndarray]], losses: dict[str, float] | None = None,
                      present: dict[str, bool] | None = None) -> np.ndarray:
    """``combine_gradients`` in graph mode; the result flattened to one numpy vector."""
    import tensorflow as tf

    names = list(grads)
    losses = losses or {n: 1.0 for n in names}
    present = present or {n: True for n in names}

    @tf.function
    def run():
        g = {n: [tf.constant(a, tf.float32) for a in grads[n]] for n in names}
        out = plugin.combine_gradients(g, {n: tf.constant(losses[n]) for n in names},
                                       {n: tf.constant(present[n]) for n in names})
        return [tf.reshape(o, [-1]) for o in out]

    return np.concatenate([o.numpy() for o in run()]).astype(np.float64)


def task_weights(plugin, rows: dict[str, np.ndarray], losses: dict[str, float] | None = None,
                 present: dict[str, bool] | None = None) -> np.ndarray:
    """``task_weights`` in graph mode with ``rows[t]`` as task t's feature gradient."""
    import tensorflow as tf

    names = list(rows)
    losses = losses or {n: 1.0 for n in names}
    present = present or {n: True for n in names}

    @tf.function
    def run():
        out = plugin.task_weights({n: tf.constant(rows[n], tf.float32) for n in names},
                                  {n: tf.constant(losses[n]) for n in names},
                                  {n: tf.constant(present[n]) for n in names})
        return tf.stack([out[n] for n in names])

    return run().numpy().astype(np.float64)


def simplex_grid(dim: int, steps: int) -> np.ndarray:
    """Every point of the simplex in R^dim with coordinates in multiples of 1/steps."""
    if dim == 2:
        a = np.linspace(0.0, 1.0, steps + 1)
        return np.stack([a, 1 - a], axis=1)
    pts = [(i, j) for i in range(steps + 1) for j in range(steps + 1 - i)]
    p = np.array(pts, dtype=np.float64) / steps
    return np.concatenate([p, 1 - p.sum(axis=1, keepdims=True)], axis=1)
