"""Built-in weighting: Nash-MTL, multi-task learning as a bargaining game.

Navon et al., "Multi-Task Learning as a Bargaining Game", ICML 2022 (arXiv:2202.01017).
The update ``d = sum_t a_t g_t`` is the Nash bargaining solution: ``a > 0`` solves
``G G^T a = 1 / a`` (elementwise), i.e. ``g_t . d = 1 / a_t`` for every task. Those are the
optimality conditions of the strictly convex ``min_a 1/2 a^T M a - sum_t log a_t``, solved
here by damped Newton steps (self-concordant, so a fixed number of steps converges
quadratically; no CVXPY). As in the authors' code, ``M`` is first divided by its
Frobenius norm, which makes ``a`` independent of the gradients' overall scale.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mtkit.builtin.weightings._gram import GradientParams, GramWeighting
from mtkit.hookspecs import hookimpl


class NashMTLParams(GradientParams):
    newton_steps: int = Field(30, ge=1, le=200, description="Newton iterations per step.")


def nash_weights(gram: Any, active: Any, steps: int = 30) -> Any:
    """Positive ``a`` with ``(M a) * a = 1`` on the active tasks, for the normalised ``M``."""
    import tensorflow as tf

    t = gram.shape[0]
    act = tf.cast(active, tf.float64)
    mask = act[:, None] * act[None, :]
    m = gram * mask
    m = tf.math.divide_no_nan(m, tf.norm(m))
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
    return a * act


class NashMTL(GramWeighting):
    """Nash bargaining solution over the task gradients (Navon et al. 2022)."""

    name = "nash_mtl"
    Params = NashMTLParams

    def weights_from_gram(self, gram: Any, losses: Any, active: Any) -> Any:
        return nash_weights(gram, active, self.params.newton_steps)


@hookimpl
def register_weightings(register):
    register(NashMTL)
