"""Dataset ``mmoe_synthetic``: the synthetic two-task regression data of Ma et al. 2018 (sec. 3.2).

Two regression tasks whose relatedness is set by one number, ``correlation`` (p):

1. draw orthogonal unit vectors u1, u2 in R^d;
2. w1 = c·u1, w2 = c·(p·u1 + sqrt(1 - p²)·u2);
3. x ~ N(0, I_d);
4. y_k = w_kᵀx + Σ_{i=1..m} sin(α_i·w_kᵀx + β_i) + ε_k, ε_k ~ N(0, noise²).

The α_i, β_i are fixed by ``shape_seed`` (the same for every run and both tasks), so only
p changes how related the tasks are; u1, u2, x and ε follow the run's seed. The labels'
Pearson correlation falls monotonically with p but is not equal to it (the sine terms are
non-linear), as the paper notes.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from mtkit.data import Arrays, Splits
from mtkit.errors import ConfigError
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Dataset, TaskInfo


class MMoESyntheticParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: int = Field(4000, ge=10, description="Examples generated (mtkit carves val/test).")
    dim: int = Field(16, ge=2, description="Input dimension d.")
    correlation: float = Field(0.5, ge=-1.0, le=1.0, description="Task correlation p of the paper.")
    scale: float = Field(1.0, gt=0.0, description="Scale c of the weight vectors.")
    sinusoids: int = Field(10, ge=0, description="Number m of sine terms.")
    noise: float = Field(0.1, ge=0.0, description="Std of ε (the paper's variance 0.01).")
    shape_seed: int = Field(0, description="Seed of the fixed α_i, β_i.")
    input_name: str = "features"


def task_weights(dim: int, correlation: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    """``(2, dim)``: w1 = c·u1, w2 = c·(p·u1 + sqrt(1-p²)·u2), with u1 ⟂ u2 unit vectors."""
    q, _ = np.linalg.qr(rng.normal(size=(dim, 2)))
    u1, u2 = q[:, 0], q[:, 1]
    w1 = scale * u1
    w2 = scale * (correlation * u1 + np.sqrt(max(0.0, 1.0 - correlation**2)) * u2)
    return np.stack([w1, w2])


def generate(params: MMoESyntheticParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``x (rows, dim)`` float32 and ``y (rows, 2)`` float64, deterministic by ``seed``."""
    shape = np.random.default_rng(params.shape_seed)
    alpha = shape.normal(size=params.sinusoids)
    beta = shape.normal(size=params.sinusoids)
    rng = np.random.default_rng(seed)
    w = task_weights(params.dim, params.correlation, params.scale, rng)
    x = rng.normal(size=(params.rows, params.dim))
    z = x @ w.T  # (rows, 2): w_kᵀx
    y = z + np.sin(z[..., None] * alpha + beta).sum(axis=-1)
    y = y + params.noise * rng.normal(size=y.shape)
    return x.astype(np.float32), y


class MMoESynthetic(Dataset):
    """Two regression tasks with controllable correlation (MMoE paper, Ma et al. 2018, sec. 3.2)."""

    name = "mmoe_synthetic"
    Params = MMoESyntheticParams

    def load(self, tasks: list[TaskInfo], seed: int) -> Splits:
        bad = [t.name for t in tasks if t.output_type != "regression"
               or int(t.head_params.get("units", 1)) != 1]
        if len(tasks) != 2 or bad:
            got = ", ".join(f"{t.name} ({t.head})" for t in tasks)
            raise ConfigError(
                "dataset 'mmoe_synthetic' yields exactly two scalar regression targets; configure "
                f"two tasks with `head: regression` (got {got}). The first task gets y1, the second y2."
            )
        x, y = generate(self.params, seed)
        labels = {t.name: y[:, k] for k, t in enumerate(tasks)}
        return Splits(train=Arrays(inputs={self.params.input_name: x}, labels=labels))


@hookimpl
def register_datasets(register):
    register(MMoESynthetic)
