"""Gradient weightings, each checked for its defining property against numpy hand computations.

Gradients are tiny known vectors; the plugins run inside tf.function exactly as in the
train step (``combine_gradients`` for trunk gradients split over two variables, or
``task_weights`` for feature gradients).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.weighting.wt_helpers import combine_gradients, make, simplex_grid, task_weights, tasks

pytest.importorskip("tensorflow")


def split(vec: np.ndarray) -> list[np.ndarray]:
    """A flat gradient as two 'variables' of shapes (2, 2) and (rest,)."""
    return [vec[:4].reshape(2, 2), vec[4:]]


# ---------------------------------------------------------------- PCGrad (Yu et al. 2020)

def test_pcgrad_removes_exactly_the_conflicting_components():
    g1 = np.array([1.0, 0.5, -0.2, 0.3, 0.7])
    g2 = np.array([-0.8, 0.4, 0.6, -0.1, 0.2])
    assert g1 @ g2 < 0
    p1 = g1 - (g1 @ g2) / (g2 @ g2) * g2  # Algorithm 1, by hand
    p2 = g2 - (g2 @ g1) / (g1 @ g1) * g1
    assert abs(p1 @ g2) < 1e-12 and abs(p2 @ g1) < 1e-12
    plugin = make("pcgrad", tasks("a", "b"))
    out = combine_gradients(plugin, {"a": split(g1), "b": split(g2)})
    np.testing.assert_allclose(out, p1 + p2, rtol=1e-5, atol=1e-6)
    assert int(plugin.step.numpy()) == 1  # the random-order counter advanced


def test_pcgrad_leaves_agreeing_gradients_alone_and_drops_absent_tasks():
    g1 = np.array([1.0, 0.5, 0.2, 0.3, 0.7])
    g2 = np.array([0.8, -0.4, 0.6, 0.1, 0.2])
    g3 = np.array([-3.0, 0.0, 0.0, 0.0, 1.0])  # conflicts with g1, but is absent
    assert g1 @ g2 > 0 and g1 @ g3 < 0
    plugin = make("pcgrad", tasks("a", "b", "c"))
    out = combine_gradients(plugin, {"a": split(g1), "b": split(g2), "c": split(np.zeros(5))},
                            present={"a": True, "b": True, "c": False})
    np.testing.assert_allclose(out, g1 + g2, rtol=1e-6)


def test_pcgrad_three_tasks_order_independent_case():
    # g3 is orthogonal to both, so the random order cannot matter.
    g1 = np.array([1.0, 0.2, 0.0, 0.0, 0.0])
    g2 = np.array([-0.5, 1.0, 0.0, 0.0, 0.0])
    g3 = np.array([0.0, 0.0, 0.0, 2.0, 0.0])
    p1 = g1 - (g1 @ g2) / (g2 @ g2) * g2
    p2 = g2 - (g2 @ g1) / (g1 @ g1) * g1
    plugin = make("pcgrad", tasks("a", "b", "c"))
    for _ in range(3):
        out = combine_gradients(plugin, {"a": split(g1), "b": split(g2), "c": split(g3)})
        np.testing.assert_allclose(out, p1 + p2 + g3, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------- MGDA (Sener & Koltun 2018)

def mgda_two_task_closed_form(g1: np.ndarray, g2: np.ndarray) -> float:
    """Weight on g1 of the min-norm point of the segment [g1, g2] (paper, Algorithm 1)."""
    return float(np.clip((g2 - g1) @ g2 / ((g1 - g2) @ (g1 - g2)), 0.0, 1.0))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mgda_two_tasks_match_the_closed_form(seed):
    rng = np.random.default_rng(seed)
    g1, g2 = rng.normal(size=5), rng.normal(size=5) * 3
    gamma = mgda_two_task_closed_form(g1, g2)
    plugin = make("mgda", tasks("a", "b"))
    out = combine_gradients(plugin, {"a": split(g1), "b": split(g2)})
    np.testing.assert_allclose(out, gamma * g1 + (1 - gamma) * g2, rtol=1e-5, atol=1e-6)


def test_mgda_dominated_pair_picks_the_shorter_gradient():
    g1 = np.array([1.0, 0.0, 0.0, 0.0, 0.0])
    g2 = np.array([3.0, 1.0, 0.0, 0.0, 0.0])  # g1 . g2 >= |g1|^2: the min-norm point is g1
    assert mgda_two_task_closed_form(g1, g2) == 1.0
    w = task_weights(make("mgda", tasks("a", "b"), gradients="features"), {"a": g1, "b": g2})
    np.testing.assert_allclose(w, [1.0, 0.0], atol=1e-7)


@pytest.mark.parametrize("seed", [3, 4])
def test_mgda_three_tasks_reach_the_minimum_norm_and_its_optimality_conditions(seed):
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(3, 4)) * np.array([[1.0], [2.0], [0.5]])
    plugin = make("mgda", tasks("a", "b", "c"), gradients="features")
    w = task_weights(plugin, {"a": g[0], "b": g[1], "c": g[2]})
    assert w.min() >= 0 and abs(w.sum() - 1) < 1e-6
    d = w @ g
    grid = simplex_grid(3, 600)  # brute force over the simplex
    best = np.min(np.sum((grid @ g) ** 2, axis=1))
    assert d @ d <= best + 1e-6
    # KKT: every used gradient has g_i . d = |d|^2; unused ones are at least that.
    dots = g @ d
    assert np.all(dots >= d @ d - 1e-5)
    np.testing.assert_allclose(dots[w > 1e-4], d @ d, rtol=1e-4, atol=1e-6)


def test_mgda_l2_normalisation_weighs_the_raw_gradients_by_the_unit_gradients_min_norm():
    g1 = np.array([4.0, 0.0, 1.0, 0.0, 0.0])
    g2 = np.array([0.0, 0.5, 0.2, 0.0, 0.0])
    u1, u2 = g1 / np.linalg.norm(g1), g2 / np.linalg.norm(g2)
    gamma = mgda_two_task_closed_form(u1, u2)
    out = combine_gradients(make("mgda", tasks("a", "b"), normalization="l2"),
                            {"a": split(g1), "b": split(g2)})
    # Sener & Koltun: the weights come from the unit gradients, then scale the raw losses.
    np.testing.assert_allclose(out, gamma * g1 + (1 - gamma) * g2, rtol=1e-5, atol=1e-6)


def test_mgda_many_tasks_frank_wolfe_fallback_meets_the_optimality_conditions():
    rng = np.random.default_rng(7)
    n = 14  # above the exact solver's limit
    g = rng.normal(size=(n, 6)) + 0.3
    names = [f"t{i}" for i in range(n)]
    w = task_weights(make("mgda", tasks(*names), gradients="features"),
                     {k: g[i] for i, k in enumerate(names)})
    d = w @ g
    assert w.min() >= 0 and abs(w.sum() - 1) < 1e-6
    assert np.all(g @ d >= d @ d * (1 - 1e-3) - 1e-6)


# -------------------------------------------------------- CAGrad (Liu et al. 2021)

def cagrad_by_hand(g: np.ndarray, c: float, steps: int) -> np.ndarray:
    """Grid-search the dual over the simplex, then d = g0 + c|g0|/|g_w| g_w (unscaled)."""
    g0 = g.mean(axis=0)
    grid = simplex_grid(len(g), steps)
    gw = grid @ g
    objective = gw @ g0 + c * np.linalg.norm(g0) * np.linalg.norm(gw, axis=1)
    best = gw[np.argmin(objective)]
    return g0 + c * np.linalg.norm(g0) / np.linalg.norm(best) * best


@pytest.mark.parametrize("seed", [0, 5])
def test_cagrad_matches_a_brute_force_dual_and_maximises_the_worst_task_in_its_ball(seed):
    rng = np.random.default_rng(seed)
    g = np.stack([np.array([1.0, 0.3, 0.0, 0.2, 0.1]), np.array([-0.6, 0.9, 0.1, 0.0, 0.3])])
    g = g + 0.1 * rng.normal(size=g.shape)
    c = 0.4
    d = combine_gradients(make("cagrad", tasks("a", "b"), c=c, rescale=0),
                          {"a": split(g[0]), "b": split(g[1])})
    np.testing.assert_allclose(d, cagrad_by_hand(g, c, 200_000), rtol=1e-3, atol=1e-4)
    g0 = g.mean(axis=0)
    radius = c * np.linalg.norm(g0)
    assert np.linalg.norm(d - g0) <= radius * (1 + 1e-5)
    # No point of the ball does better for the worst task.
    u = rng.normal(size=(20_000, 5))
    u = u / np.linalg.norm(u, axis=1, keepdims=True) * radius * rng.random((20_000, 1)) ** 0.2
    others = (g0 + u) @ g.T
    assert (g @ d).min() >= others.min(axis=1).max() - 1e-5


def test_cagrad_three_tasks_and_rescaling():
    g = np.array([[1.0, 0.0, 0.2, 0.0], [0.0, 1.0, 0.0, 0.1], [-0.7, -0.2, 0.5, 0.0]])
    c = 0.5
    plugin = make("cagrad", tasks("a", "b", "c"), c=c, gradients="features")
    w = task_weights(plugin, {"a": g[0], "b": g[1], "c": g[2]})
    np.testing.assert_allclose(w @ g * (1 + c**2), cagrad_by_hand(g, c, 1500), rtol=2e-3, atol=2e-3)


def test_cagrad_with_c_zero_is_the_average_gradient():
    g = np.array([[1.0, 2.0, 0.0], [-3.0, 0.5, 1.0]])
    w = task_weights(make("cagrad", tasks("a", "b"), c=0.0), {"a": g[0], "b": g[1]})
    np.testing.assert_allclose(w, [0.5, 0.5], atol=1e-7)


# ------------------------------------------------------------- IMTL-G (Liu et al. 2021)

def imtl_by_hand(g: np.ndarray) -> np.ndarray:
    """The paper's closed form: a_{2..T} = g_1 U^T (D U^T)^-1, a_1 = 1 - sum."""
    u = g / np.linalg.norm(g, axis=1, keepdims=True)
    d_mat = g[0] - g[1:]
    u_mat = u[0] - u[1:]
    rest = g[0] @ u_mat.T @ np.linalg.inv(d_mat @ u_mat.T)
    return np.concatenate([[1 - rest.sum()], rest])


