"""Loss weightings (uncertainty, DWA, RLW) checked against numpy hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.weighting.wt_helpers import make, tasks

tf = pytest.importorskip("tensorflow")


def combine(plugin, losses: dict[str, float], present: dict[str, bool] | None = None) -> float:
    present = present or {n: True for n in losses}

    @tf.function
    def run():
        return plugin.combine({n: tf.constant(v) for n, v in losses.items()},
                              {n: tf.constant(present[n]) for n in losses})

    return float(run())


# ------------------------------------------------------ uncertainty (Kendall et al. 2018)

def test_uncertainty_variances_converge_to_the_tasks_noise():
    """Two constant predictors fit data with noise std 0.1 and 1.0 (regression); the
    learned sigma^2 ratio must approach the sample-variance ratio, computed by hand."""
    import keras

    rng = np.random.default_rng(0)
    y = {"quiet": rng.normal(2.0, 0.1, 256), "noisy": rng.normal(-1.0, 1.0, 256)}
    plugin = make("uncertainty", tasks("quiet", "noisy"))
    pred = tf.Variable([0.0, 0.0])
    opt = keras.optimizers.Adam(0.05)
    variables = [pred, plugin.log_variances]
    opt.build(variables)
    data = {k: tf.constant(v, tf.float32) for k, v in y.items()}
    present = {k: tf.constant(True) for k in y}

    @tf.function
    def train(steps):
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                losses = {k: tf.reduce_mean((data[k] - pred[i]) ** 2) for i, k in enumerate(y)}
                total = plugin.combine(losses, present)
            opt.apply_gradients(zip(tape.gradient(total, variables), variables, strict=True))

    train(tf.constant(1500))
    # By hand: for regression the optimum of exp(-s) L / 2 + s / 2 is s = log L, and L at
    # the fitted mean is the sample variance.
    var = np.array([np.var(y["quiet"]), np.var(y["noisy"])])
    s = plugin.log_variances.numpy()
    np.testing.assert_allclose(np.exp(s), var, rtol=0.05)
    assert np.exp(s[1] - s[0]) == pytest.approx(var[1] / var[0], rel=0.08)  # ~100x


def test_uncertainty_optimum_per_output_type_and_absent_tasks():
    cls_task = tasks("c", output_type="categorical")
    reg_task = tasks("r")
    plugin = make("uncertainty", cls_task + reg_task)
    losses = {"c": 0.8, "r": 0.3}
    # By hand (eq. 10): classification exp(-s) L + s/2 -> s* = log(2 L);
    # regression exp(-s) L / 2 + s/2 -> s* = log L.
    expected_s = np.log([2 * 0.8, 0.3])
    plugin.log_variances.assign(expected_s.astype(np.float32))
    with tf.GradientTape() as tape:
        total = plugin.combine({k: tf.constant(v) for k, v in losses.items()},
                               {k: tf.constant(True) for k in losses})
    grad = tape.gradient(total, plugin.log_variances).numpy()
    np.testing.assert_allclose(grad, [0.0, 0.0], atol=1e-6)
    value = np.sum(np.exp(-expected_s) * np.array([1.0, 0.5]) * [0.8, 0.3] + expected_s / 2)
    assert float(total) == pytest.approx(value, rel=1e-5)
    # An absent task contributes nothing, and its log-variance gets no gradient.
    with tf.GradientTape() as tape:
        total = plugin.combine({"c": tf.constant(0.0), "r": tf.constant(0.3)},
                               {"c": tf.constant(False), "r": tf.constant(True)})
    assert tape.gradient(total, plugin.log_variances).numpy()[0] == 0.0
    assert float(total) == pytest.approx(0.5 * np.exp(-expected_s[1]) * 0.3 + expected_s[1] / 2)


# ------------------------------------------------------------------- DWA (Liu et al. 2019)

def test_dwa_weights_follow_its_formula_from_a_known_loss_history():
    plugin = make("dwa", tasks("a", "b", "c"), temperature=2.0)
    losses = {"a": 0.3, "b": 1.7, "c": 0.9}
    expected_sum = sum(losses.values())
    assert combine(plugin, losses) == pytest.approx(expected_sum)  # epoch 1: w = 1
    plugin.end_epoch(1, {"a": 1.0, "b": 2.0, "c": 4.0})
    assert combine(plugin, losses) == pytest.approx(expected_sum)  # epoch 2: w = 1
    plugin.end_epoch(2, {"a": 0.5, "b": 1.8, "c": 4.4})
    # By hand, eq. 7: r_k = L_k(t-1) / L_k(t-2); w = K softmax(r / T).
    r = np.array([0.5 / 1.0, 1.8 / 2.0, 4.4 / 4.0])
    w = 3 * np.exp(r / 2) / np.exp(r / 2).sum()
    value = np.array(list(losses.values()))
    assert combine(plugin, losses) == pytest.approx(float(w @ value), rel=1e-6)
    # Absent task drops out.
    absent = combine(plugin, {"a": 0.3, "b": 0.0, "c": 0.9}, {"a": True, "b": False, "c": True})
    assert absent == pytest.approx(w[0] * 0.3 + w[2] * 0.9, rel=1e-6)
    # A task without labels all epoch (NaN mean loss) keeps its last loss: ratio 1.
    plugin.end_epoch(3, {"a": 0.4, "b": math.nan, "c": 4.0})
    r = np.array([0.4 / 0.5, 1.0, 4.0 / 4.4])
    w = 3 * np.exp(r / 2) / np.exp(r / 2).sum()
    assert combine(plugin, losses) == pytest.approx(float(w @ value), rel=1e-6)
    assert int(plugin.epochs_seen.numpy()) == 3


def test_dwa_fixed_task_weights_multiply():
    plugin = make("dwa", tasks("a", "b"), weights={"a": 2.0, "b": 0.5})
    assert combine(plugin, {"a": 1.0, "b": 4.0}) == pytest.approx(2.0 + 2.0)


# ------------------------------------------------------------------- RLW (Lin et al. 2021)

def test_rlw_weights_are_a_softmax_of_standard_normal_draws():
    plugin = make("rlw", tasks("a", "b", "c"), seed=3)
    present = {n: tf.constant(True) for n in "abc"}

    @tf.function
    def draws(n):
        return tf.map_fn(lambda _: plugin.draw(present), tf.range(n), fn_output_signature=tf.float32)

    w = draws(tf.constant(4000)).numpy()
    assert int(plugin.step.numpy()) == 4000
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(w > 0)
    # By hand: log(w_a / w_b) = eps_a - eps_b ~ N(0, 2), and E[w_t] = 1/3 by symmetry.
    diff = np.log(w[:, 0] / w[:, 1])
    assert abs(diff.mean()) < 0.1 and abs(diff.var() - 2.0) < 0.2
    np.testing.assert_allclose(w.mean(axis=0), 1 / 3, atol=0.02)
    assert len({tuple(np.round(x, 6)) for x in w[:100]}) == 100  # a new draw every step


def test_rlw_combine_uses_this_steps_draw_and_drops_absent_tasks():
    plugin = make("rlw", tasks("a", "b", "c"))
    mask = {"a": True, "b": False, "c": True}
    plugin.step.assign(7)
    w = plugin.draw({k: tf.constant(v) for k, v in mask.items()}).numpy()
    assert w[1] == 0.0 and w[0] + w[2] == pytest.approx(1.0)
    plugin.step.assign(7)
    value = combine(plugin, {"a": 0.5, "b": 0.0, "c": 2.0}, mask)
    assert value == pytest.approx(w[0] * 0.5 + w[2] * 2.0, rel=1e-6)
