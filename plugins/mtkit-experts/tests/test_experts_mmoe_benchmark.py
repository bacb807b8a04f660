"""benchmarks/mmoe_synthetic.py trains many runs side by side with its own einsum layers:
they must be the plugin trunks' models, and its data the dataset's."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from mtkit_experts.mmoe_synthetic import MMoESyntheticParams, generate, sinusoid_parameters, task_weights

from mtkit.tf_import import import_tensorflow

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def bench():
    import_tensorflow()
    path = ROOT / "benchmarks" / "mmoe_synthetic.py"
    spec = importlib.util.spec_from_file_location("mmoe_synthetic_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("model", ["shared_bottom", "omoe", "mmoe"])
def test_vectorised_run_equals_the_mtkit_built_model(bench, model):
    """Copy the weights of the model mtkit builds from the plugin trunk into run 1 of 3 of
    the benchmark's stacked weights: run 1's outputs equal the Keras model's."""
    import keras

    from mtkit.api import plan as make_plan
    from mtkit.assembly import build_model
    from mtkit.dataprep import prepare

    dim = 12
    plan = make_plan(bench.mtkit_config(model, {"rows": 60, "dim": dim}))
    _, specs = prepare(plan)
    keras.utils.set_random_seed(3)
    built = build_model(plan, specs).model
    for layer in built.layers:  # non-zero biases, so a dropped bias would show
        if layer.weights:
            rng = np.random.default_rng(1)
            layer.set_weights([w + rng.normal(0, 0.1, w.shape) for w in layer.get_weights()])
    one = bench.params_from_keras(model, built)
    others = bench.init_params(model, 3, np.random.default_rng(0), dim=dim)
    assert {k: v.shape[1:] for k, v in one.items()} == {k: v.shape[1:] for k, v in others.items()}
    stacked = {k: np.concatenate([others[k][:1], one[k], others[k][2:]]) for k in one}
    x = np.random.default_rng(2).normal(size=(3, 9, dim)).astype("float32")
    got = np.asarray(bench.forward(model, stacked, x))             # (runs, batch, tasks)
    want = built({"features": x[1]})
    for k, task in enumerate(bench.TASKS):
        np.testing.assert_allclose(got[1, :, k], np.asarray(want[task])[:, 0], rtol=1e-5, atol=1e-5)
    assert np.abs(got[0] - got[1]).max() > 1e-3  # the other runs are other models
    assert sum(int(np.prod(v.shape[1:])) for v in one.values()) == built.count_params()


def test_paper_sizes_and_parameter_counts(bench):
    """§5.1: 8 experts of 16 units and towers of 8 (13,056 expert + tower weights), a
    113-unit shared bottom; biases and gates come on top."""
    counts = {m: sum(int(np.prod(v.shape[1:]))
                     for v in bench.init_params(m, 1, np.random.default_rng(0)).values())
              for m in bench.MODELS}
    assert 100 * 16 * 8 + 16 * 8 * 2 == 13056 and round(13056 / (100 + 8 * 2)) == bench.BOTTOM_UNITS
    assert counts["shared_bottom"] == 100 * 113 + 113 + 2 * (113 * 8 + 8 + 8 + 1)
    assert counts["mmoe"] - counts["omoe"] == 100 * 8 + 8  # one more gate
    assert abs(counts["mmoe"] - counts["shared_bottom"]) / counts["shared_bottom"] < 0.15


def test_training_stream_labels_follow_the_dataset_formula(bench):
    import tensorflow as tf

    params = MMoESyntheticParams(rows=30, dim=7, correlation=0.9, noise=0.0)
    x, y = generate(params, seed=5)
    w = task_weights(7, 0.9, 1.0, np.random.default_rng(5))  # what make_data uses for the stream
    alpha, beta = sinusoid_parameters(params)
    got = bench.stream_labels(tf.constant(x[None]), tf.constant(w[None], tf.float32),
                              tf.constant(alpha, tf.float32), tf.constant(beta, tf.float32))
    np.testing.assert_allclose(np.asarray(got)[0], y, rtol=1e-4, atol=1e-4)


def test_quick_run_writes_distributions_and_a_figure(bench, tmp_path):
    report = bench.main(["--quick", "--out", str(tmp_path), "--correlations", "1.0", "0.5",
                         "--learning-rates", "0.001", "0.01"])
    saved = json.loads((tmp_path / "mmoe_synthetic.json").read_text())
    assert (tmp_path / "mmoe_synthetic.png").stat().st_size > 10_000
    assert saved["summary"] == json.loads(json.dumps(report["summary"]))
    for model in bench.MODELS:
        for p in ("1.0", "0.5"):
            row = saved["summary"][model][p]
            assert row["learning_rate"] in (1e-3, 1e-2)
            assert len(row["runs"]) == 3 and row["median"] <= row["p90"] <= row["max"]
            assert 0.0 <= row["bad_share"] <= 1.0
            lrs = saved["learning_rate_search"][model][p]
            best = min((float(k) for k in lrs), key=lambda k: lrs[f"{k:g}"]["val_mean"])
            assert row["learning_rate"] == best
    assert 0.5 < saved["target_variance"]["nonlinear_share"] < 1
    assert "sinusoids" in saved["assumptions"] and saved["load"]["cpus"]
