"""Built-in head: multi-label classification (N independent sigmoid units)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import ConfigDict, Field, model_validator

from mtkit import metrics
from mtkit.builtin.heads._dense import DenseStack, dense_stack
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Head


class MultilabelParams(DenseStack):
    model_config = ConfigDict(extra="forbid")
    classes: int = Field(ge=1, description="Number of independent labels.")
    labels: list[str] | None = None

    @model_validator(mode="after")
    def _labels_match(self) -> MultilabelParams:
        if self.labels is not None and len(self.labels) != self.classes:
            raise ValueError(f"labels has {len(self.labels)} names for {self.classes} classes")
        return self


class MultilabelHead(Head):
    """Multi-label classification: `classes` sigmoid units; labels (N, classes) of 0/1, NaN row = missing."""

    name = "multilabel"
    Params = MultilabelParams
    example: ClassVar[dict[str, Any]] = {"classes": 3}
    output_type = "multilabel"
    default_loss = "binary_crossentropy"
    default_metrics = ("accuracy", "exact_match")
    decoder = "mtkit.builtin.heads._decode:multilabel"
    label_dtype = "float32"

    def build(self, features: Any, task_name: str) -> Any:
        import keras

        x = dense_stack(features, self.params, task_name)
        return keras.layers.Dense(self.params.classes, activation="sigmoid", name=task_name)(x)

    def label_shape(self) -> tuple[int, ...]:
        return (self.params.classes,)

    def check_labels(self, labels: np.ndarray) -> str | None:
        ok = labels[np.isfinite(labels)]
        bad = ok[(ok != 0) & (ok != 1)]
        if bad.size:
            return f"multilabel labels must be 0 or 1 (NaN for missing); found {bad.flat[0].item()!r}"
        return None

    def metric_functions(self) -> dict[str, Any]:
        return {"accuracy": metrics.accuracy_binary, "exact_match": metrics.exact_match}

    def decisions(self, y: np.ndarray) -> np.ndarray:
        return y.reshape(len(y), -1) >= 0.5

    def synthetic_labels(self, latent: np.ndarray, rng: np.random.Generator,
                         noise: float) -> np.ndarray:
        k = self.params.classes
        score = latent @ rng.normal(size=(latent.shape[1], k)) + noise * rng.normal(size=(len(latent), k))
        return (score > 0).astype(np.float64)

    def decode_spec(self) -> dict[str, Any]:
        return {**super().decode_spec(), "classes": self.params.classes,
                "labels": self.params.labels, "threshold": 0.5}


@hookimpl
def register_heads(register):
    register(MultilabelHead)