def test_imtl_matches_the_closed_form_and_equalises_projections():
    rng = np.random.default_rng(11)
    g = rng.normal(size=(3, 6)) * np.array([[0.2], [1.0], [5.0]])
    a = imtl_by_hand(g)
    out = combine_gradients(make("imtl", tasks("a", "b", "c")),
                            {"a": split(g[0]), "b": split(g[1]), "c": split(g[2])})
    np.testing.assert_allclose(out, a @ g, rtol=1e-4, atol=1e-5)
    unit = g / np.linalg.norm(g, axis=1, keepdims=True)
    proj = unit @ out
    np.testing.assert_allclose(proj, proj[0], rtol=1e-4)


def test_imtl_with_an_absent_task_uses_the_others_closed_form():
    rng = np.random.default_rng(12)
    g = rng.normal(size=(3, 4))
    rows = {"a": g[0], "b": np.zeros(4), "c": g[2]}
    w = task_weights(make("imtl", tasks("a", "b", "c"), gradients="features"), rows,
                     present={"a": True, "b": False, "c": True})
    expected = imtl_by_hand(g[[0, 2]])
    np.testing.assert_allclose(w, [expected[0], 0.0, expected[1]], rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------- Nash-MTL (Navon et al. 2022)

@pytest.mark.parametrize("seed", [0, 1])
def test_nash_mtl_solves_the_bargaining_conditions(seed):
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(3, 6)) * np.array([[0.1], [1.0], [10.0]]) + 0.2
    w = task_weights(make("nash_mtl", tasks("a", "b", "c"), gradients="features", max_norm=0.0),
                     {"a": g[0], "b": g[1], "c": g[2]})
    m = g @ g.T  # the authors normalise by |G G^T|_F inside the solve only: raw problem
    assert np.all(w > 0)
    # G G^T a = 1 / a: every task's directional derivative along d is 1 / a_t.
    np.testing.assert_allclose((m @ w) * w, np.ones(3), rtol=1e-4)


