"""Built-in weighting: PCGrad, projecting conflicting gradients.

Yu et al., "Gradient Surgery for Multi-Task Learning", NeurIPS 2020 (arXiv:2001.06782).
For each task ``i`` and every other task ``j`` in random order: if ``g_i . g_j < 0``,
remove from ``g_i`` its component along ``g_j`` (``g_i -= (g_i . g_j)/|g_j|^2 g_j``); the
update is the sum of the projected gradients (Algorithm 1). Every projected gradient is
a linear combination of the originals, so the projections run on the small Gram matrix
and the result is ``sum_t w_t g_t``. The random orders come from a stateless generator
keyed by the run's ``seed`` and a step counter kept in a checkpointed variable, so all
replicas draw the same orders and a resumed run continues the sequence.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mtkit.builtin.weightings._draws import step_counter, task_orders
from mtkit.builtin.weightings._gram import GradientParams, GramWeighting
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo


class PCGradParams(GradientParams):
    seed: int = Field(0, description="Seed of the random projection orders.")


def pcgrad_coefficients(gram: Any, active: Any, orders: Any) -> Any:
    """Coefficients ``C[i]`` with ``g_i^PC = sum_k C[i, k] g_k`` (float64, ``(T, T)``).

    ``orders[i]`` is the order in which task ``i`` visits the others (a permutation of
    all tasks; ``i`` itself and inactive tasks are skipped).
    """
    import tensorflow as tf

    t = gram.shape[0]
    coef = tf.eye(t, dtype=tf.float64)
    diag = tf.linalg.diag_part(gram)
    rows = tf.range(t)
    for step in range(t):
        j = orders[:, step]  # (T,) the task each row projects against now
        g_j = tf.gather(gram, j, axis=1)  # (T_k, T_rows): column j of M for each row
        dots = tf.reduce_sum(coef * tf.transpose(g_j), axis=1)  # (g_i^PC . g_j) per row
        norm = tf.gather(diag, j)
        conflict = (dots < 0) & (j != rows) & tf.gather(active, j) & (norm > 0)
        scale = tf.where(conflict, dots / tf.where(norm > 0, norm, 1.0), 0.0)
        coef = coef - scale[:, None] * tf.one_hot(j, t, dtype=tf.float64)
    return coef


class PCGrad(GramWeighting):
    """Project away conflicting gradient components, then sum (Yu et al. 2020)."""

    name = "pcgrad"
    Params = PCGradParams

    def setup(self, tasks: list[TaskInfo]) -> None:
        super().setup(tasks)
        self.step = step_counter("pcgrad_step")

    def variables(self) -> dict[str, Any]:
        return {**super().variables(), "pcgrad_step": self.step}

    def orders(self) -> Any:
        return task_orders(self.params.seed, self.step, len(self.names))

    def weights_from_gram(self, gram: Any, losses: Any, active: Any) -> Any:
        import tensorflow as tf

        coef = pcgrad_coefficients(gram, active, self.orders())
        return tf.reduce_sum(coef * tf.cast(active, tf.float64)[:, None], axis=0)


@hookimpl
def register_weightings(register):
    register(PCGrad)
