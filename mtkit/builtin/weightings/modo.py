"""Built-in weighting: MoDo, multi-objective gradient with double sampling.

Chen, Fernando, Ying & Chen, "Three-Way Trade-Off in Multi-Objective Learning:
Optimization, Generalization and Conflict-Avoidance", NeurIPS 2023 (openreview
yPkbdJxQ0o; JMLR 2024), Algorithm 1; reference: LibMTL ``LibMTL/weighting/MoDo.py``
(median-research-group/LibMTL@4336804, from the authors' heshandevaka/Trade-Off-MOL).
Stochastic MGDA's weights are biased because they come from the same noisy gradients
they weigh. MoDo takes three independent samples ``z1, z2, z3`` of the task gradients
(``G_s``, tasks x trunk parameters) and makes one projected-gradient step on the weights
with an unbiased estimate of MGDA's objective's gradient,

    lambda <- Proj_simplex(lambda - gamma (G_z1 G_z2^T lambda + rho lambda)),

then moves the trunk along the third sample, ``d = G_z3^T lambda``. ``lambda`` (start:
``1/T``) is checkpointed. The three samples are interleaved thirds of the batch
(``mtkit.training.sampled_step``); each head gets the mean of its three gradients, as in
the reference (which divides the heads' accumulated gradients by 3). A task without
labels in a sample has a zero gradient there, so the reference's arithmetic leaves it
out of that product and of ``d`` (its weight then only shrinks through ``rho``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mtkit.builtin.weightings import _gradients as grads_lib
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo, Weighting, WeightingMode


class MoDoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gamma: float = Field(0.001, gt=0.0, description="Step size of lambda (reference 0.001).")
    rho: float = Field(0.1, ge=0.0, description="L2 regularisation of lambda's step (reference 0.1).")


class MoDo(Weighting):
    """MGDA weights from two independent gradient samples, the step from a third (Chen et al. 2023)."""

    name = "modo"
    mode = WeightingMode.SHARED_GRADIENTS
    samples = 3
    Params = MoDoParams

    def setup(self, tasks: list[TaskInfo]) -> None:
        import tensorflow as tf

        super().setup(tasks)
        self.names = [t.name for t in tasks]
        t = len(tasks)
        self.lambd = tf.Variable(tf.fill([t], tf.constant(1.0 / t, tf.float64)), trainable=False,
                                 name="modo_lambda",
                                 aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

    def variables(self) -> dict[str, Any]:
        return {"modo_lambda": self.lambd}

    def update(self, g1: Any, g2: Any) -> Any:
        """One step on lambda from two samples' ``(T, P)`` gradient matrices; the new lambda."""
        import tensorflow as tf

        from mtkit.builtin.weightings._min_norm import project_to_simplex

        p = self.params
        cross = tf.cast(tf.matmul(g1, g2, transpose_b=True), tf.float64)
        lam = self.lambd.read_value()
        step = tf.linalg.matvec(cross, lam) + p.rho * lam
        new = project_to_simplex(lam - p.gamma * step, tf.ones_like(lam, tf.bool))
        self.lambd.assign(new)
        return new

    def combine_gradient_samples(self, grads: list[dict[str, list[Any]]],
                                 losses: list[dict[str, Any]],
                                 present: list[dict[str, Any]]) -> list[Any]:
        z1, z2, z3 = (grads_lib.task_matrix(g, self.names) for g in grads)
        lam = self.update(z1, z2)
        return grads_lib.unflatten(grads_lib.combine(lam, z3), grads[2][self.names[0]])

    def combine_gradients(self, grads: dict[str, list[Any]], losses: dict[str, Any],
                          present: dict[str, Any]) -> list[Any]:
        raise NotImplementedError("modo needs three gradient samples (combine_gradient_samples)")


@hookimpl
def register_weightings(register):
    register(MoDo)
