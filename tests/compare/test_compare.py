"""``mtkit compare`` / ``mtkit report``: Δm against a hand computation, diagnostics against
an independent computation, resuming an interrupted comparison, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

import mtkit
from mtkit import rundir
from mtkit.comparison.report import delta_m
from tests.conftest import assert_clean_error, run_cli

CONFIG = {"data": {"dataset": "synthetic", "rows": 200, "features": 5},
          "trunk": {"type": "mlp", "units": [8]},
          "tasks": {"a": {"head": "classification", "classes": 3},
                    "b": {"head": "regression"}},
          "train": {"epochs": 1, "batch_size": 50, "seed": 0}}


def test_delta_m_matches_a_hand_computation():
    # accuracy 0.80 → 0.84 is +5 %; MAE 2.0 → 2.5 (lower is better) is −25 %: mean −10 %
    got = delta_m({"acc": 0.84, "mae": 2.5}, {"acc": 0.80, "mae": 2.0}, {"acc": 1, "mae": -1})
    assert got == pytest.approx(((0.84 - 0.80) / 0.80 - (2.5 - 2.0) / 2.0) / 2 * 100)
    assert got == pytest.approx(-10.0)


def test_compare_end_to_end_and_resume(tmp_path):
    out = tmp_path / "cmp"
    result = mtkit.compare(CONFIG, ["sum", "uncertainty"], [0, 1], out)
    rep = json.loads((out / "compare.json").read_text())
    assert rep == json.loads(json.dumps(result.report))
    assert (out / "compare.md").is_file() and (out / "compare.png").stat().st_size > 1000
    names = [r["variant"] for r in rep["variants"]]
    assert names == ["single-a", "single-b", "mtl-sum", "mtl-uncertainty"]
    assert rep["directions"] == {"a": 1, "b": -1}
    # Δm of each multitask run is recomputed here from the run directories' metrics.json
    for r in rep["variants"][2:]:
        for seed in ("0", "1"):
            m = json.loads((out / "runs" / f"{r['variant']}-seed{seed}" / rundir.METRICS)
                           .read_text())["tasks"]
            single = {t: json.loads((out / "runs" / f"single-{t}-seed{seed}" / rundir.METRICS)
                                    .read_text())["tasks"][t] for t in ("a", "b")}
            want = 100 * np.mean([(m["a"]["accuracy"] - single["a"]["accuracy"])
                                  / single["a"]["accuracy"],
                                  -(m["b"]["mae"] - single["b"]["mae"]) / single["b"]["mae"]])
            assert r["delta_m"]["seeds"][seed] == pytest.approx(want)
    # a baseline trains its task alone: the other head's weight is 0 (sum weighting)
    base = yaml.safe_load((out / "configs" / "single-a-seed0.yaml").read_text())
    assert base["tasks"]["b"]["weight"] == 0.0 and base["weighting"] == "sum"
    # interrupted: one run lost its final metrics (killed after its last epoch); the rest
    # is kept untouched and that run is continued
    kept = out / "runs" / "mtl-sum-seed0" / rundir.MODEL
    stamp = kept.stat().st_mtime_ns
    (out / "runs" / "single-b-seed1" / rundir.METRICS).unlink()
    mtkit.compare(CONFIG, ["sum", "uncertainty"], [0, 1], out)
    assert kept.stat().st_mtime_ns == stamp
    assert (out / "runs" / "single-b-seed1" / rundir.METRICS).is_file()


def test_diagnostics_match_an_independent_computation(tmp_path):
    import tensorflow as tf

    cfg = {**CONFIG, "train": {**CONFIG["train"], "epochs": 2, "diagnostics_rows": 64}}
    result = mtkit.train(cfg, out=tmp_path / "run", quiet=True)
    diag = result.history[-1]["diagnostics"]
    # recompute: the same 64 rows, the final model (= the weights after the last epoch)
    from mtkit.data import sample
    from mtkit.dataprep import prepare
    from mtkit.training.epoch_data import model_view

    plan = mtkit.plan(cfg)
    splits, specs = prepare(plan)
    train_rows = model_view(plan, sample(splits.train, 2048, 0), specs)
    rows = sample(train_rows, 64, 17)
    model = result.model
    trunk = model.get_layer("trunk")
    x = {k: tf.constant(v) for k, v in rows.inputs.items()}
    grads = {}
    for task, loss_fn in (("a", tf.keras.losses.sparse_categorical_crossentropy),
                          ("b", lambda y, p: tf.square(y - p[:, 0]))):
        y = rows.labels[task]
        keep = np.isfinite(y) if task == "b" else y >= 0
        with tf.GradientTape() as tape:
            pred = model(x, training=False)[task]
            loss = tf.reduce_mean(tf.boolean_mask(loss_fn(tf.constant(y, tf.float32), pred), keep))
        grads[task] = np.concatenate([np.asarray(g).ravel()
                                      for g in tape.gradient(loss, trunk.trainable_variables)])
    for task in ("a", "b"):
        assert diag["grad_norm"][task] == pytest.approx(np.linalg.norm(grads[task]), rel=1e-4)
    cos = grads["a"] @ grads["b"] / (np.linalg.norm(grads["a"]) * np.linalg.norm(grads["b"]))
    assert diag["cosine"]["a|b"] == pytest.approx(cos, rel=1e-4, abs=1e-6)
    assert diag["task_weight"] == {"a": pytest.approx(1.0), "b": pytest.approx(1.0)}  # sum
    proc = run_cli("report", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "run" / "diagnostics.png").stat().st_size > 1000


@pytest.mark.parametrize("edit,args,needles", [
    (lambda c: c["tasks"].pop("b"), ["--weightings", "sum"], ["needs at least two tasks"]),
    (lambda c: None, ["--weightings", "sum,pcgrd"], ["pcgrd", "pcgrad"]),
    (lambda c: None, ["--seeds", "0,x"], ["--seeds", "integers"]),
])
def test_bad_compare_input_is_a_clean_error(tmp_path, edit, args, needles):
    cfg = json.loads(json.dumps(CONFIG))
    edit(cfg)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = run_cli("compare", str(path), "--out", str(tmp_path / "cmp"), *args)
    assert_clean_error(proc, *needles)
    assert not (tmp_path / "cmp" / "runs").exists()
