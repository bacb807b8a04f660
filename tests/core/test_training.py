"""Short real training runs: every built-in trunk × head type learns; run directory;
resume; determinism; the CLI stays TensorFlow-free where it should."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import mtkit
from mtkit import rundir

HEADS = {
    "cls": {"head": "classification", "classes": 3},
    "bin": {"head": "binary"},
    "multi": {"head": "multilabel", "classes": 2},
    "reg": {"head": "regression"},
}


def _image_npz(path, n=240, seed=0):
    """Tiny images whose labels depend on where the bright blob is (learnable by a conv)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.1, size=(n, 8, 8, 1)).astype(np.float32)
    r, c = rng.integers(0, 8, n), rng.integers(0, 8, n)
    x[np.arange(n), r, c, 0] += 3.0
    labels = {
        "cls": (r // 3).astype(np.int64),
        "bin": (c >= 4).astype(np.float64),
        "multi": np.stack([r >= 4, c < 4], 1).astype(np.float64),
        "reg": (r + c) / 7.0,
    }
    labels["reg"][::3] = np.nan  # partly labelled task
    np.savez(path, image=x, **labels)
    return path


def _config(trunk: dict, data: dict, epochs: int = 4) -> dict:
    return {"data": data, "trunk": trunk, "tasks": HEADS,
            "train": {"epochs": epochs, "batch_size": 32, "learning_rate": 0.01, "seed": 1,
                      "test_fraction": 0.2, "validation_fraction": 0.2}}


@pytest.mark.parametrize("trunk", ["mlp", "conv"])
def test_each_trunk_and_head_type_lowers_its_loss(trunk, tmp_path):
    if trunk == "mlp":
        cfg = _config({"type": "mlp", "units": [32]},
                      {"dataset": "synthetic", "rows": 600, "features": 8, "missing": {"reg": 0.5}})
    else:
        cfg = _config({"type": "conv", "filters": [8, 16], "dense": [16]},
                      {"dataset": "npz", "path": str(_image_npz(tmp_path / "img.npz"))})
    result = mtkit.train(cfg, out=tmp_path / "run", quiet=True)
    first, last = result.history[0]["train"], result.history[-1]["train"]
    for task in HEADS:
        assert last[task]["loss"] < 0.9 * first[task]["loss"], (task, first[task], last[task])
        assert np.isfinite(result.metrics["tasks"][task]["loss"])
    # files of the run directory
    for name in (rundir.CONFIG, rundir.MODEL, rundir.HISTORY, rundir.METRICS, rundir.CURVES,
                 rundir.INFO):
        assert (tmp_path / "run" / name).is_file(), name
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.endswith(".tmp")]
    hist = json.loads((tmp_path / "run" / rundir.HISTORY).read_text())["epochs"]
    assert len(hist) == 4 and set(hist[0]["val"]) == set(HEADS)
    assert (tmp_path / "run" / rundir.CURVES).read_bytes()[:4] == b"\x89PNG"


def test_partly_labelled_task_counts_only_its_labelled_rows(tmp_path):
    cfg = _config({"type": "mlp", "units": [8]},
                  {"dataset": "synthetic", "rows": 500, "missing": {"reg": 0.7}}, epochs=1)
    result = mtkit.train(cfg, out=tmp_path / "run", quiet=True)
    test = result.metrics["tasks"]
    assert test["cls"]["labelled"] == 100  # 20% of 500
    assert 10 < test["reg"]["labelled"] < 50  # about 30% of 100


def test_same_seed_same_history_and_resume_continues(tmp_path):
    cfg = _config({"type": "mlp", "units": [16]}, {"dataset": "synthetic", "rows": 300},
                  epochs=3)
    a = mtkit.train(cfg, out=tmp_path / "a", quiet=True)
    b = mtkit.train(cfg, out=tmp_path / "b", quiet=True)
    la = [h["train"]["cls"]["loss"] for h in a.history]
    assert la == [h["train"]["cls"]["loss"] for h in b.history]
    # an interrupted run: 2 epochs, then resumed to 3, ends where the straight run ends
    short = dict(cfg, train=dict(cfg["train"], epochs=2))
    mtkit.train(short, out=tmp_path / "c", quiet=True)
    c = mtkit.train(None, out=tmp_path / "c", resume=True, overrides=["train.epochs=3"],
                    quiet=True)
    assert len(c.history) == 3
    np.testing.assert_allclose([h["train"]["cls"]["loss"] for h in c.history], la, rtol=1e-4)


def test_early_stopping_stops_and_reports(tmp_path):
    cfg = _config({"type": "mlp", "units": [8]}, {"dataset": "synthetic", "rows": 300},
                  epochs=30)
    cfg["train"]["early_stopping"] = {"patience": 1, "min_delta": 10.0}
    result = mtkit.train(cfg, out=tmp_path / "run", quiet=True)
    assert result.metrics["stopped_early"] and len(result.history) == 2


def test_help_and_plugins_do_not_import_tensorflow():
    code = ("import sys; from typer.testing import CliRunner; from mtkit.cli import app; "
            "r = CliRunner().invoke(app, ['plugins', '--json']); assert r.exit_code == 0; "
            "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_non_finite_loss_stops_with_task_and_step(tmp_path):
    from tests.conftest import assert_clean_error, run_cli

    x = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    np.savez(tmp_path / "d.npz", x=x, ok=np.zeros(64), huge=np.full(64, 1e30))
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data: {dataset: npz, path: %s}\ntrunk: {type: mlp, units: [4]}\n"
                   "tasks: {ok: {head: regression}, huge: {head: regression}}\n"
                   "train: {epochs: 2, batch_size: 16}\n" % (tmp_path / "d.npz"))
    proc = run_cli("train", str(cfg), "--out", str(tmp_path / "run"), "-q")
    assert_clean_error(proc, "the loss of task 'huge' became inf at epoch 1, step 1",
                       "learning rate")
    assert not (tmp_path / "run" / "model.keras").exists()
