"""Built-in weighting: ExcessMTL, robust multi-task learning with excess risks.

He et al., "Robust Multi-Task Learning with Excess Risks", ICML 2024 (arXiv:2402.02009),
Algorithm 1; reference: the authors' yifei-he/ExcessMTL, as in LibMTL
(``LibMTL/weighting/ExcessMTL.py``). Each task's excess risk (its loss above the best it
can reach) is estimated by a second-order step, ``e_t = g_t^T diag(1 / sqrt(H_t)) g_t``
with ``H_t`` the running sum of the squared gradients (AdaGrad's diagonal), relative to
its first value; the loss weights follow multiplicative updates
``w_t <- w_t exp(eta e_t)``, renormalised to sum to the number of tasks, so tasks far
from their optimum get more weight while noisy ones (large irreducible loss) do not. The
update is ``d = sum_t w_t g_t``. ``H`` (tasks x shared parameters), the weights and the
first estimates are checkpointed. A task without labels in the batch keeps its state
and is left out of that step's update.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mtkit.builtin.weightings._buffered import BufferedParams, BufferedWeighting, masked_rows
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo


class ExcessMTLParams(BufferedParams):
    step_size: float = Field(1e-2, gt=0.0, description="Step size eta of the weight updates "
                             "(reference robust_step_size 1e-2).")


class ExcessMTL(BufferedWeighting):
    """Loss weights from AdaGrad-estimated excess risks (He et al. 2024)."""

    name = "excess_mtl"
    Params = ExcessMTLParams
    buffer_name = "squared_sums"

    def setup(self, tasks: list[TaskInfo]) -> None:
        import tensorflow as tf

        super().setup(tasks)
        t = len(tasks)
        self.weights = tf.Variable(tf.ones([t], tf.float64), trainable=False,
                                   name="excess_mtl_weights", aggregation=self.first)
        self.initial = tf.Variable(tf.zeros([t], tf.float64), trainable=False,
                                   name="excess_mtl_initial", aggregation=self.first)

    def variables(self) -> dict[str, Any]:
        return {**super().variables(), "excess_mtl_weights": self.weights,
                "excess_mtl_initial": self.initial}

    def update(self, matrix: Any, losses: Any, active: Any, step: Any) -> Any:
        import tensorflow as tf

        sums = masked_rows(active, self.buffer.read_value() + matrix**2, self.buffer.read_value())
        self.buffer.assign(sums)
        risk = tf.cast(tf.reduce_sum(matrix**2 / tf.sqrt(sums + 1e-7), axis=1), tf.float64)
        initial = self.initial.read_value()
        first = active & (initial <= 0)
        self.initial.assign(tf.where(first, risk, initial))
        ratio = tf.math.divide_no_nan(risk, initial)
        w = self.weights.read_value()
        moved = active & ~first
        w = tf.where(moved, w * tf.exp(ratio * self.params.step_size), w)
        w = tf.where(tf.reduce_any(moved), w / tf.reduce_sum(w) * len(self.names), w)
        self.weights.assign(w)
        return tf.linalg.matvec(matrix, tf.cast(tf.where(active, w, 0.0), tf.float32),
                                transpose_a=True)


@hookimpl
def register_weightings(register):
    register(ExcessMTL)
