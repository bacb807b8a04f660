"""Small exact solvers over the probability simplex, for gradient weightings (TF, float64).

The problems (MGDA's min-norm point, CAGrad's dual) live on the simplex of the *active*
tasks (present in the batch, with a non-zero gradient). With few tasks the solution is
found exactly by enumerating every support: on a support ``S`` the KKT conditions are
one small linear system, all ``2^T - 1`` systems are solved in one batched call, and
the best feasible candidate is the optimum (every feasible candidate is a point of the
simplex; the optimum's own support is among them). This is exact, branch-free and runs
inside ``tf.function`` (and XLA). Above ``MAX_EXACT_TASKS`` tasks the enumeration grows
too big and MGDA falls back to Sener & Koltun's Frank-Wolfe solver.
"""

from __future__ import annotations

from typing import Any

MAX_EXACT_TASKS = 12
_FEASIBLE_TOL = 1e-9


def sanitize(gram: Any) -> Any:
    """Non-finite entries → 0, so a NaN gradient cannot crash a solver (the loop reports it)."""
    import tensorflow as tf

    return tf.where(tf.math.is_finite(gram), gram, tf.zeros_like(gram))


def support_matrix(n_tasks: int) -> Any:
    """``(2^T - 1, T)`` float64 0/1 rows: every non-empty subset of the tasks."""
    import tensorflow as tf

    rows = [[float((i >> t) & 1) for t in range(n_tasks)] for i in range(1, 2**n_tasks)]
    return tf.constant(rows, tf.float64)


def _ridge(gram: Any) -> Any:
    import tensorflow as tf

    return 1e-10 * tf.reduce_max(tf.linalg.diag_part(gram)) + 1e-30


def support_systems(gram: Any, supports: Any) -> Any:
    """Batched KKT matrices for ``min f(w)`` with ``w = 0`` off the support and ``sum w = 1``.

    Row ``t`` on the support reads ``(M w)_t - nu = rhs_t``; off it ``w_t = 0``; the
    last row is ``sum_S w = 1``. A tiny ridge keeps supports of dependent gradients solvable.
    """
    import tensorflow as tf

    n = tf.shape(supports)[0]
    t = gram.shape[0]
    eye = tf.eye(t, dtype=tf.float64)
    s_col = supports[:, :, None]
    a = s_col * supports[:, None, :] * gram[None] + (1.0 - s_col) * eye + _ridge(gram) * s_col * eye
    top = tf.concat([a, -s_col], axis=2)
    bottom = tf.concat([supports, tf.zeros([n, 1], tf.float64)], axis=1)[:, None, :]
    return tf.concat([top, bottom], axis=1)


def feasible(weights: Any, supports: Any, active: Any) -> Any:
    """Which candidates lie on the simplex of the active tasks."""
    import tensorflow as tf

    inside = tf.reduce_all((supports <= 0.0) | active[None, :], axis=1)
    nonneg = tf.reduce_all(weights >= -_FEASIBLE_TOL, axis=1)
    finite = tf.reduce_all(tf.math.is_finite(weights), axis=1)
    return inside & nonneg & finite


def pick_best(candidates: Any, objective: Any, ok: Any) -> Any:
    """The candidate with the least objective among the feasible ones (zeros if none)."""
    import tensorflow as tf

    score = tf.where(ok, objective, tf.constant(float("inf"), tf.float64))
    best = tf.gather(candidates, tf.argmin(score))
    best = tf.maximum(best, 0.0)
    total = tf.reduce_sum(best)
    return tf.where(tf.reduce_any(ok) & (total > 0), best / tf.where(total > 0, total, 1.0),
                    tf.zeros_like(best))


def quad(weights: Any, gram: Any) -> Any:
    """``w^T M w`` for each row of ``weights``."""
    import tensorflow as tf

    return tf.einsum("nt,ts,ns->n", weights, gram, weights)


