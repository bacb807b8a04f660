"""Source templates of the generated plugin modules: one working plugin per kind, one file each.

Templates are ``string.Template`` text (``${plugin}``, ``${Camel}``, ...) so the Python braces
inside them need no escaping. Each plugin is small but real: the generated package's own
tests train with it and export it to ONNX.
"""

from __future__ import annotations

TRUNK = '''\
"""Trunk plugin `${plugin}`: dense layers shared by every task.

Every input is flattened and concatenated, then passed through `units` dense layers. Keras
is imported inside `build`, so `mtkit plugins` and `mtkit --help` stay fast.
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
    # ReLU/tanh/sigmoid export cleanly to ONNX (Keras' default GELU lowers to an op that
    # tf2onnx converts into an invalid model).
    activation: Literal["relu", "tanh", "sigmoid"] = Field(
        "relu", description="Activation after every dense layer.")


class ${Camel}Trunk(mtkit.Trunk):
    """Dense layers over all inputs (flattened and concatenated), shared by every task."""

    name = "${plugin}"
    Params = ${Camel}TrunkParams

    def build(self, inputs: dict[str, Any], tasks: list[mtkit.TaskInfo]) -> Any:
        """Map the model's symbolic inputs to one feature tensor (hard parameter sharing)."""
        import keras

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
        return x
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


def _mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.abs(y_pred.reshape(y_true.shape) - y_true)))


class ${Camel}Head(mtkit.Head):
    """A bounded score per example: low + (high - low) * sigmoid; NaN labels are missing."""

    name = "${plugin}"
    Params = ${Camel}HeadParams
    output_type = "regression"  # which losses fit this head, and how runtimes decode it
    default_loss = "mse"        # used when the task's config has no `loss:`
    default_metrics = ("mae",)
    label_dtype = "float32"     # a missing label is NaN

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
        """Stored in exported models: the runtime reports the raw score as `value`."""
        return {"type": "regression"}
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

SOURCES: dict[str, str] = {
    "trunk": TRUNK,
    "head": HEAD,
    "loss": LOSS,
    "weighting": WEIGHTING,
    "dataset": DATASET,
}
"""Module source per kind; the module is ``src/<package>/<kind>.py``, its class ``<Camel><Kind>``."""