def test_nash_mtl_orthogonal_gradients_get_inverse_norm_weights_and_the_clip():
    g = np.diag([1.0, 4.0])
    # By hand: a_t^2 |g_t|^2 = 1, so a_t = 1 / |g_t| and every task gets a unit step,
    # d = e_1 + e_2 (norm sqrt 2), which the authors' max_norm = 1 clips to d / sqrt 2.
    free = combine_gradients(make("nash_mtl", tasks("a", "b"), max_norm=0.0),
                             {"a": [g[0]], "b": [g[1]]})
    np.testing.assert_allclose(free, np.ones(2), rtol=1e-5)
    d = combine_gradients(make("nash_mtl", tasks("a", "b")), {"a": [g[0]], "b": [g[1]]})
    np.testing.assert_allclose(d, np.ones(2) / (np.sqrt(2) + 1e-6), rtol=1e-5)
    # The update does not scale with the gradients (a_t ~ 1 / |g_t|), as in the authors' code.
    big = combine_gradients(make("nash_mtl", tasks("a", "b"), max_norm=0.0),
                            {"a": [10 * g[0]], "b": [10 * g[1]]})
    np.testing.assert_allclose(big, np.ones(2), rtol=1e-5)


# ------------------------------------------------------ Aligned-MTL (Senushkin et al. 2023)