def min_norm_weights(gram: Any, active: Any) -> Any:
    """``argmin_{w in simplex(active)} w^T M w``: the min-norm point of the gradients' hull."""
    import tensorflow as tf

    gram = sanitize(gram)
    n_tasks = gram.shape[0]
    if n_tasks > MAX_EXACT_TASKS:
        return frank_wolfe_min_norm(gram, active)
    supports = support_matrix(n_tasks)
    n = tf.shape(supports)[0]
    rhs = tf.concat([tf.zeros([n, n_tasks], tf.float64), tf.ones([n, 1], tf.float64)], axis=1)
    sol = tf.linalg.solve(support_systems(gram, supports), rhs[:, :, None])[:, :n_tasks, 0]
    return pick_best(sol, quad(sol, gram), feasible(sol, supports, active))


def two_point_min_norm(v1v1: Any, v1v2: Any, v2v2: Any) -> Any:
    """Weight ``g`` on point 1 minimising ``|g v1 + (1 - g) v2|`` (Sener & Koltun, Alg. 1)."""
    import tensorflow as tf

    denom = v1v1 + v2v2 - 2.0 * v1v2
    ratio = tf.math.divide_no_nan(v2v2 - v1v2, denom)
    return tf.where(denom > 1e-30, tf.clip_by_value(ratio, 0.0, 1.0), tf.ones_like(ratio))


def frank_wolfe_min_norm(gram: Any, active: Any, max_iter: int = 250, tol: float = 1e-7) -> Any:
    """Sener & Koltun's solver: best pair, then Frank-Wolfe steps with exact line search."""
    import tensorflow as tf

    t = gram.shape[0]
    inf = tf.constant(float("inf"), tf.float64)
    act = tf.cast(active, tf.float64)
    diag = tf.linalg.diag_part(gram)
    gamma = two_point_min_norm(diag[:, None], gram, diag[None, :])
    cost = gamma**2 * diag[:, None] + (1 - gamma) ** 2 * diag[None, :] + 2 * gamma * (1 - gamma) * gram
    pair_ok = (act[:, None] * act[None, :]) > 0
    flat = tf.argmin(tf.reshape(tf.where(pair_ok, cost, inf), [-1]))
    i, j = flat // t, flat % t
    g = tf.reshape(tf.gather(tf.reshape(gamma, [-1]), flat), [])
    w0 = g * tf.one_hot(i, t, dtype=tf.float64) + (1 - g) * tf.one_hot(j, t, dtype=tf.float64)

    def body(k, w, _done):
        mw = tf.linalg.matvec(gram, w)
        pick = tf.argmin(tf.where(active, mw, inf))
        step = two_point_min_norm(tf.tensordot(w, mw, 1), tf.gather(mw, pick),
                                  tf.gather(diag, pick))
        new = step * w + (1 - step) * tf.one_hot(pick, t, dtype=tf.float64)
        return k + 1, new, tf.reduce_sum(tf.abs(new - w)) < tol

    _, w, _ = tf.while_loop(lambda k, w, done: (k < max_iter) & ~done, body,
                            (tf.constant(0), w0, tf.constant(False)))
    w = w * act
    total = tf.reduce_sum(w)
    return tf.where(total > 0, w / tf.where(total > 0, total, 1.0), tf.zeros_like(w))


def project_to_simplex(y: Any, active: Any) -> Any:
    """Euclidean projection of ``y`` onto the simplex of the active coordinates."""
    import tensorflow as tf

    n_act = tf.reduce_sum(tf.cast(active, tf.int32))
    big = tf.constant(-1e30, tf.float64)
    u = tf.sort(tf.where(active, y, big), direction="DESCENDING")
    css = tf.cumsum(u)
    j = tf.cast(tf.range(1, tf.size(y) + 1), tf.float64)
    ok = (u - (css - 1.0) / j > 0) & (tf.range(1, tf.size(y) + 1) <= n_act)
    rho = tf.reduce_max(tf.where(ok, tf.range(1, tf.size(y) + 1), 1))
    theta = (tf.gather(css, rho - 1) - 1.0) / tf.cast(rho, tf.float64)
    return tf.where(active, tf.maximum(y - theta, 0.0), tf.zeros_like(y))
