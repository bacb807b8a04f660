"""Built-in weighting: FairGrad, fair resource allocation among the tasks.

Ban & Ji, "Fair Resource Allocation in Multi-Task Learning", ICML 2024 (arXiv:2402.15638),
eq. 9; reference code OptMN-Lab/fairgrad, as in LibMTL (``LibMTL/weighting/FairGrad.py``).
The update ``d = sum_t w_t g_t`` gives each task the improvement ``g_t . d`` of an
``alpha``-fair allocation: ``w > 0`` solves ``(G G^T) w = w^(-1/alpha)`` elementwise
(``alpha = 1`` is proportional fairness, the Nash-MTL condition; larger ``alpha`` favours
the worst-off task more, ``alpha -> inf`` is max-min). The reference finds the root with
``scipy.optimize.least_squares``; here it is the minimiser of the strictly convex
``1/2 w^T M w - sum_t h(w_t)`` (``h' = w^(-1/alpha)``), found by damped Newton steps on
``M / |M|_F`` and rescaled by ``|M|_F^(-alpha / (1 + alpha))`` (the exact scaling of the
root). The weights multiply the task gradients of the shared parameters (the reference
weighs the losses, so its heads get weighted gradients too). A task with an exactly-zero
gradient has no root (``0 = w^(-1/alpha)``) and is left out; its weight cannot change ``d``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mtkit.builtin.weightings._gram import GradientParams, GramWeighting
from mtkit.hookspecs import hookimpl


class FairGradParams(GradientParams):
    alpha: float = Field(1.0, gt=0.0, description="Fairness: 1 = proportional (Nash), "
                         "larger = closer to max-min fairness (reference default 1).")
    newton_steps: int = Field(50, ge=1, le=500, description="Newton iterations per step.")


def fair_weights(gram: Any, active: Any, alpha: float, steps: int = 50) -> Any:
    """Positive ``w`` with ``M w = w^(-1/alpha)`` on the active tasks with non-zero gradients."""
    import tensorflow as tf

    t = gram.shape[0]
    p = 1.0 / alpha
    active = active & (tf.linalg.diag_part(gram) > 0)
    act = tf.cast(active, tf.float64)
    mask = act[:, None] * act[None, :]
    m = gram * mask
    factor = tf.norm(m)
    m = tf.math.divide_no_nan(m, factor)
    eye = tf.eye(t, dtype=tf.float64)
    diag = tf.linalg.diag_part(m)
    smallest = tf.reduce_min(tf.where(active, diag, tf.reduce_max(diag)))
    m = m + 1e-6 * smallest * eye  # bounded weights when gradients are exactly opposed
    diag = tf.linalg.diag_part(m)
    w0 = tf.where(active, tf.pow(tf.where(active, diag, 1.0), -1.0 / (1.0 + p)), 1.0)

    def body(k, w):
        grad = act * (tf.linalg.matvec(m, w) - tf.pow(w, -p))
        hess = mask * (m + tf.linalg.diag(p * tf.pow(w, -p - 1.0))) + (1.0 - mask) * eye
        delta = tf.linalg.solve(hess, grad[:, None])[:, 0]
        decrement = tf.sqrt(tf.maximum(tf.tensordot(grad, delta, 1), 0.0))
        step = tf.where(decrement > 0.25, 1.0 / (1.0 + decrement), 1.0)
        new = w - step * delta
        return k + 1, tf.where(new > 0, new, w / 2.0)

    _, w = tf.while_loop(lambda k, w: k < steps, body, (tf.constant(0), w0))
    scale = tf.where(factor > 0, tf.pow(tf.where(factor > 0, factor, 1.0),
                                        -alpha / (1.0 + alpha)), 0.0)
    return w * act * scale


class FairGrad(GramWeighting):
    """Alpha-fair allocation of the update among the tasks (Ban & Ji 2024)."""

    name = "fairgrad"
    Params = FairGradParams

    def weights_from_gram(self, gram: Any, losses: Any, active: Any) -> Any:
        return fair_weights(gram, active, self.params.alpha, self.params.newton_steps)


@hookimpl
def register_weightings(register):
    register(FairGrad)
