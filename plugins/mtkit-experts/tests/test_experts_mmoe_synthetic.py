"""The MMoE paper's synthetic data: weight vectors with correlation p, labels that follow it."""

from __future__ import annotations

import numpy as np
import pytest
from mtkit_experts.mmoe_synthetic import MMoESynthetic, MMoESyntheticParams, generate, task_weights

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
