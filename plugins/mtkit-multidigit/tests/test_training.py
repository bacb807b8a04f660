"""Real training on the multidigit demo config: augmentation, learning, metrics, the demo script."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from mtkit_multidigit.multidigit import Multidigit, MultidigitParams
from multidigit_helpers import ROOT

CONFIG = ROOT / "configs" / "multidigit.yaml"
# The demo config, shrunk to learn in seconds: fewer numbers, one conv per block, no dropout,
# and epochs instead of the demo's time budget (so a busy machine trains the same steps).
SMALL = ["data.train_size=4000", "data.val_size=200", "data.test_size=600", "train.checkpoint=false",
         "train.time_budget=null", "train.schedule=null",
         "train.batch_size=32", "train.learning_rate=0.002", "trunk.convs_per_block=1",
         "trunk.dropout=0", "trunk.dense_dropout=0", "trunk.dense=[128]"]


def test_augment_is_seeded_and_moves_the_digits():
    import tensorflow as tf

    ds = Multidigit(MultidigitParams(shift=2.0, scale=0.1, noise=0.05))
    x = np.zeros((4, 12, 44), np.float32)
    x[:, 4:8, 20:24] = 1.0
    seed = tf.constant([5, 6], tf.int64)
    a = ds.augment({"image": tf.constant(x)}, seed)["image"].numpy()
    b = ds.augment({"image": tf.constant(x)}, seed)["image"].numpy()
    c = ds.augment({"image": tf.constant(x)}, tf.constant([5, 7], tf.int64))["image"].numpy()
    assert a.shape == x.shape
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.allclose(a, x, atol=0.2)  # content moved / noised
    centres = [np.average(np.nonzero(a[i] > 0.5)[1]) for i in range(4)]
    assert np.ptp(centres) > 0.2  # each example shifted by its own amount
    plain = Multidigit(MultidigitParams())
    assert plain.augment({"image": tf.constant(x)}, seed)["image"] is not None


def test_a_short_run_clearly_learns_and_reports_sequence_metrics(tmp_path):
    import mtkit

    result = mtkit.train(CONFIG, out=tmp_path / "run", overrides=[*SMALL, "train.epochs=5"],
                         quiet=True)
    saved = json.loads((result.run_dir / "metrics.json").read_text())
    seq = saved["dataset"]
    # Chance is ~0.4% for whole numbers and 10% per digit; a short run must be far above.
    assert seq["sequence_accuracy"] > 0.25, seq
    assert seq["per_digit_accuracy"] > 0.6, seq
    assert seq["length_accuracy"] > 0.95, seq
    assert set(saved["tasks"]) == {"length", "digit1", "digit2", "digit3", "digit4", "digit5"}
    # digit5 is labelled only on the 5-digit numbers (about a fifth): masked, not a blank class.
    assert 0.1 * 600 < saved["tasks"]["digit5"]["labelled"] < 0.3 * 600
    info = json.loads((result.run_dir / "run.json").read_text())
    spec = info["dataset"]["decode"]
    assert spec["type"] == "digit_sequence"
    # The demo's Keras fallback reads the same numbers the sequence metric scores.
    from mtkit_multidigit.demo_run import keras_numbers, true_numbers

    from mtkit.api import plan
    from mtkit.dataprep import prepare

    splits, _ = prepare(plan(CONFIG, [*SMALL, "train.epochs=5"]))
    read = [number for number, _ in keras_numbers(result.model, spec, splits.test.inputs)]
    truth = true_numbers(spec, splits.test.labels)
    assert np.mean([a == b for a, b in zip(read, truth, strict=True)]) == seq["sequence_accuracy"]


def test_demo_script_trains_exports_and_reads_numbers(tmp_path):
    sets = ["train.epochs=1", "data.train_size=600", "data.val_size=100", "data.test_size=100",
            "trunk.convs_per_block=1", "trunk.dense=[64]"]
    proc = subprocess.run(
        [sys.executable, "-m", "mtkit_multidigit.demo_run", "--out", str(tmp_path / "demo"), "--show", "3",
         "--quiet", *[a for s in sets for a in ("--set", s)]],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "[1/3]" in out and "[3/3]" in out and "Traceback" not in out
    assert out.count("truth ") == 3
    assert (tmp_path / "demo" / "metrics.json").is_file()
    import importlib.util

    if importlib.util.find_spec("mtkit.export") is not None:
        assert (tmp_path / "demo" / "model.onnx").is_file()
        assert "read correctly by onnxruntime" in out
    else:
        assert "read correctly by keras" in out
