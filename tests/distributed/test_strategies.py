"""Distributed training on this machine: `mirrored` on 2 logical CPU devices and
`multi-worker` with two real `mtkit train` processes on loopback ports. Each must follow
the single-device loss trajectory (same seed and data), with a gradient-balancing method
and a task that is labelled on only 20% of rows."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import MTKIT, assert_clean_error, run_cli

# Train losses: the reduction order differs across replicas (measured differences ~1e-6).
# Validation losses go through batch-norm moving statistics, which synchronized batch norm
# computes from global moments (E[x^2] - E[x]^2) rather than directly (measured ~2.5e-4).
RTOL_TRAIN, RTOL_VAL = 1e-4, 2e-3

CONFIG = textwrap.dedent("""\
    data: {dataset: synthetic, rows: 640, features: 8, missing: {reg: 0.8}}
    trunk: {type: mlp, units: [16], batch_norm: true}
    tasks:
      cls: {head: classification, classes: 3}
      reg: {head: regression}
    weighting: pcgrad
    train: {epochs: 3, batch_size: 32, learning_rate: 0.01, seed: 3, test_fraction: 0.0,
            validation_fraction: 0.25}
    """)


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "dist.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture(scope="module")
def single(config, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("single") / "run"
    proc = run_cli("train", str(config), "--out", str(out), "-q", "--strategy", "none")
    assert proc.returncode == 0, proc.stderr
    return out


def _assert_same_trajectory(run: Path, reference: Path) -> None:
    def losses(r: Path) -> tuple[np.ndarray, np.ndarray]:
        hist = json.loads((r / "history.json").read_text())["epochs"]
        return (np.array([[h["train"][t]["loss"] for t in ("cls", "reg")] for h in hist]),
                np.array([h["val_loss"] for h in hist]))

    (train, val), (train_ref, val_ref) = losses(run), losses(reference)
    assert len(train) == len(train_ref) == 3
    np.testing.assert_allclose(train, train_ref, rtol=RTOL_TRAIN)
    np.testing.assert_allclose(val, val_ref, rtol=RTOL_VAL)


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _workers(config: Path, out: Path, *extra: str) -> list[subprocess.Popen]:
    """Two real `mtkit train` worker processes; their temp folders go under out/../tmp."""
    ports = _free_ports(2)
    tmp = out.parent / "tmp"
    tmp.mkdir(exist_ok=True)
    procs = []
    for i in range(2):
        tf_config = {"cluster": {"worker": [f"localhost:{p}" for p in ports]},
                     "task": {"type": "worker", "index": i}}
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config), "TMPDIR": str(tmp)}
        procs.append(subprocess.Popen(
            [*MTKIT, "train", str(config), "--out", str(out), "-q", "--strategy",
             "multi-worker", *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
    return procs


def _wait_all(procs: list[subprocess.Popen], timeout: float = 240) -> list[tuple[int, str]]:
    results = []
    for p in procs:
        out, err = p.communicate(timeout=timeout)
        results.append((p.returncode, out + err))
    return results


def test_mirrored_on_two_logical_cpus_matches_single_device(config, single, tmp_path):
    out = tmp_path / "mirrored"
    proc = run_cli("train", str(config), "--out", str(out), "-q", "--strategy", "mirrored",
                   env={"MTKIT_LOGICAL_CPUS": "2"})
    assert proc.returncode == 0, proc.stderr
    info = json.loads((out / "run.json").read_text())["distribution"]
    assert info["replicas"] == 2 and info["strategy"] == "MirroredStrategy"
    _assert_same_trajectory(out, single)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in single.iterdir())


def test_two_worker_processes_match_single_device_and_resume(config, single, tmp_path):
    out = tmp_path / "mw"
    for rc, log in _wait_all(_workers(config, out, "--set", "train.epochs=2")):
        assert rc == 0, log
    info = json.loads((out / "run.json").read_text())["distribution"]
    assert info == {"strategy": "CollectiveAllReduceStrategy", "replicas": 2, "workers": 2}
    # resume both workers from the chief's checkpoint to the full 3 epochs
    for rc, log in _wait_all(_workers(config, out, "--resume", "--set", "train.epochs=3")):
        assert rc == 0, log
    _assert_same_trajectory(out, single)
    assert not list((tmp_path / "tmp").glob("mtkit-worker-*")), "non-chief temp folder left"


def test_a_dead_worker_stops_the_others_with_a_clear_error(config, tmp_path):
    out = tmp_path / "dies"
    chief, worker = _workers(config, out, "--set", "train.epochs=100000",
                             "--set", "train.worker_timeout=10")
    deadline = time.time() + 180
    while not (out / "history.json").exists():
        assert time.time() < deadline and chief.poll() is None, chief.communicate()
        time.sleep(0.2)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    t0 = time.time()
    _, err = chief.communicate(timeout=120)
    assert time.time() - t0 < 120
    assert chief.returncode == 2, err
    assert "Traceback" not in err and "lost contact with its peers" in err
    assert (out / "checkpoints").is_dir()


@pytest.mark.parametrize(("tf_config", "needle"), [
    ("{not json", "TF_CONFIG is not valid JSON"),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}',
     "must list workers as \"host:port\""),
    ('{"cluster": {"worker": ["localhost:1", "localhost:2"]}, "task": {"type": "worker", '
     '"index": 5}}', "task index 5 is out of range"),
])
def test_malformed_tf_config(config, tmp_path, tf_config, needle):
    proc = run_cli("train", str(config), "--out", str(tmp_path / "r"), "--strategy",
                   "multi-worker", env={"TF_CONFIG": tf_config})
    assert_clean_error(proc, needle)
    assert not (tmp_path / "r").exists()


def test_batch_not_divisible_by_replicas(config, tmp_path):
    proc = run_cli("train", str(config), "--out", str(tmp_path / "r"), "--strategy", "mirrored",
                   "--set", "train.batch_size=33", env={"MTKIT_LOGICAL_CPUS": "2"})
    assert_clean_error(proc, "field 'train.batch_size': 33 is not divisible by the 2 replicas")
    assert not (tmp_path / "r").exists()


def test_strategy_name_is_validated(config, tmp_path):
    proc = run_cli("train", str(config), "--out", str(tmp_path / "r"), "--strategy", "mirroredd")
    assert_clean_error(proc, "field 'train.strategy'")
    assert sys.executable
