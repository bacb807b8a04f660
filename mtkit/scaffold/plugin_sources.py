"""Source templates of the generated plugin modules: one working plugin per kind, one file each.

Templates are ``string.Template`` text (``${plugin}``, ``${Camel}``, ...) so the Python braces
inside them need no escaping. Each plugin is small but real: the generated package's own
tests train with it and export it to ONNX.
"""

from __future__ import annotations

TRUNK = '''\
"""Trunk plugin `${plugin}`: dense layers shared by every task.

Every input is flattened and concatenated, then passed through `units` dense layers and a
learned per-feature scale (`${Camel}Scale`, a custom Keras layer in `layers.py`). Keras is
imported inside `build`, so `mtkit plugins` and `mtkit --help` stay fast.
"""

from __future__ import annotations

from typing import Any, Literal

import mtkit
from pydantic import BaseModel, ConfigDict, Field


class ${Camel}TrunkParams(BaseModel):
    """The keys of the config's `trunk:` section besides `type` (unknown keys are refused)."""

    model_config = ConfigDict(extra="forbid")
    units: list[int] = Field(default_factory=lambda: [64], min_length=1,
                             description="Width of each dense layer.")
    # All of these export to ONNX; for gelu, mtkit converts the TF op Keras 3's exact GELU
    # lowers to (Erfc) itself (see mtkit's export docs).
    activation: Literal["relu", "tanh", "sigmoid", "gelu"] = Field(
        "relu", description="Activation after every dense layer.")


class ${Camel}Trunk(mtkit.Trunk):
    """Dense layers over all inputs (flattened and concatenated), shared by every task."""

    name = "${plugin}"
    Params = ${Camel}TrunkParams
    # Modules whose Keras objects a saved model.keras refers to: mtkit imports them (so their
    # @keras.saving.register_keras_serializable classes are known) before it loads a model
    # in Keras safe mode, e.g. for `mtkit export`.
    keras_modules = ("${package}.layers",)

    def build(self, inputs: dict[str, Any], tasks: list[mtkit.TaskInfo]) -> Any:
        """Map the model's symbolic inputs to one feature tensor (hard parameter sharing)."""
        import keras

        from ${package}.layers import ${Camel}Scale

        flat = []
        for name, x in inputs.items():
            if len(x.shape) > 2:
                x = keras.layers.Flatten(name=f"${plugin}_flatten_{name}")(x)
            if "int" in str(x.dtype):
                x = keras.ops.cast(x, "float32")
            flat.append(x)
        x = flat[0] if len(flat) == 1 else keras.layers.Concatenate(name="${plugin}_concat")(flat)
        for i, units in enumerate(self.params.units):
            x = keras.layers.Dense(units, activation=self.params.activation,
                                   name=f"${plugin}_dense{i}")(x)
        return ${Camel}Scale(name="${plugin}_scale")(x)
'''

