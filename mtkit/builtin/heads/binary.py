"""Built-in head: binary classification (one sigmoid unit)."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import ConfigDict, Field, model_validator

from mtkit import metrics
from mtkit.builtin.heads._dense import DenseStack, dense_stack
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Head


class BinaryParams(DenseStack):
    model_config = ConfigDict(extra="forbid")
    labels: list[str] | None = Field(None, min_length=2, max_length=2, description="Names of "
                                     "class 0 and class 1 (a table's label column may hold them).")
    positive: str | None = Field(None, description="Table text labels: the value that is class "
                                 "1 (default: the second in sorted order).")

    @model_validator(mode="after")
    def _positive_in_labels(self) -> BinaryParams:
        if self.labels is not None and self.positive is not None and \
                self.labels[1] != self.positive:
            raise ValueError("positive must be the second of labels (class 1), or left out")
        return self


class BinaryHead(Head):
    """Binary classification: one sigmoid unit; labels 0/1 (NaN = missing)."""

    name = "binary"
    Params = BinaryParams
    output_type = "binary"
    default_loss = "binary_crossentropy"
    default_metrics = ("accuracy", "auc")
    decoder = "mtkit.builtin.heads._decode:binary"
    label_dtype = "float32"

    def build(self, features: Any, task_name: str) -> Any:
        import keras

        x = dense_stack(features, self.params, task_name)
        return keras.layers.Dense(1, activation="sigmoid", name=task_name)(x)

    def check_labels(self, labels: np.ndarray) -> str | None:
        ok = labels[np.isfinite(labels)]
        bad = ok[(ok != 0) & (ok != 1)]
        if bad.size:
            return f"binary labels must be 0 or 1 (NaN for missing); found {bad.flat[0].item()!r}"
        return None

    def class_count(self) -> int:
        return 2

    def metric_functions(self) -> dict[str, Any]:
        return {"accuracy": metrics.accuracy_binary, "auc": metrics.auc}

    def decisions(self, y: np.ndarray) -> np.ndarray:
        return y.reshape(len(y), -1) >= 0.5

    def synthetic_labels(self, latent: np.ndarray, rng: np.random.Generator,
                         noise: float) -> np.ndarray:
        score = latent @ rng.normal(size=(latent.shape[1], 1)) + noise * rng.normal(size=(len(latent), 1))
        return (score > 0).astype(np.float64)[:, 0]

    def decode_spec(self) -> dict[str, Any]:
        return {**super().decode_spec(), "threshold": 0.5, "labels": self.params.labels}


@hookimpl
def register_heads(register):
    register(BinaryHead)
