"""Built-in weighting: DB-MTL, dual-balancing multi-task learning.

Lin et al., "Dual-Balancing for Multi-Task Learning", 2023 (arXiv:2308.12029), eq. 3-5;
reference: LibMTL ``LibMTL/weighting/DB_MTL.py`` (the authors' implementation). Two
balances: the *losses* are balanced by taking the gradient of ``log L_t`` (so
``g~_t = g_t / L_t``, scale-free across tasks), and the *gradients* are balanced by
rescaling every task's moving average ``m_t <- g~_t + beta_k (m_t - g~_t)``
(``beta_k = beta / k^beta_sigma``) to the largest norm among them:
``d = sum_t (max_s |m_s| / |m_t|) m_t``. The averages (tasks x shared parameters) and the
step counter are checkpointed. A task without labels in the batch keeps its average and
is left out of that step's update.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mtkit.builtin.weightings._buffered import BufferedParams, BufferedWeighting, masked_rows
from mtkit.hookspecs import hookimpl


class DBMTLParams(BufferedParams):
    beta: float = Field(0.9, ge=0.0, le=1.0, description="Momentum of the gradient averages "
                        "(reference 0.9).")
    beta_sigma: float = Field(0.0, ge=0.0, description="Decay exponent of beta (reference 0).")


class DBMTL(BufferedWeighting):
    """Log-loss gradients, averaged and rescaled to the largest norm (Lin et al. 2023)."""

    name = "db_mtl"
    Params = DBMTLParams
    buffer_name = "averages"

    def update(self, matrix: Any, losses: Any, active: Any, step: Any) -> Any:
        import tensorflow as tf

        p = self.params
        log_grads = matrix / tf.cast(losses + 1e-8, tf.float32)[:, None]
        beta = tf.cast(p.beta / step**p.beta_sigma, tf.float32)
        old = self.buffer.read_value()
        avg = masked_rows(active, log_grads + beta * (old - log_grads), old)
        self.buffer.assign(avg)
        norms = tf.norm(avg, axis=1)
        biggest = tf.reduce_max(tf.where(active, norms, 0.0))
        alpha = tf.where(active, biggest / (norms + 1e-8), 0.0)
        return tf.linalg.matvec(avg, alpha, transpose_a=True)


@hookimpl
def register_weightings(register):
    register(DBMTL)
