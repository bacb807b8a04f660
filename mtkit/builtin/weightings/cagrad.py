"""Built-in weighting: CAGrad, conflict-averse gradient descent.

Liu et al., "Conflict-Averse Gradient Descent for Multi-task Learning", NeurIPS 2021
(arXiv:2110.14048). The update ``d`` maximises the worst task's improvement
``min_i g_i . d`` within a ball around the average gradient, ``|d - g0| <= c |g0|``.
Its dual is ``min_{w in simplex} g_w . g0 + c |g0| |g_w|`` (``g_w = sum_t w_t g_t``) and
``d = g0 + (c |g0| / |g_w|) g_w``, divided by ``1 + c^2`` (the authors' default
``rescale: 1``; ``2`` divides by ``1 + c``, ``0`` not at all). The dual is solved exactly:
on each support of ``w`` the optimality conditions are linear in ``w`` for a fixed
``mu = |g_w|`` and ``mu^2 = |g_w|^2`` is then a quadratic equation, so every support gives
at most two candidates and the best feasible one is the optimum (see ``_min_norm``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mtkit.builtin.weightings import _min_norm as mn
from mtkit.builtin.weightings._gram import GradientParams, GramWeighting
from mtkit.errors import ConfigError
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo


class CAGradParams(GradientParams):
    c: float = Field(0.4, ge=0.0, description="Radius of the ball around the average gradient, "
                                               "relative to its norm (0 = plain averaging).")
    rescale: int = Field(1, ge=0, le=2, description="Divide d by 1 + c^2 (1), 1 + c (2) or not (0).")


def cagrad_dual(gram: Any, active: Any, c: float) -> Any:
    """``(w, |g0|)``: the exact minimiser of ``g_w . g0 + c |g0| |g_w|`` over the simplex."""
    import tensorflow as tf

    t = gram.shape[0]
    act = tf.cast(active, tf.float64)
    b = act / tf.maximum(tf.reduce_sum(act), 1.0)  # g0 = mean of the active gradients
    g0_norm = tf.sqrt(tf.maximum(tf.tensordot(b, tf.linalg.matvec(gram, b), 1), 0.0))
    radius = c * g0_norm
    h = tf.linalg.matvec(gram, b)
    supports = mn.support_matrix(t)
    n = tf.shape(supports)[0]
    safe_r = tf.where(radius > 0, radius, 1.0)
    rhs = tf.stack([
        tf.concat([tf.zeros([n, t], tf.float64), tf.ones([n, 1], tf.float64)], axis=1),
        tf.concat([-supports * h[None, :] / safe_r, tf.zeros([n, 1], tf.float64)], axis=1),
    ], axis=2)
    sol = tf.linalg.solve(mn.support_systems(gram, supports), rhs)
    w0, w1 = sol[:, :t, 0], sol[:, :t, 1]
    q00 = mn.quad(w0, gram)
    q11 = mn.quad(w1, gram)
    q01 = tf.einsum("nt,ts,ns->n", w0, gram, w1)
    a = 1.0 - q11  # mu^2 = q00 + 2 mu q01 + mu^2 q11
    root = tf.sqrt(tf.maximum(q01**2 + a * q00, 0.0))
    s = q01 + tf.where(q01 >= 0, root, -root)
    mus = tf.stack([tf.math.divide_no_nan(s, a), tf.math.divide_no_nan(-q00, s)], axis=0)
    cands = w0[None] + mus[:, :, None] * w1[None]  # (2, N, T)
    cands = tf.reshape(cands, [-1, t])
    ok = mn.feasible(cands, tf.concat([supports, supports], 0), active) & (
        tf.reshape(mus, [-1]) > 0)
    objective = tf.linalg.matvec(cands, h) + radius * tf.sqrt(tf.maximum(mn.quad(cands, gram), 0.0))
    w = mn.pick_best(cands, objective, ok)
    return tf.where(radius > 0, w, b), g0_norm


class CAGrad(GramWeighting):
    """Best worst-task improvement near the average gradient (Liu et al. 2021)."""

    name = "cagrad"
    Params = CAGradParams

    def validate(self, tasks: list[TaskInfo]) -> None:
        if len(tasks) > mn.MAX_EXACT_TASKS:
            raise ConfigError(
                f"field 'weighting.type': cagrad solves its dual exactly for up to "
                f"{mn.MAX_EXACT_TASKS} tasks and this config has {len(tasks)}; use mgda, "
                "pcgrad or nash_mtl for more tasks.")

    def weights_from_gram(self, gram: Any, losses: Any, active: Any) -> Any:
        import tensorflow as tf

        c = self.params.c
        act = tf.cast(active, tf.float64)
        b = act / tf.maximum(tf.reduce_sum(act), 1.0)
        w, g0_norm = cagrad_dual(gram, active, c)
        gw_norm = tf.sqrt(tf.maximum(tf.tensordot(w, tf.linalg.matvec(gram, w), 1), 0.0))
        lam = tf.math.divide_no_nan(c * g0_norm, gw_norm)
        scale = {0: 1.0, 1: 1.0 + c**2, 2: 1.0 + c}[self.params.rescale]
        return (b + lam * w) / scale


@hookimpl
def register_weightings(register):
    register(CAGrad)