def test_aligned_mtl_matches_the_svd_construction():
    rng = np.random.default_rng(21)
    g = rng.normal(size=(3, 7)) * np.array([[3.0], [1.0], [0.3]])
    # Paper: G = U S V^T → aligned G' = s_min U V^T; the update is G' 1.
    u, s, vt = np.linalg.svd(g.T, full_matrices=False)
    aligned = s.min() * u @ vt
    assert np.allclose(aligned.T @ aligned, s.min() ** 2 * np.eye(3))
    out = combine_gradients(make("aligned_mtl", tasks("a", "b", "c")),
                            {"a": split(g[0]), "b": split(g[1]), "c": split(g[2])})
    np.testing.assert_allclose(out, aligned.sum(axis=1), rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------ GradNorm (Chen et al. 2018)

def gradnorm_average_weights(alpha: float, norms: np.ndarray, now: list[float]) -> tuple:
    """Run GradNorm on fixed gradients and losses; average the (oscillating) weights."""
    import tensorflow as tf

    rows = {n: np.eye(3)[i] * norms[i] for i, n in enumerate("abc")}
    plugin = make("gradnorm", tasks("a", "b", "c"), alpha=alpha, weight_lr=0.001)

    @tf.function
    def run(steps, average_over):
        feats = {n: tf.constant(v, tf.float32) for n, v in rows.items()}
        present = {n: tf.constant(True) for n in rows}
        plugin.task_weights(feats, {n: tf.constant(1.0) for n in rows}, present)  # L(0) = 1
        total = tf.zeros([3], tf.float64)
        for i in tf.range(steps):
            plugin.task_weights(feats, {n: tf.constant(v) for n, v in zip("abc", now, strict=True)}, present)
            if i >= steps - average_over:
                total += plugin.weights
        return total / tf.cast(average_over, tf.float64)

    return run(tf.constant(4000), tf.constant(1000)).numpy(), plugin


def test_gradnorm_drives_gradient_norms_to_the_target_ratios():
    norms = np.array([1.0, 2.0, 0.5])
    ratio = np.array([0.5, 0.2, 0.8])  # L_t / L_t(0)
    r = ratio / ratio.mean()  # relative inverse training rates
    # alpha = 1: the targets mean(G) r_t are attainable together, so by hand
    # w_t |g_t| = mean(G) r_t, i.e. w_t ~ r_t / |g_t|, rescaled to sum to T.
    w, plugin = gradnorm_average_weights(1.0, norms, list(ratio))
    expected = r / norms * 3 / np.sum(r / norms)
    np.testing.assert_allclose(w, expected, rtol=0.02)
    np.testing.assert_allclose(plugin.initial_losses.numpy(), [1.0, 1.0, 1.0])
    assert abs(plugin.weights.numpy().sum() - 3.0) < 1e-9
    # alpha = 1.5: sum_t r_t^alpha > T, so not every target can be met; the L1 objective
    # sum_t |G_t / mean(G) - r_t^alpha| reaches its least possible value, sum r^alpha - T.
    w, _ = gradnorm_average_weights(1.5, norms, list(ratio))
    g = w * norms
    objective = np.abs(g / g.mean() - r**1.5).sum()
    start = np.abs(norms / norms.mean() - r**1.5).sum()
    assert objective == pytest.approx(np.sum(r**1.5) - 3, abs=0.02) and objective < start - 0.5


# ------------------------------------------------------------- every gradient method

GRADIENT_METHODS = ["pcgrad", "mgda", "cagrad", "imtl", "nash_mtl", "aligned_mtl", "gradnorm",
                    "upgrad", "fairgrad", "gradvac"]


@pytest.mark.parametrize("name", GRADIENT_METHODS)
def test_absent_task_gets_zero_weight_and_no_nan(name):
    rows = {"a": np.array([1.0, 0.2, 0.0]), "b": np.zeros(3), "c": np.array([-0.3, 1.0, 0.5])}
    present = {"a": True, "b": False, "c": True}
    w = task_weights(make(name, tasks("a", "b", "c"), gradients="features"), rows,
                     losses={"a": 0.7, "b": 0.0, "c": 1.2}, present=present)
    assert np.all(np.isfinite(w)) and w[1] == 0.0 and w[[0, 2]].max() > 0
    nothing = task_weights(make(name, tasks("a", "b")), {"a": np.zeros(3), "b": np.zeros(3)},
                           losses={"a": 0.0, "b": 0.0}, present={"a": False, "b": False})
    np.testing.assert_array_equal(nothing, [0.0, 0.0])
