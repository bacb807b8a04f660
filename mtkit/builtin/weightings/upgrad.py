"""Built-in weighting: UPGrad, unconflicting projection of gradients (Jacobian descent).

Quinton & Rey, "Jacobian Descent for Multi-Objective Optimization", 2024 (arXiv:2406.16232),
eq. 3 and Proposition 1; reference code TorchJD (``torchjd/aggregation/upgrad.py``), as
adapted in LibMTL (``LibMTL/weighting/UPGrad.py``). Each task's share ``g_i / T`` is
projected onto the dual cone of the task gradients (the directions that conflict with
none), and the update is the sum of the projections. With ``G = J J^T`` (normalised by
its trace, plus ``reg_eps * I`` so it is positive definite), projection ``i`` is
``J^T v_i`` with ``v_i = argmin v^T G v subject to v >= e_i / T``, and ``d = J^T sum_i v_i``.
The small QPs are solved exactly (the reference calls quadprog): the optimum's active
constraints are one of ``2^T`` sets, each a linear system, all solved in one batch, and
the best point satisfying the KKT conditions is the answer. Tasks without labels in the
batch are left out of ``J``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mtkit.builtin.weightings import _min_norm as mn
from mtkit.builtin.weightings._gram import GradientParams, GramWeighting
from mtkit.errors import ConfigError
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo

_KKT_TOL = 1e-9


class UPGradParams(GradientParams):
    norm_eps: float = Field(1e-4, ge=0.0, description="Below this trace the Gramian counts as "
                            "zero (reference default 1e-4).")
    reg_eps: float = Field(1e-4, gt=0.0, description="Ridge added to the normalised Gramian "
                           "(reference default 1e-4).")


def dual_cone_weights(gram: Any, prefs: Any) -> Any:
    """``(R, T)`` solutions of ``min v^T G v s.t. v >= prefs[r]`` for a PD ``(T, T)`` G."""
    import tensorflow as tf

    t = gram.shape[0]
    subsets = tf.concat([tf.zeros([1, t], tf.float64), mn.support_matrix(t)], axis=0)  # (S, T)
    n_r = tf.shape(prefs)[0]
    a = subsets[:, None, :, None]  # 1 where the constraint v_k >= u_k is tight
    eye = tf.eye(t, dtype=tf.float64)
    system = a * eye + (1.0 - a) * gram  # rows: v_k = u_k (tight) or (G v)_k = 0 (free)
    system = tf.broadcast_to(system, [tf.shape(subsets)[0], n_r, t, t])
    rhs = subsets[:, None, :] * prefs[None, :, :]
    v = tf.linalg.solve(system, rhs[..., None])[..., 0]  # (S, R, T)
    gv = tf.einsum("ts,nrs->nrt", gram, v)
    tight = subsets[:, None, :] > 0
    ok = tf.reduce_all(v >= prefs[None] - _KKT_TOL, axis=2) & tf.reduce_all(
        tf.where(tight, gv >= -_KKT_TOL * tf.reduce_max(tf.abs(gram)), True), axis=2)
    ok = ok & tf.reduce_all(tf.math.is_finite(v), axis=2)
    obj = tf.reduce_sum(v * gv, axis=2)
    score = tf.where(ok, obj, tf.constant(float("inf"), tf.float64))
    best = tf.argmin(score, axis=0)  # (R,)
    return tf.gather(tf.transpose(v, [1, 0, 2]), best, batch_dims=1)


def upgrad_weights(gram: Any, active: Any, norm_eps: float = 1e-4, reg_eps: float = 1e-4) -> Any:
    """``sum_i v_i`` over the active tasks (the weights of the raw gradients)."""
    import tensorflow as tf

    t = gram.shape[0]
    act = tf.cast(active, tf.float64)
    mask = act[:, None] * act[None, :]
    m = gram * mask
    trace = tf.linalg.trace(m)
    m = tf.where(trace < norm_eps, tf.zeros_like(m), m / tf.where(trace > 0, trace, 1.0))
    eye = tf.eye(t, dtype=tf.float64)
    m = m + reg_eps * eye + (1.0 - act)[:, None] * eye  # absent tasks: decoupled, v = 0
    n_act = tf.maximum(tf.reduce_sum(act), 1.0)
    prefs = eye * (act / n_act)[None, :]
    v = dual_cone_weights(m, prefs)
    return tf.reduce_sum(v, axis=0) * act


class UPGrad(GramWeighting):
    """Sum of each task's gradient projected onto the non-conflicting cone (Quinton & Rey 2024)."""

    name = "upgrad"
    Params = UPGradParams

    def validate(self, tasks: list[TaskInfo]) -> None:
        if len(tasks) > mn.MAX_EXACT_TASKS:
            raise ConfigError(
                f"field 'weighting.type': upgrad solves its projections exactly for up to "
                f"{mn.MAX_EXACT_TASKS} tasks and this config has {len(tasks)}; use mgda, "
                "pcgrad or nash_mtl for more tasks.")

    def weights_from_gram(self, gram: Any, losses: Any, active: Any) -> Any:
        return upgrad_weights(gram, active, self.params.norm_eps, self.params.reg_eps)


@hookimpl
def register_weightings(register):
    register(UPGrad)
