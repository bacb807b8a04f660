"""Built-in dataset: generated tabular data with one target per task, optionally partly labelled.

Useful to try a config without any file, and for tests. Each task's target is a fixed
random function of shared latent factors, so tasks are related and a shared trunk helps.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from mtkit.data import Arrays, Splits
from mtkit.errors import ConfigError
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Dataset, Head, TaskInfo


class SyntheticParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: int = Field(2000, ge=10)
    features: int = Field(16, ge=1)
    input_name: str = "features"
    missing: dict[str, float] = Field(
        default_factory=dict, description="Task → fraction of rows without a label."
    )
    noise: float = Field(0.05, ge=0.0)


class Synthetic(Dataset):
    """Generated tabular features with related targets per task (each head makes its labels)."""

    name = "synthetic"
    Params = SyntheticParams

    def load(self, tasks: list[TaskInfo], seed: int) -> Splits:
        p = self.params
        names = {t.name for t in tasks}
        for task, frac in p.missing.items():
            if task not in names:
                raise ConfigError(f"field 'data.missing': no task named {task!r}.")
            if not 0.0 <= frac < 1.0:
                raise ConfigError(f"field 'data.missing.{task}': {frac} is not in [0, 1).")
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(p.rows, p.features)).astype(np.float32)
        latent = np.tanh(x @ rng.normal(size=(p.features, 4)) / np.sqrt(p.features)) * 2
        labels = {}
        for t in tasks:
            y = head_of(t).synthetic_labels(latent, rng, p.noise)
            drop = rng.random(p.rows) < p.missing.get(t.name, 0.0)
            y = y.astype(np.float64)
            y[drop] = np.nan
            labels[t.name] = y
        return Splits(train=Arrays(inputs={p.input_name: x}, labels=labels))


def head_of(task: TaskInfo) -> Head:
    """The task's head plugin (it knows what labels its output type takes)."""
    from mtkit.registry import get_registry

    cls = get_registry().get("head", task.head)
    return cls(cls.Params.model_validate(task.head_params))


@hookimpl
def register_datasets(register):
    register(Synthetic)
