"""Built-in weighting: homoscedastic uncertainty weighting.

Kendall, Gal & Cipolla, "Multi-Task Learning Using Uncertainty to Weigh Losses for Scene
Geometry and Semantics", CVPR 2018 (arXiv:1705.07115), eq. 10. Each task has a learned
log-variance ``s_t = log sigma_t^2`` and the objective is
``sum_t c_t exp(-s_t) L_t + s_t / 2`` with ``c_t = 1/2`` for regression (Gaussian
likelihood) and ``1`` for classification (scaled softmax). At the optimum
``sigma_t^2 = 2 c_t L_t``: a noisy task (large irreducible loss) is down-weighted in
proportion to its noise. The log-variances are trainable ``tf.Variable``s optimised with
the model and checkpointed with it; a task without labels in a batch contributes nothing
(neither its loss nor its ``s_t / 2`` term).

Deliberately as the paper, not as LibMTL (``UW``, which uses ``1/2`` for every task): the
factor follows the task's likelihood, ``1/2`` for a Gaussian (regression) and ``1`` for a
softmax (classification), eq. 10; for regression tasks the two agree exactly
(golden-tested).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mtkit.builtin.weightings.sum import fixed_weights
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo, Weighting


class UncertaintyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    initial_log_variance: float = Field(0.0, description="Starting s_t = log sigma_t^2 of every task.")
    weights: dict[str, float] | None = Field(
        None, description="Fixed task priorities multiplying each task's term; "
        "overrides each task's `weight` (default 1.0).")


class Uncertainty(Weighting):
    """Learned per-task homoscedastic uncertainty weights (Kendall et al. 2018)."""

    name = "uncertainty"
    Params = UncertaintyParams

    def validate(self, tasks: list[TaskInfo]) -> None:
        fixed_weights(tasks, self.params.weights)

    def setup(self, tasks: list[TaskInfo]) -> None:
        import tensorflow as tf

        super().setup(tasks)
        self.names = [t.name for t in tasks]
        self.factors = [0.5 if t.continuous else 1.0 for t in tasks]
        self.fixed = fixed_weights(tasks, self.params.weights)
        self.log_variances = tf.Variable(
            tf.fill([len(tasks)], float(self.params.initial_log_variance)), trainable=True,
            name="uncertainty_log_variances")

    def variables(self) -> dict[str, Any]:
        return {"uncertainty_log_variances": self.log_variances}

    def combine(self, losses: dict[str, Any], present: dict[str, Any]) -> Any:
        import tensorflow as tf

        terms = []
        for i, n in enumerate(self.names):
            s = self.log_variances[i]
            term = self.factors[i] * tf.exp(-s) * losses[n] + 0.5 * s
            terms.append(tf.where(present[n], self.fixed[n] * term, 0.0))
        return tf.add_n(terms)


@hookimpl
def register_weightings(register):
    register(Uncertainty)
