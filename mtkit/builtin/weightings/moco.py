"""Built-in weighting: MoCo, multi-objective gradient with a tracked correction.

Fernando et al., "Mitigating Gradient Bias in Multi-objective Learning: A Provably
Convergent Approach", ICLR 2023 (openreview dLAYGdKTi2), Algorithm 1; reference: LibMTL
``LibMTL/weighting/MoCo.py`` (from the authors' shared code). Stochastic MGDA is biased
because its weights depend on noisy gradients; MoCo tracks each task's gradient with a
moving average ``y_t <- y_t - beta_k (y_t - g~_t)`` (``g~_t = L_t g_t / |g_t|``, the
gradient rescaled to its loss, as in the reference) and takes one projected-gradient
step on the weights, ``lambda <- softmax(lambda - gamma_k (Y Y^T + rho I) lambda)``; the
update is ``d = Y^T lambda``. Step sizes decay as ``beta_k = beta / k^beta_sigma`` and
``gamma_k = gamma / k^gamma_sigma``. ``Y`` (tasks x shared parameters), ``lambda`` and
``k`` are checkpointed. A task without labels in the batch keeps its ``y`` and weight and
is left out of that step's update.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mtkit.builtin.weightings._buffered import BufferedParams, BufferedWeighting, masked_rows
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo


class MoCoParams(BufferedParams):
    beta: float = Field(0.5, gt=0.0, le=1.0, description="Tracking rate of y (reference 0.5).")
    beta_sigma: float = Field(0.5, ge=0.0, description="Decay exponent of beta (reference 0.5).")
    gamma: float = Field(0.1, gt=0.0, description="Step size of lambda (reference 0.1).")
    gamma_sigma: float = Field(0.5, ge=0.0, description="Decay exponent of gamma (reference 0.5).")
    rho: float = Field(0.0, ge=0.0, description="L2 regularisation of lambda's step (reference 0).")


class MoCo(BufferedWeighting):
    """MGDA with tracked task gradients and a one-step weight update (Fernando et al. 2023)."""

    name = "moco"
    Params = MoCoParams
    buffer_name = "y"

    def setup(self, tasks: list[TaskInfo]) -> None:
        import tensorflow as tf

        super().setup(tasks)
        t = len(tasks)
        self.lambd = tf.Variable(tf.fill([t], tf.constant(1.0 / t, tf.float64)), trainable=False,
                                 name="moco_lambda",
                                 aggregation=self.first)

    def variables(self) -> dict[str, Any]:
        return {**super().variables(), "moco_lambda": self.lambd}

    def update(self, matrix: Any, losses: Any, active: Any, step: Any) -> Any:
        import tensorflow as tf

        p = self.params
        norms = tf.norm(matrix, axis=1, keepdims=True)
        scaled = matrix / (norms + 1e-8) * tf.cast(losses, tf.float32)[:, None]
        beta = tf.cast(p.beta / step**p.beta_sigma, tf.float32)
        y = self.buffer.read_value()
        y = masked_rows(active, y - beta * (y - scaled), y)
        self.buffer.assign(y)
        yy = tf.cast(tf.matmul(y, y, transpose_b=True), tf.float64)
        act = tf.cast(active, tf.float64)
        yy = yy * act[:, None] * act[None, :]
        lam = self.lambd.read_value()
        gamma = p.gamma / step**p.gamma_sigma
        logits = lam - gamma * tf.linalg.matvec(yy + p.rho * tf.eye(len(self.names), dtype=tf.float64), lam)
        new = tf.nn.softmax(tf.where(active, logits, tf.constant(-1e300, tf.float64)))
        # The present tasks share the weight mass they had (all present: the reference's
        # softmax exactly, as lambda sums to 1); absent ones keep theirs.
        lam = tf.where(active, new * tf.reduce_sum(tf.where(active, lam, 0.0)), lam)
        self.lambd.assign(lam)
        return tf.linalg.matvec(y, tf.cast(lam * act, tf.float32), transpose_a=True)


@hookimpl
def register_weightings(register):
    register(MoCo)
