"""`mtkit evaluate`: onnxruntime metrics on the test split equal TensorFlow's (metrics.json)."""

from __future__ import annotations

import json
import shutil

from tests.conftest import run_cli


def test_evaluate_matches_tensorflow_metrics(trained_run, exported_model, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    shutil.copy(exported_model, run / "model.onnx")
    proc = run_cli("evaluate", str(run), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    tf = json.loads((run / "metrics.json").read_text())
    assert report["split"] == tf["split"] == "test"
    compared = {(r["task"], r["metric"]): r for r in report["metrics"]}
    for task, row in tf["tasks"].items():
        for metric, value in row.items():
            if metric in ("labelled", "loss"):
                continue
            r = compared[(task, metric)]
            assert r["tensorflow"] == value
            assert abs(r["onnx"] - value) <= 1e-4, (task, metric, r)


def test_evaluate_an_onnx_file_on_another_split_with_explicit_config(trained_run, exported_model):
    proc = run_cli("evaluate", str(exported_model), "--split", "val",
                   "--config", str(trained_run / "config.yaml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "validation split" in proc.stdout
    assert "segment" in proc.stdout and "accuracy" in proc.stdout
