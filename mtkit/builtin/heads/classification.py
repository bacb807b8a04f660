"""Built-in head: single-label classification over N classes (softmax)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import ConfigDict, Field, model_validator

from mtkit import metrics
from mtkit.builtin.heads._dense import DenseStack, dense_stack
from mtkit.errors import ConfigError
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Head


class ClassificationParams(DenseStack):
    model_config = ConfigDict(extra="forbid")
    classes: int | None = Field(None, ge=2, description="Number of classes (default: the "
                                "number of labels; a table dataset learns both from text labels).")
    labels: list[str] | None = Field(None, description="Class names, one per class; a table's "
                                     "label column may hold these names.")

    @model_validator(mode="after")
    def _labels_match(self) -> ClassificationParams:
        if self.labels is not None and self.classes is None:
            self.classes = len(self.labels)
        if self.labels is not None and len(self.labels) != self.classes:
            raise ValueError(f"labels has {len(self.labels)} names for {self.classes} classes")
        if self.labels is not None and len(set(self.labels)) != len(self.labels):
            raise ValueError("labels repeats a class name")
        return self


class ClassificationHead(Head):
    """Single-label classification: softmax over `classes`; labels are class indices (-1 = missing)."""

    name = "classification"
    Params = ClassificationParams
    example: ClassVar[dict[str, Any]] = {"classes": 4}
    output_type = "categorical"
    default_loss = "sparse_categorical_crossentropy"
    default_metrics = ("accuracy",)
    decoder = "mtkit.builtin.heads._decode:categorical"
    label_dtype = "int32"

    def build(self, features: Any, task_name: str) -> Any:
        import keras

        if self.params.classes is None:
            raise ConfigError(f"field 'tasks.{task_name}': set `classes` (the number of classes) "
                              "or `labels` (their names); only a table dataset with text labels "
                              "can learn them from the data.")

        x = dense_stack(features, self.params, task_name)
        return keras.layers.Dense(self.params.classes, activation="softmax", name=task_name)(x)

    def check_labels(self, labels: np.ndarray) -> str | None:
        if self.params.classes is None:
            return "set `classes` (the number of classes) or `labels` (their names)"
        if not np.issubdtype(labels.dtype, np.integer):
            if not np.all(np.equal(np.mod(labels[np.isfinite(labels)], 1), 0)):
                return "class labels must be integer class indices (-1 for a missing label)"
        bad = labels[(labels < -1) | (labels >= self.params.classes)]
        if bad.size:
            return (f"class index {bad.flat[0].item()!r} is out of range for {self.params.classes} "
                    f"classes (valid: 0..{self.params.classes - 1}, or -1 for a missing label)")
        return None

    def class_count(self) -> int:
        return self.params.classes

    def metric_functions(self) -> dict[str, Any]:
        return {"accuracy": metrics.accuracy_categorical}

    def decisions(self, y: np.ndarray) -> np.ndarray:
        return np.argmax(y.reshape(len(y), -1), axis=1)[:, None]

    def synthetic_labels(self, latent: np.ndarray, rng: np.random.Generator,
                         noise: float) -> np.ndarray:
        k = self.params.classes
        score = latent @ rng.normal(size=(latent.shape[1], k)) + noise * rng.normal(size=(len(latent), k))
        return np.argmax(score, axis=1).astype(np.float64)

    def decode_spec(self) -> dict[str, Any]:
        return {**super().decode_spec(), "classes": self.params.classes,
                "labels": self.params.labels}



@hookimpl
def register_heads(register):
    register(ClassificationHead)
