"""Built-in weighting: IMTL-G, impartial multi-task learning (gradient balance).

Liu et al., "Towards Impartial Multi-task Learning", ICLR 2021. IMTL-G finds the
aggregated gradient ``g = sum_t a_t g_t`` with ``sum_t a_t = 1`` whose projections onto
every task's unit gradient are equal, ``g . u_1 = g . u_t`` (``u_t = g_t / |g_t|``), so no
task dominates the shared update. The paper's closed form is ``a_{2..T} = g_1 U^T (D U^T)^-1``
with ``D = [g_1 - g_t]``, ``U = [u_1 - u_t]``; here the same conditions are one
``(T+1)``-sized linear system on the Gram matrix (the common projection is the extra
unknown), which handles any subset of tasks being absent from a batch. The paper's
hybrid also learns loss scales (IMTL-L); that half is not included, so ``imtl`` is IMTL-G.
"""

from __future__ import annotations

from typing import Any

from mtkit.builtin.weightings._gram import GradientParams, GramWeighting
from mtkit.hookspecs import hookimpl


def imtl_g_weights(gram: Any, active: Any) -> Any:
    """``a`` with ``sum a = 1`` and equal ``(sum_s a_s g_s) . u_t`` over the active tasks."""
    import tensorflow as tf

    t = gram.shape[0]
    # A zero gradient has no unit vector (the reference divides by zero): leave it out.
    active = active & (tf.linalg.diag_part(gram) > 0)
    act = tf.cast(active, tf.float64)
    norms = tf.sqrt(tf.linalg.diag_part(gram))
    inv = tf.math.divide_no_nan(tf.ones_like(norms), norms)
    # Row t (active): sum_s a_s M[s, t] / |g_t| - p = 0; inactive: a_t = 0; last: sum a = 1.
    proj = tf.transpose(gram * inv[None, :])  # proj[t, s] = g_s . u_t
    eye = tf.eye(t, dtype=tf.float64)
    rows = act[:, None] * proj + (1.0 - act)[:, None] * eye
    top = tf.concat([rows, -act[:, None]], axis=1)
    bottom = tf.concat([act, tf.zeros([1], tf.float64)], axis=0)[None, :]
    system = tf.concat([top, bottom], axis=0)
    rhs = tf.concat([tf.zeros([t], tf.float64), tf.ones([1], tf.float64)], axis=0)
    sol = tf.linalg.matvec(tf.linalg.pinv(system), rhs)
    return sol[:t] * act


class IMTL(GramWeighting):
    """IMTL-G: equal projection of the update on every task gradient (Liu et al. 2021)."""

    name = "imtl"
    Params = GradientParams

    def weights_from_gram(self, gram: Any, losses: Any, active: Any) -> Any:
        return imtl_g_weights(gram, active)


@hookimpl
def register_weightings(register):
    register(IMTL)
