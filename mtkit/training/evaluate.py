"""Predict a split with the Keras model and score it (``mtkit.scoring``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mtkit.data import Arrays
from mtkit.planning import Plan
from mtkit.scoring import score, weighted_total

__all__ = ["evaluate_split", "predict_arrays", "score", "weighted_total"]


def predict_arrays(model: Any, inputs: dict[str, np.ndarray], batch_size: int = 1024):
    """Run the model over ``inputs`` in inference mode, batched; {task: np.ndarray}."""
    import tensorflow as tf

    fn = getattr(model, "_mtkit_predict_fn", None)
    if fn is None:
        fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        model._mtkit_predict_fn = fn
    n = len(next(iter(inputs.values())))
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, n, batch_size):
        out = fn({k: v[start:start + batch_size] for k, v in inputs.items()})
        for k, v in out.items():
            parts.setdefault(k, []).append(v.numpy())
    return {k: np.concatenate(v) for k, v in parts.items()}


def evaluate_split(plan: Plan, model: Any, arrays: Arrays) -> dict[str, Any]:
    if not isinstance(arrays, Arrays):  # a streamed split: predicted chunk by chunk
        from mtkit.streaming.evaluate import evaluate_stream

        return evaluate_stream(plan, model, arrays)
    return score(plan, arrays.labels, predict_arrays(model, arrays.inputs))
