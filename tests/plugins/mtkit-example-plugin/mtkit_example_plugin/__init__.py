"""A complete third-party plugin: one trunk, one head, one loss, one dataset, one weighting."""

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

import mtkit


class TinyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    units: int = Field(8, ge=1)


class TinyTrunk(mtkit.Trunk):
    """One dense layer over the concatenated inputs."""

    name = "tiny"
    Params = TinyParams

    def build(self, inputs: dict[str, Any], tasks: list[mtkit.TaskInfo]) -> Any:
        import keras

        x = list(inputs.values())[0]
        return keras.layers.Dense(self.params.units, activation="tanh", name="tiny_dense")(x)


class ScoreHead(mtkit.Head):
    """A single linear score (regression-like)."""

    name = "score"
    output_type = "regression"
    default_loss = "abs_error"
    default_metrics = ("mae",)

    def build(self, features: Any, task_name: str) -> Any:
        import keras

        return keras.layers.Dense(1, name=task_name)(features)

    def metric_functions(self) -> dict[str, Any]:
        return {"mae": lambda y, p: float(np.mean(np.abs(p.reshape(y.shape) - y)))}


class AbsError(mtkit.Loss):
    """Mean absolute error."""

    name = "abs_error"
    accepts = frozenset({"regression"})

    def per_example(self, y_true: Any, y_pred: Any) -> Any:
        from keras import ops

        y_true = ops.reshape(ops.cast(y_true, y_pred.dtype), ops.shape(y_pred))
        return ops.mean(ops.abs(y_pred - y_true), axis=-1)


class LineData(mtkit.Dataset):
    """y = 2x + 1 with a second, half-labelled task y2 = -x."""

    name = "line"

    def load(self, tasks: list[mtkit.TaskInfo], seed: int) -> mtkit.Splits:
        rng = np.random.default_rng(seed)
        x = rng.uniform(-1, 1, size=(400, 1)).astype(np.float32)
        labels = {"a": 2 * x[:, 0] + 1, "b": -x[:, 0].astype(np.float64)}
        labels["b"][::2] = np.nan
        return mtkit.Splits(train=mtkit.Arrays(inputs={"x": x},
                                               labels={t.name: labels[t.name] for t in tasks}))


class Halves(mtkit.Weighting):
    """Half of the plain sum (a trivially different weighting)."""

    name = "halves"

    def combine(self, losses: dict[str, Any], present: dict[str, Any]) -> Any:
        return 0.5 * sum(losses.values())


@mtkit.hookimpl
def register_trunks(register):
    register(TinyTrunk)


@mtkit.hookimpl
def register_heads(register):
    register(ScoreHead)


@mtkit.hookimpl
def register_losses(register):
    register(AbsError)


@mtkit.hookimpl
def register_datasets(register):
    register(LineData)


@mtkit.hookimpl
def register_weightings(register):
    register(Halves)
