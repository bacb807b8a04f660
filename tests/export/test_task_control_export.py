"""Runs that use per-task control (issue 23) export and predict as any other, all through
the real CLI: a frozen-trunk run with BatchNorm and class weights, then a run warm-started
from it with one more task and its own learning rates. Each passes the ONNX parity check,
and `mtkit predict` gives TensorFlow's predictions within the parity tolerance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

from tests.conftest import run_cli

TOL = 1e-5  # the default fp32 parity rtol = atol of `mtkit export`

TASKS = {"a": {"head": "classification", "classes": 3, "class_weight": "balanced"},
         "b": {"head": "binary", "class_weight": [1.0, 2.0]},
         "c": {"head": "regression"}}


def _config(tasks: dict, trunk: dict) -> dict:
    return {"data": {"dataset": "synthetic", "rows": 200, "features": 6, "missing": {"c": 0.3}},
            "trunk": {"type": "mlp", "units": [8], "batch_norm": True, **trunk},
            "tasks": tasks,
            "train": {"epochs": 1, "batch_size": 32, "seed": 5, "learning_rate": 0.01}}


def _train(tmp_path: Path, name: str, cfg: dict, *extra: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run = tmp_path / name
    proc = run_cli("train", str(path), "--out", str(run), "-q", *extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return run


def _export_and_predict(run: Path, x: np.ndarray) -> None:
    from mtkit.export.source import load_keras

    proc = run_cli("export", str(run), "--onnx")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((run / "model.report.json").read_text())
    assert report["passed"] is True and all(r["ok"] for r in report["parity"]["tasks"])
    np.savez(run.parent / f"{run.name}-x.npz", features=x)
    preds = run.parent / f"{run.name}-preds.jsonl"
    proc = run_cli("predict", str(run / "model.onnx"), str(run.parent / f"{run.name}-x.npz"),
                   "--out", str(preds))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [json.loads(line) for line in preds.read_text().splitlines()]
    tf_out = {k: np.asarray(v)
              for k, v in load_keras(run / "model.keras")({"features": x}).items()}
    info = json.loads((run / "run.json").read_text())
    assert len(rows) == len(x) and set(rows[0]) - {"source"} == set(info["tasks"]) == set(tf_out)
    for i, row in enumerate(rows):
        for task in tf_out:
            pred = row[task]
            out, head = tf_out[task][i], info["tasks"][task]["head"]
            if head == "classification":
                assert pred["class"] == int(np.argmax(out))
                np.testing.assert_allclose(pred["probability"], out.max(), rtol=TOL, atol=TOL)
            elif head == "binary":
                np.testing.assert_allclose(pred["probability"], out[0], rtol=TOL, atol=TOL)
            else:
                np.testing.assert_allclose(pred["value"], out[0], rtol=TOL, atol=TOL)


def test_frozen_and_warm_started_runs_export_and_predict_like_tensorflow(tmp_path):
    x = np.random.default_rng(7).normal(size=(24, 6)).astype(np.float32)
    frozen = _train(tmp_path, "frozen", _config(TASKS, {"trainable": False}))
    _export_and_predict(frozen, x)
    four = {**TASKS, "d": {"head": "binary", "learning_rate": 0.03}}
    warm = _train(tmp_path, "warm", _config(four, {"learning_rate": 0.003}),
                  "--init-from", str(frozen))
    report = json.loads((warm / "init_from.json").read_text())
    assert report["new"] and all(k.startswith("d") for k in report["new"])
    assert not report["skipped"]
    _export_and_predict(warm, x)
