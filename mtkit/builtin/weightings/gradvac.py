"""Built-in weighting: GradVac, gradient vaccine.

Wang et al., "Gradient Vaccine: Investigating and Improving Multi-task Optimization in
Massively Multilingual Models", ICLR 2021 (arXiv:2010.05874), eq. 2-4 and Algorithm 2;
reference: LibMTL ``LibMTL/weighting/GradVac.py`` (the authors released no code). Like
PCGrad, each task ``i`` visits the others in random order, but instead of removing only
conflicts it steers the cosine ``rho_ij`` between its (already modified) gradient and
``g_j`` up to an adaptive target ``phi_ij``, an exponential moving average of the
observed cosines (``phi <- (1 - beta) phi + beta rho``, starting at 0): when
``rho_ij < phi_ij`` it adds ``w g_j`` with
``w = |g_i| (phi sqrt(1 - rho^2) - rho sqrt(1 - phi^2)) / (|g_j| sqrt(1 - phi^2))``.
The update is the sum of the modified gradients. As in PCGrad every modified gradient is
a combination of the originals, so this runs on the Gram matrix. The targets are
checkpointed; the orders come from a stateless generator (seed + step counter).
Granularity is the whole shared model (LibMTL's ``GradVac_group_type: 0``, its default).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mtkit.builtin.weightings._draws import step_counter, task_orders
from mtkit.builtin.weightings._gram import GradientParams, GramWeighting
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo


class GradVacParams(GradientParams):
    beta: float = Field(0.5, ge=0.0, le=1.0, description="EMA rate of the cosine targets "
                        "(reference default 0.5).")
    seed: int = Field(0, description="Seed of the random task orders.")


def gradvac_coefficients(gram: Any, active: Any, orders: Any, targets: Any, beta: float):
    """``(C, new_targets)``: ``g_i^vac = sum_k C[i, k] g_k`` and the updated cosine targets.

    ``orders[i]`` is the order in which task ``i`` visits the others (a permutation of all
    tasks; ``i`` itself and inactive tasks are skipped).
    """
    import tensorflow as tf

    t = gram.shape[0]
    coef = tf.eye(t, dtype=tf.float64)
    norms = tf.sqrt(tf.maximum(tf.linalg.diag_part(gram), 0.0))
    rows = tf.range(t)
    for step in range(t):
        j = orders[:, step]
        dots = tf.reduce_sum(tf.matmul(coef, gram) * tf.one_hot(j, t, dtype=tf.float64), axis=1)
        own = tf.sqrt(tf.maximum(tf.einsum("ik,kl,il->i", coef, gram, coef), 0.0))
        nj = tf.gather(norms, j)
        rho = tf.math.divide_no_nan(dots, own * nj)
        phi = tf.gather(targets, j, batch_dims=1)
        use = (j != rows) & tf.gather(active, j) & active
        root = tf.sqrt(tf.maximum(1.0 - phi**2, 0.0))
        w = tf.math.divide_no_nan(own * (phi * tf.sqrt(tf.maximum(1.0 - rho**2, 0.0)) - rho * root),
                                  nj * root)
        w = tf.where(use & (rho < phi), w, 0.0)
        coef = coef + w[:, None] * tf.one_hot(j, t, dtype=tf.float64)
        new_phi = tf.where(use, (1.0 - beta) * phi + beta * rho, phi)
        targets = tf.tensor_scatter_nd_update(targets, tf.stack([rows, j], axis=1), new_phi)
    return coef, targets


class GradVac(GramWeighting):
    """Steer task-gradient cosines up to their running targets, then sum (Wang et al. 2021)."""

    name = "gradvac"
    Params = GradVacParams

    def setup(self, tasks: list[TaskInfo]) -> None:
        import tensorflow as tf

        super().setup(tasks)
        t = len(tasks)
        first = tf.VariableAggregation.ONLY_FIRST_REPLICA
        self.step = step_counter("gradvac_step")
        self.targets = tf.Variable(tf.zeros([t, t], tf.float64), trainable=False,
                                   name="gradvac_targets", aggregation=first)

    def variables(self) -> dict[str, Any]:
        return {**super().variables(), "gradvac_step": self.step, "gradvac_targets": self.targets}

    def orders(self) -> Any:
        return task_orders(self.params.seed, self.step, len(self.names))

    def weights_from_gram(self, gram: Any, losses: Any, active: Any) -> Any:
        import tensorflow as tf

        coef, targets = gradvac_coefficients(gram, active, self.orders(),
                                             self.targets.read_value(), self.params.beta)
        self.targets.assign(targets)
        return tf.reduce_sum(coef * tf.cast(active, tf.float64)[:, None], axis=0)


@hookimpl
def register_weightings(register):
    register(GradVac)