HEAD = '''\
"""Head plugin `${plugin}`: a score between `low` and `high` per example (scaled sigmoid).

Labels are floats in [low, high]; NaN marks an example without a label, which the task's
loss and metrics skip.
"""

from __future__ import annotations

from typing import Any

import mtkit
import numpy as np
from mtkit.metrics import lower_is_better
from pydantic import BaseModel, ConfigDict, Field, model_validator


class ${Camel}HeadParams(BaseModel):
    """The keys of a task's section besides `head`, `loss`, `weight` and `metrics`."""

    model_config = ConfigDict(extra="forbid")
    hidden: int = Field(16, ge=0, description="Units of a hidden layer before the score (0: none).")
    low: float = Field(0.0, description="Smallest score.")
    high: float = Field(1.0, description="Largest score.")

    @model_validator(mode="after")
    def _range(self) -> ${Camel}HeadParams:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be smaller than high ({self.high})")
        return self


@lower_is_better  # export's fp16/int8 check: a rise of this metric is a loss of quality
def _mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.abs(y_pred.reshape(y_true.shape) - y_true)))


class ${Camel}Head(mtkit.Head):
    """A bounded score per example: low + (high - low) * sigmoid; NaN labels are missing."""

    name = "${plugin}"
    Params = ${Camel}HeadParams
    output_type = "regression"  # which losses fit this head (their `accepts`)
    default_loss = "mse"        # used when the task's config has no `loss:`
    default_metrics = ("mae",)
    label_dtype = "float32"     # a missing label is NaN
    continuous = True           # a continuous value (uncertainty weighting's factor 1/2)
    # The TensorFlow-free runtime imports this numpy-only function to decode predictions.
    decoder = "${package}.decode:decode_score"

    def build(self, features: Any, task_name: str) -> Any:
        """The task's output; its last layer must be named after the task."""
        import keras

        p = self.params
        x = features
        if p.hidden:
            x = keras.layers.Dense(p.hidden, activation="relu", name=f"{task_name}_hidden")(x)
        x = keras.layers.Dense(1, activation="sigmoid", name=f"{task_name}_unit")(x)
        return keras.layers.Rescaling(scale=p.high - p.low, offset=p.low, name=task_name)(x)

    def label_shape(self) -> tuple[int, ...]:
        return ()

    def check_labels(self, labels: np.ndarray) -> str | None:
        """Refuse labels the head cannot reach (called on the labelled rows only)."""
        p = self.params
        bad = labels[(labels < p.low) | (labels > p.high)]
        if bad.size:
            return (f"scores must lie in [{p.low}, {p.high}] (NaN for missing); found "
                    f"{bad.flat[0].item()!r}: widen the task's low/high")
        return None

    def metric_functions(self) -> dict[str, Any]:
        """Numpy metrics over the labelled rows, by name (configs pick them in `metrics:`)."""
        return {"mae": _mae}

    def decode_spec(self) -> dict[str, Any]:
        """Stored in exported models and passed to `decoder`: it names the decoder itself."""
        return {**super().decode_spec(), "low": self.params.low, "high": self.params.high}
'''

LOSS = '''\
"""Loss plugin `${plugin}`: log-cosh, quadratic near zero and linear for large errors."""

from __future__ import annotations

import math
from typing import Any

import mtkit


class ${Camel}Loss(mtkit.Loss):
    """Log-cosh error for regression-type heads: robust to outliers, smooth everywhere."""

    name = "${plugin}"
    accepts = frozenset({"regression"})  # the head output types this loss fits

    def per_example(self, y_true: Any, y_pred: Any) -> Any:
        """Shape (batch,). mtkit has already replaced missing labels and masks them after."""
        from keras import ops

        y_true = ops.reshape(ops.cast(y_true, y_pred.dtype), ops.shape(y_pred))
        d = y_pred - y_true
        # log(cosh(d)) = d + softplus(-2d) - log(2), without overflow for large |d|
        per_value = d + ops.softplus(-2.0 * d) - math.log(2.0)
        return ops.mean(per_value, axis=-1)  # heads output (batch, units): average the units
'''

WEIGHTING = '''\
"""Weighting plugin `${plugin}`: the mean of the losses of the tasks labelled in the batch."""

from __future__ import annotations

from typing import Any

import mtkit


class ${Camel}Weighting(mtkit.Weighting):
    """Mean of the per-task losses over the tasks that have a label in the batch."""

    name = "${plugin}"
    mode = "loss"  # combine() gets per-task losses; see mtkit.Weighting for gradient modes

    def combine(self, losses: dict[str, Any], present: dict[str, Any]) -> Any:
        """One scalar objective; a task without labels in this batch must drop out."""
        from keras import ops

        total, count = 0.0, 0.0
        for task, loss in losses.items():
            here = ops.cast(present[task], loss.dtype)
            total = total + here * loss
            count = count + here
        return total / ops.maximum(count, 1.0)
'''

