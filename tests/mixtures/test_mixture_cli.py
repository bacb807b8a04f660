"""A two-source mixture through the real CLI: trains (single device, `mirrored` on 2
logical CPUs, two `multi-worker` processes), scores each source, exports, predicts."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_cli
from tests.distributed.test_strategies import _wait_all, _workers

CONFIG = textwrap.dedent("""\
    data:
      sources:
        full: {dataset: synthetic, rows: 300, features: 6, tasks: [cls, reg]}
        only_bin: {dataset: synthetic, rows: 500, features: 6, tasks: [bin]}
      sampling: {mode: temperature, temperature: 2.0, per: batch, steps_per_epoch: 12}
    trunk: {type: mlp, units: [16]}
    tasks:
      cls: {head: classification, classes: 3}
      reg: {head: regression}
      bin: {head: binary}
    weighting: pcgrad
    train: {epochs: 2, batch_size: 32, learning_rate: 0.01, seed: 3}
    """)


def _train_losses(run: Path) -> np.ndarray:
    hist = json.loads((run / "history.json").read_text())["epochs"]
    return np.array([[h["train"][t]["loss"] for t in ("cls", "reg", "bin")] for h in hist])


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("mix") / "mix.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture(scope="module")
def single(config, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("single") / "run"
    proc = run_cli("train", str(config), "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    return out


def test_scores_each_source_on_its_own_split(single):
    metrics = json.loads((single / "metrics.json").read_text())
    src = metrics["sources"]
    assert set(src) == {"full", "only_bin"}
    assert set(src["full"]["tasks"]) == {"cls", "reg"} and set(src["only_bin"]["tasks"]) == {"bin"}
    assert src["full"]["rows"] == 30 and src["only_bin"]["rows"] == 50  # 10% test each
    # the joined test split scores every task on the rows that label it
    assert metrics["tasks"]["bin"]["labelled"] == src["only_bin"]["tasks"]["bin"]["labelled"]
    hist = json.loads((single / "history.json").read_text())["epochs"]
    assert len(hist) == 2 and all(h["steps"] == 12 for h in hist)
    assert set(hist[-1]["val_sources"]) == {"full", "only_bin"}
    info = json.loads((single / "run.json").read_text())["dataset"]
    assert info["sources"]["only_bin"] == {"dataset": "synthetic", "tasks": ["bin"],
                                           "sizes": {"train": 405, "val": 45, "test": 50}}
    p = info["sampling"]["probabilities"]  # temperature 2: sqrt of the train sizes
    assert abs(p["full"] / p["only_bin"] - (243 / 405) ** 0.5) < 1e-9


def test_exports_and_predicts(single, tmp_path):
    proc = run_cli("export", str(single))
    assert proc.returncode == 0, proc.stderr
    run_json = json.loads((single / "run.json").read_text())
    name = next(iter(run_json["inputs"]))
    np.savez(tmp_path / "x.npz", **{name: np.zeros((2, 6), np.float32)})
    proc = run_cli("predict", str(single / "model.onnx"), str(tmp_path / "x.npz"))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(rows) == 2 and {"cls", "reg", "bin"} <= set(rows[0])
    proc = run_cli("evaluate", str(single), "--json")  # ONNX vs TF, joined and per source
    assert proc.returncode == 0, proc.stderr + proc.stdout
    metrics = json.loads(proc.stdout)["metrics"]
    per_source = {r["task"] for r in metrics if "/" in r["task"]}
    assert {"full/cls", "full/reg", "only_bin/bin"} <= per_source
    assert all(r["tensorflow"] is not None and abs(r["delta"]) < 1e-4 for r in metrics
               if r["task"] == "only_bin/bin")


def test_mirrored_matches_single_device(config, single, tmp_path):
    out = tmp_path / "mirrored"
    proc = run_cli("train", str(config), "--out", str(out), "-q", "--strategy", "mirrored",
                   env={"MTKIT_LOGICAL_CPUS": "2"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "run.json").read_text())["distribution"]["replicas"] == 2
    np.testing.assert_allclose(_train_losses(out), _train_losses(single), rtol=1e-4)


def test_two_workers_match_single_device(config, single, tmp_path):
    out = tmp_path / "mw"
    for rc, log in _wait_all(_workers(config, out)):
        assert rc == 0, log
    assert json.loads((out / "run.json").read_text())["distribution"]["workers"] == 2
    np.testing.assert_allclose(_train_losses(out), _train_losses(single), rtol=1e-4)


def test_resume_repeats_the_schedule(config, single, tmp_path):
    """The schedule is a function of (seed, epoch): one epoch, then --resume, follows the
    uninterrupted run."""
    out = tmp_path / "resumed"
    proc = run_cli("train", str(config), "--out", str(out), "-q", "--set", "train.epochs=1")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("train", str(config), "--out", str(out), "-q", "--resume")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_allclose(_train_losses(out), _train_losses(single), rtol=1e-5)
