"""Dataset ``mmoe_synthetic``: the synthetic two-task regression data of Ma et al. 2018 (KDD, §3.2).

Two regression tasks whose relatedness is set by one number, ``correlation`` (p):

1. draw orthogonal unit vectors u1, u2 in R^d;
2. w1 = c·u1, w2 = c·(p·u1 + sqrt(1 - p²)·u2);
3. x ~ N(0, I_d);
4. y_k = w_kᵀx + Σ_{i=1..m} sin(α_i·w_kᵀx + β_i) + ε_k, ε_k ~ N(0, noise²).

The paper does not give α_i, β_i, yet they decide how non-linear the targets are, and so
how much a shared bottom has to fight over: with a nearly linear target every model fits
both tasks and task correlation hardly matters; with fast sines (large α) no small model
fits the non-linear part at all. ``sinusoid_shape`` therefore names the choice and
:func:`variance_parts` reports its consequence exactly (closed form, since wᵀx ~ N(0, c²)):
the share of the target's variance that no linear function of x explains.

* ``normal`` (default): α_i, β_i ~ N(0, 1), drawn with ``shape_seed``. The default draw,
  ``shape_seed: 5``, is clearly non-linear and learnable: with c = 1 and m = 10, 68% of
  the variance is non-linear, and |α_i| ≤ 1.7. ``shape_seed: 0`` is mtkit's earlier default
  (only 8% non-linear); a typical draw is about a third.
* ``integers``: α_i = i, β_i = (i - 1)², the values of the generator Google Research
  published with this procedure (it notes the paper gives none): 58% non-linear, but
  with sines up to 10 times faster, which small models fit only slowly (docs/experts.md).
* ``alphas`` / ``betas``: explicit values (both, ``sinusoids`` of each).

The α_i, β_i are the same for every run and both tasks, so only p changes how related the
tasks are; u1, u2, x and ε follow the run's seed (u1, u2 and x do not depend on p, so runs
at different p with one seed share their inputs). The labels' Pearson correlation falls
monotonically with p but is not equal to it (the sine terms are non-linear), as the paper
notes.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    sinusoid_shape: Literal["normal", "integers"] = Field(
        "normal", description="α_i, β_i: `normal` (N(0, 1) draws from shape_seed) or `integers` "
        "(α_i = i, β_i = (i-1)², Google Research's generator).")
    shape_seed: int = Field(5, description="Seed of the α_i, β_i draw (sinusoid_shape: normal); "
                            "5: 68% of the variance non-linear, 0: the earlier default, 8%.")
    alphas: list[float] | None = Field(None, description="Explicit α_i (with betas; overrides "
                                       "sinusoid_shape).")
    betas: list[float] | None = Field(None, description="Explicit β_i (with alphas).")
    input_name: str = "features"

    @model_validator(mode="after")
    def _explicit_shape(self) -> MMoESyntheticParams:
        given = [name for name in ("alphas", "betas") if getattr(self, name) is not None]
        if len(given) == 1:
            raise ValueError(f"give both alphas and betas (only {given[0]} is set)")
        for name in given:
            if len(getattr(self, name)) != self.sinusoids:
                raise ValueError(f"{name} has {len(getattr(self, name))} values but sinusoids is "
                                 f"{self.sinusoids}; give one value per sine term")
        return self


def sinusoid_parameters(params: MMoESyntheticParams) -> tuple[np.ndarray, np.ndarray]:
    """The fixed ``(alpha, beta)`` of the sine terms, each of length ``sinusoids``."""
    m = params.sinusoids
    if params.alphas is not None and params.betas is not None:
        return np.asarray(params.alphas, dtype=float), np.asarray(params.betas, dtype=float)
    if params.sinusoid_shape == "integers":
        i = np.arange(1, m + 1, dtype=float)
        return i, (i - 1.0) ** 2
    shape = np.random.default_rng(params.shape_seed)
    return shape.normal(size=m), shape.normal(size=m)


def variance_parts(params: MMoESyntheticParams) -> dict[str, float]:
    """Exact variance of one task's target split into linear, non-linear and noise parts.

    With z = wᵀx ~ N(0, c²) and s(z) = Σ sin(α_i z + β_i), the best linear predictor of y
    from x is (1 + b)·z with b = E[s(z)·z]/c² (Stein's lemma: E[sin(αz+β)·z] =
    α c² cos β e^{-α²c²/2}); what is left, s(z) - b·z, is the *non-linear* part. Gaussian
    moments give every term in closed form (E[sin(αz+β)] = sin β e^{-α²c²/2} and the
    product-to-sum identity for E[s(z)²]). ``nonlinear_share`` = nonlinear / total. Both
    tasks have the same parts (‖w1‖ = ‖w2‖ = c).
    """
    a, b = sinusoid_parameters(params)
    c2 = params.scale**2
    mean_s = np.sum(np.sin(b) * np.exp(-(a**2) * c2 / 2))
    cov_sz = np.sum(a * c2 * np.cos(b) * np.exp(-(a**2) * c2 / 2))
    da, sa = a[:, None] - a[None, :], a[:, None] + a[None, :]
    db, sb = b[:, None] - b[None, :], b[:, None] + b[None, :]
    mean_s2 = np.sum(0.5 * (np.cos(db) * np.exp(-(da**2) * c2 / 2)
                            - np.cos(sb) * np.exp(-(sa**2) * c2 / 2)))
    slope = cov_sz / c2
    nonlinear = float(max(0.0, mean_s2 - mean_s**2 - slope**2 * c2))
    linear = float((1.0 + slope) ** 2 * c2)
    noise = float(params.noise**2)
    total = linear + nonlinear + noise
    return {"linear": linear, "nonlinear": nonlinear, "noise": noise, "total": total,
            "nonlinear_share": nonlinear / total}


def task_weights(dim: int, correlation: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    """``(2, dim)``: w1 = c·u1, w2 = c·(p·u1 + sqrt(1-p²)·u2), with u1 ⟂ u2 unit vectors."""
    q, _ = np.linalg.qr(rng.normal(size=(dim, 2)))
    u1, u2 = q[:, 0], q[:, 1]
    w1 = scale * u1
    w2 = scale * (correlation * u1 + np.sqrt(max(0.0, 1.0 - correlation**2)) * u2)
    return np.stack([w1, w2])


def generate(params: MMoESyntheticParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``x (rows, dim)`` float32 and ``y (rows, 2)`` float64, deterministic by ``seed``."""
    alpha, beta = sinusoid_parameters(params)
    rng = np.random.default_rng(seed)
    w = task_weights(params.dim, params.correlation, params.scale, rng)
    x = rng.normal(size=(params.rows, params.dim))
    z = x @ w.T  # (rows, 2): w_kᵀx
    y = z + np.sin(z[..., None] * alpha + beta).sum(axis=-1)
    y = y + params.noise * rng.normal(size=y.shape)
    return x.astype(np.float32), y


class MMoESynthetic(Dataset):
    """Two regression tasks with controllable correlation (MMoE paper, Ma et al. 2018, §3.2)."""

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
