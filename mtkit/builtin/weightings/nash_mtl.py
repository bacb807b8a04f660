"""Built-in weighting: Nash-MTL, multi-task learning as a bargaining game.

Navon et al., "Multi-Task Learning as a Bargaining Game", ICML 2022 (arXiv:2202.01017).
The update ``d = sum_t a_t g_t`` is the Nash bargaining solution: ``a > 0`` solves
``G G^T a = 1 / a`` (elementwise), i.e. ``g_t . d = 1 / a_t`` for every task. Those are the
optimality conditions of the strictly convex ``min_a 1/2 a^T M a - sum_t log a_t``, solved
here by damped Newton steps (self-concordant, so a fixed number of steps converges
quadratically; no CVXPY). As in the authors' code (AvivNavon/nash-mtl,
``methods/weight_methods.py``, ``NashMTL``), the solve runs on ``M / |M|_F`` for
conditioning, and the normalisation factor stays inside the constraint
(``-log(a_i * nf) - log((M a)_i / nf) <= 0``), so the weights solve the *raw* problem:
``a = a_normalised / sqrt(|M|_F)``. The update is then clipped to norm ``max_norm``
(``torch.nn.utils.clip_grad_norm_(shared_parameters, max_norm)``; default 1, 0 = off).
In ``gradients: features`` mode (which the authors do not offer) the clip applies to the
weighted representation gradient. A task with an exactly-zero gradient has no bargaining
solution (``0 = 1 / a_t``) and is left out; its weight cannot change ``d``.
The authors' ``update_weights_every`` (recompute the weights every k steps) is not offered:
mtkit recomputes them every step (their default, 1).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mtkit.builtin.weightings._gram import GradientParams, GramWeighting
from mtkit.hookspecs import hookimpl


class NashMTLParams(GradientParams):
    newton_steps: int = Field(30, ge=1, le=200, description="Newton iterations per step.")
    max_norm: float = Field(1.0, ge=0.0, description="Clip the update to this norm, as the "
                            "authors do (0 = no clip).")


def nash_weights(gram: Any, active: Any, steps: int = 30) -> Any:
    """Positive ``a`` with ``(M a) * a = 1`` on the active tasks with non-zero gradients.

    Solved on ``M / |M|_F`` and rescaled by ``1 / sqrt(|M|_F)``, so it solves the raw ``M``.
    """
    import tensorflow as tf

    t = gram.shape[0]
    active = active & (tf.linalg.diag_part(gram) > 0)
    act = tf.cast(active, tf.float64)
    mask = act[:, None] * act[None, :]
    m = gram * mask
    factor = tf.norm(m)
    m = tf.math.divide_no_nan(m, factor)
    eye = tf.eye(t, dtype=tf.float64)
    diag = tf.linalg.diag_part(m)
    # A ridge keeps a bounded (at most ~1000x the orthogonal-case weight) solution when
    # gradients are exactly opposed, where no bargaining solution exists.
    smallest = tf.reduce_min(tf.where(active, diag, tf.reduce_max(diag)))
    m = m + 1e-6 * smallest * eye
    diag = tf.linalg.diag_part(m)
    a0 = tf.where(active, 1.0 / tf.sqrt(tf.where(active, diag, 1.0)), 1.0)

    def body(k, a):
        grad = act * (tf.linalg.matvec(m, a) - 1.0 / a)
        hess = mask * (m + tf.linalg.diag(1.0 / a**2)) + (1.0 - mask) * eye
        delta = tf.linalg.solve(hess, grad[:, None])[:, 0]
        decrement = tf.sqrt(tf.maximum(tf.tensordot(grad, delta, 1), 0.0))
        step = tf.where(decrement > 0.25, 1.0 / (1.0 + decrement), 1.0)
        new = a - step * delta
        return k + 1, tf.where(new > 0, new, a / 2.0)

    _, a = tf.while_loop(lambda k, a: k < steps, body, (tf.constant(0), a0))
    return tf.math.divide_no_nan(a * act, tf.sqrt(factor))


def clip_weights(weights: Any, gram: Any, max_norm: float) -> Any:
    """Scale ``w`` so ``|sum_t w_t g_t| <= max_norm`` (torch's ``clip_grad_norm_``)."""
    import tensorflow as tf

    if max_norm <= 0:
        return weights
    norm = tf.sqrt(tf.maximum(tf.tensordot(weights, tf.linalg.matvec(gram, weights), 1), 0.0))
    return weights * tf.minimum(max_norm / (norm + 1e-6), 1.0)


class NashMTL(GramWeighting):
    """Nash bargaining solution over the task gradients (Navon et al. 2022)."""

    name = "nash_mtl"
    Params = NashMTLParams

    def weights_from_gram(self, gram: Any, losses: Any, active: Any) -> Any:
        w = nash_weights(gram, active, self.params.newton_steps)
        return clip_weights(w, gram, self.params.max_norm)


@hookimpl
def register_weightings(register):
    register(NashMTL)