DATASET = '''\
"""Dataset plugin `${plugin}`: generated rows with a related label for every task.

Replace `load` with your own reading code: it returns numpy arrays, inputs by name and one
label array per configured task (NaN, or -1 for class indices, where a label is missing).
"""

from __future__ import annotations

import mtkit
import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class ${Camel}DatasetParams(BaseModel):
    """The keys of the config's `data:` section besides `dataset`."""

    model_config = ConfigDict(extra="forbid")
    rows: int = Field(1000, ge=10, description="Examples to generate.")
    features: int = Field(8, ge=1, description="Width of the input vector.")
    unlabelled: float = Field(
        0.0, ge=0.0, lt=1.0, description="Share of rows unlabelled in every task but the first.")
    noise: float = Field(0.05, ge=0.0, description="Label noise.")
    input_name: str = Field("features", description="Name of the model input.")


class ${Camel}Dataset(mtkit.Dataset):
    """Generated features with related regression, binary or class labels per task."""

    name = "${plugin}"
    Params = ${Camel}DatasetParams

    def load(self, tasks: list[mtkit.TaskInfo], seed: int) -> mtkit.Splits:
        """Train arrays only: mtkit carves validation and test splits out of them."""
        p = self.params
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(p.rows, p.features)).astype(np.float32)
        latent = np.tanh(x @ rng.normal(size=(p.features, 3)) / np.sqrt(p.features))
        labels = {}
        for i, task in enumerate(tasks):
            y = self._labels(task, latent, rng)
            if i and p.unlabelled:
                y[rng.random(p.rows) < p.unlabelled] = -1 if y.dtype.kind == "i" else np.nan
            labels[task.name] = y
        return mtkit.Splits(train=mtkit.Arrays(inputs={p.input_name: x}, labels=labels))

    def _labels(self, task: mtkit.TaskInfo, latent: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
        n, noise = len(latent), self.params.noise
        if task.output_type == "regression":
            y = 0.5 + 0.4 * np.sin(2 * latent @ rng.normal(size=3)) + noise * rng.normal(size=n)
            return np.clip(y, 0.0, 1.0)
        if task.output_type == "binary":
            return (latent @ rng.normal(size=3) + noise * rng.normal(size=n) > 0).astype(np.float64)
        if task.output_type == "categorical":
            classes = int(task.head_params.get("classes", 2))
            score = latent @ rng.normal(size=(3, classes)) + noise * rng.normal(size=(n, classes))
            return np.argmax(score, axis=1).astype(np.int64)
        raise mtkit.ConfigError(
            f"field 'tasks.{task.name}.head': dataset '${plugin}' makes labels for regression, "
            f"binary and categorical heads; head '{task.head}' outputs {task.output_type!r}."
        )
'''

LAYERS = '''\
"""Custom Keras layers of this package, registered so a saved model loads in safe mode.

`@keras.saving.register_keras_serializable(package=...)` records the class under
"${package}>${Camel}Scale"; a saved model.keras names it so, and Keras' safe mode (which
mtkit always uses) loads registered classes but never runs code stored in the file. This
module imports Keras at the top: import it only from a plugin's `build` and through the
trunk's `keras_modules`, never from hooks.py or a plugin module's top level.
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="${package}")
class ${Camel}Scale(keras.layers.Layer):
    """A learned scale per feature (starting at 1): the smallest useful custom layer."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, x):
        return x * self.scale

    # Layers with constructor arguments also define get_config() returning them, so that
    # loading can call __init__ again; this one has none beyond Keras' own.
'''

DECODE = '''\
"""The TensorFlow-free decoder of `${plugin}`: raw head output → one dict per example.

`mtkit.runtime.Predictor` imports this module by the name the head declares (`decoder`),
so it must need nothing but numpy: no TensorFlow, Keras or pydantic.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def decode_score(spec: dict[str, Any], out: np.ndarray) -> list[dict[str, Any]]:
    """`{"score": s, "fraction": (s - low) / (high - low)}` per row."""
    low, high = float(spec.get("low", 0.0)), float(spec.get("high", 1.0))
    scores = out.reshape(len(out), -1)[:, 0].astype(np.float64)
    return [{"score": float(s), "fraction": float((s - low) / (high - low))} for s in scores]
'''

EXTRA_FILES: dict[str, dict[str, str]] = {"trunk": {"layers.py": LAYERS}, "head": {"decode.py": DECODE}}
"""Modules a kind's plugin brings besides its own: ``{kind: {file name under src/<package>/: source}}``."""

SOURCES: dict[str, str] = {
    "trunk": TRUNK,
    "head": HEAD,
    "loss": LOSS,
    "weighting": WEIGHTING,
    "dataset": DATASET,
}
"""Module source per kind; the module is ``src/<package>/<kind>.py``, its class ``<Camel><Kind>``."""
