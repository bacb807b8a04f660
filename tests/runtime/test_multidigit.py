"""End to end with the multi-digit plugin: a tiny conv run exported with its dataset-level
``digit_sequence`` decoder, then read from PNG files by `mtkit predict` (no TensorFlow)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mtkit
from tests.conftest import run_cli

pytest.importorskip("mtkit_multidigit")

CONFIG = {
    "data": {"dataset": "multidigit", "train_size": 96, "val_size": 16, "test_size": 24,
             "min_digits": 1, "max_digits": 2},
    "trunk": {"type": "conv", "filters": [4], "dense": [16]},
    "tasks": {"length": {"head": "classification", "classes": 4},
              "digit1": {"head": "classification", "classes": 10},
              "digit2": {"head": "classification", "classes": 10}},
    "train": {"epochs": 1, "batch_size": 32, "steps_per_epoch": 2, "checkpoint": False},
}


@pytest.fixture(scope="module")
def digit_run(tmp_path_factory):
    from mtkit.export import export_run

    run = tmp_path_factory.mktemp("digits") / "run"
    mtkit.train(CONFIG, out=run, quiet=True)
    export_run(run)
    return run


def test_sequence_decoder_travels_in_the_model_and_reads_pngs(digit_run, tmp_path):
    from PIL import Image

    from mtkit.api import plan
    from mtkit.dataprep import prepare
    from mtkit.runtime import Predictor

    p = Predictor(digit_run / "model.onnx")
    assert p.meta.decode == {"type": "digit_sequence", "name": "sequence",
                             "decoder": "mtkit_multidigit.decode:decode_digit_sequence",
                             "length": "length",
                             "digits": ["digit1", "digit2"], "overflow_class": 3}
    splits, _ = prepare(plan(digit_run / "config.yaml"))
    images = np.round(splits.test.inputs["image"][:5] * 255).astype(np.uint8)
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i, img in enumerate(images):
        Image.fromarray(img).save(folder / f"{i}.png")
    proc = run_cli("predict", str(digit_run / "model.onnx"), str(folder))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    expected = p.predict(images.astype(np.float32) * (1 / 255))  # as the loader scales
    assert [r["source"] for r in rows] == [str(folder / f"{i}.png") for i in range(5)]
    for row, exp in zip(rows, expected, strict=True):
        n = row["length"]["class"]
        digits = "".join(str(row[f"digit{k}"]["class"]) for k in range(1, min(n, 2) + 1))
        assert row["sequence"]["number"] == digits + ("+" if n == 3 else "")
        assert row["sequence"]["number"] == exp["sequence"]["number"]


def test_evaluate_reports_dataset_metrics_equal_to_tensorflow(digit_run):
    proc = run_cli("evaluate", str(digit_run), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {(r["task"], r["metric"]): r for r in json.loads(proc.stdout)["metrics"]}
    seq = rows[("(dataset)", "sequence_accuracy")]
    assert seq["tensorflow"] is not None and abs(seq["onnx"] - seq["tensorflow"]) <= 1e-4
