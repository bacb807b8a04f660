"""The MMoE paper's synthetic data: weight vectors with correlation p, labels that follow it."""

from __future__ import annotations

import numpy as np
import pytest
from mtkit_experts.mmoe_synthetic import (
    MMoESynthetic,
    MMoESyntheticParams,
    generate,
    sinusoid_parameters,
    task_weights,
    variance_parts,
)

from mtkit.errors import ConfigError


@pytest.mark.parametrize("p", [1.0, 0.9, 0.5, 0.0, -0.3])
def test_weight_vectors_have_the_requested_cosine_and_scale(p):
    w = task_weights(dim=12, correlation=p, scale=2.0, rng=np.random.default_rng(3))
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), 2.0, rtol=1e-9)
    np.testing.assert_allclose(w[0] @ w[1] / 4.0, p, atol=1e-9)


def test_label_correlation_falls_with_p_and_p1_gives_equal_tasks():
    corr = {}
    for p in (1.0, 0.9, 0.5, 0.0):
        _, y = generate(MMoESyntheticParams(rows=20000, correlation=p), seed=0)
        corr[p] = np.corrcoef(y[:, 0], y[:, 1])[0, 1]
    assert corr[1.0] > corr[0.9] > corr[0.5] > corr[0.0]
    assert corr[1.0] > 0.99 and abs(corr[0.0]) < 0.2
    _, y = generate(MMoESyntheticParams(rows=1000, correlation=1.0, noise=0.0), seed=1)
    np.testing.assert_allclose(y[:, 0], y[:, 1], atol=1e-9)


def test_same_seed_same_data_and_sine_shape_fixed_across_seeds():
    params = MMoESyntheticParams(rows=50, correlation=0.5, noise=0.0)
    x1, y1 = generate(params, seed=7)
    x2, y2 = generate(params, seed=7)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    x3, _ = generate(params, seed=8)
    assert not np.allclose(x1, x3)


def test_load_maps_y1_y2_to_the_two_tasks_in_order():
    from mtkit.plugin_types import TaskInfo

    tasks = [TaskInfo(name=n, head="regression", output_type="regression") for n in ("b", "a")]
    ds = MMoESynthetic(MMoESyntheticParams(rows=30, dim=4))
    splits = ds.load(tasks, seed=2)
    _, y = generate(ds.params, seed=2)
    np.testing.assert_array_equal(splits.train.labels["b"], y[:, 0])
    np.testing.assert_array_equal(splits.train.labels["a"], y[:, 1])
    assert splits.train.inputs["features"].shape == (30, 4)
    with pytest.raises(ConfigError, match="two scalar regression targets"):
        ds.load(tasks[:1], seed=0)


def test_integer_sine_shape_is_the_published_schedule():
    # Google Research's generator for this procedure: alphas = range(1, m + 1),
    # betas = [i ** 2 for i in range(m)] (it notes the paper gives no values)
    alpha, beta = sinusoid_parameters(MMoESyntheticParams(sinusoids=10, sinusoid_shape="integers"))
    np.testing.assert_array_equal(alpha, np.arange(1, 11))
    np.testing.assert_array_equal(beta, [i**2 for i in range(10)])


def test_the_earlier_normal_draw_stays_reachable():
    params = MMoESyntheticParams(rows=40, dim=5, sinusoid_shape="normal", shape_seed=0, noise=0.0)
    shape = np.random.default_rng(0)
    alpha, beta = shape.normal(size=10), shape.normal(size=10)  # what mtkit drew before
    x, y = generate(params, seed=4)
    w = task_weights(5, params.correlation, params.scale, np.random.default_rng(4))
    z = x.astype(float) @ w.T
    np.testing.assert_allclose(y, z + np.sin(z[..., None] * alpha + beta).sum(-1), atol=1e-5)
    assert variance_parts(params)["nonlinear_share"] < 0.1  # nearly linear


@pytest.mark.parametrize("shape", [{"sinusoid_shape": "integers"},
                                   {"sinusoid_shape": "normal", "shape_seed": 0},
                                   {"sinusoid_shape": "normal", "shape_seed": 5, "scale": 2.0},
                                   {"alphas": [0.5, 3.0], "betas": [1.0, -2.0], "sinusoids": 2}])
def test_variance_parts_match_a_least_squares_fit_on_generated_data(shape):
    params = MMoESyntheticParams(rows=200_000, dim=4, correlation=0.5, **shape)
    parts = variance_parts(params)
    x, y = generate(params, seed=0)
    design = np.column_stack([x, np.ones(len(x))]).astype(float)
    for k in range(2):  # both tasks: the same parts (|w1| = |w2| = c)
        coef, *_ = np.linalg.lstsq(design, y[:, k], rcond=None)
        residual = y[:, k] - design @ coef
        np.testing.assert_allclose(y[:, k].var(), parts["total"], rtol=0.03)
        np.testing.assert_allclose(residual.var(), parts["nonlinear"] + parts["noise"], rtol=0.03)
    assert parts["nonlinear_share"] == pytest.approx(parts["nonlinear"] / parts["total"])


def test_default_target_is_clearly_non_linear_with_slow_sines():
    params = MMoESyntheticParams(dim=100)
    assert variance_parts(params)["nonlinear_share"] > 0.5
    alpha, _ = sinusoid_parameters(params)
    assert np.abs(alpha).max() < 2  # sines a small network can follow (unlike alpha_i = 1..10)


@pytest.mark.parametrize("bad, message", [
    ({"alphas": [1.0] * 10}, "give both alphas and betas"),
    ({"alphas": [1.0], "betas": [1.0]}, "alphas has 1 values but sinusoids is 10"),
])
def test_explicit_sine_shape_is_checked(bad, message):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        MMoESyntheticParams(**bad)
