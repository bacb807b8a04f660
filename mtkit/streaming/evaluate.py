"""Score a streamed split chunk by chunk: only labels and predictions are kept.

Metrics such as AUC need every prediction of the split at once, so the split's labels
and model outputs (a few numbers per row) are gathered; its feature columns never are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mtkit.streaming.data import StreamSplit


def gather(split: StreamSplit, predict: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
           ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], int]:
    """(labels, predictions, rows) of the whole split, predicted one chunk at a time."""
    labels: dict[str, list[np.ndarray]] = {}
    preds: dict[str, list[np.ndarray]] = {}
    rows = 0
    for chunk in split.chunks():
        out = predict(chunk.inputs)
        for k, v in chunk.labels.items():
            labels.setdefault(k, []).append(v)
        for k, v in out.items():
            preds.setdefault(k, []).append(np.asarray(v))
        rows += len(chunk)
    return ({k: np.concatenate(v) for k, v in labels.items()},
            {k: np.concatenate(v) for k, v in preds.items()}, rows)


def evaluate_stream(plan: Any, model: Any, split: StreamSplit) -> dict[str, Any]:
    """``mtkit.training.evaluate.evaluate_split`` for a streamed split."""
    from mtkit.scoring import score
    from mtkit.training.evaluate import predict_arrays

    labels, preds, _ = gather(split, lambda x: predict_arrays(model, x))
    return score(plan, labels, preds)
