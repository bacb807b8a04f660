"""Streamed shards under multi-worker: two real `mtkit train` processes each read only
their own shards (disjoint, covering every train shard), and the run matches one process
that builds the same batches (``data.readers: 2``) within the tolerances of
test_strategies.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.conftest import run_cli
from tests.distributed.test_strategies import RTOL_TRAIN, RTOL_VAL, _wait_all, _workers
from tests.streaming.helpers import config, write_config, write_shards

TASKS = ("cls", "reg", "flag")


def _losses(run: Path) -> tuple[np.ndarray, np.ndarray]:
    hist = json.loads((run / "history.json").read_text())["epochs"]
    return (np.array([[h["train"][t]["loss"] for t in TASKS] for h in hist]),
            np.array([h["val_loss"] for h in hist]))


def test_two_workers_read_disjoint_shards_and_match_one_process(tmp_path):
    shards = write_shards(tmp_path / "shards", [160, 140, 150, 130, 120])
    cfg = config(str(tmp_path / "shards"))
    cfg["weighting"] = "pcgrad"
    cfg["train"]["epochs"] = 2
    path = write_config(tmp_path, cfg)
    one_cfg = write_config(tmp_path, {**cfg, "data": {**cfg["data"], "readers": 2}}, "one.yaml")

    single = tmp_path / "single"
    proc = run_cli("train", str(one_cfg), "--out", str(single), "-q", "--strategy", "none")
    assert proc.returncode == 0, proc.stdout + proc.stderr

    out, trace = tmp_path / "mw", tmp_path / "trace.txt"
    import os

    os.environ["MTKIT_TRACE_SHARDS"] = str(trace)
    try:
        results = _wait_all(_workers(path, out))
    finally:
        del os.environ["MTKIT_TRACE_SHARDS"]
    for rc, log in results:
        assert rc == 0, log
    info = json.loads((out / "run.json").read_text())
    assert info["distribution"]["workers"] == 2 and info["dataset"]["streaming"]["readers"] == 2

    read: dict[str, set[str]] = {"reader=0": set(), "reader=1": set()}
    for line in trace.read_text().splitlines():
        _, reader, file = line.split(" ", 2)
        read[reader].add(file)
    assert read["reader=0"] and read["reader=1"]
    assert not read["reader=0"] & read["reader=1"]  # disjoint
    assert read["reader=0"] | read["reader=1"] == {str(p) for p in shards}  # covering
    assert read["reader=0"] == {str(shards[i]) for i in (0, 2, 4)}

    (train, val), (train_ref, val_ref) = _losses(out), _losses(single)
    assert train.shape == (2, 3)
    np.testing.assert_allclose(train, train_ref, rtol=RTOL_TRAIN)
    np.testing.assert_allclose(val, val_ref, rtol=RTOL_VAL)


def test_fewer_shards_than_workers_is_refused_by_every_worker(tmp_path):
    write_shards(tmp_path / "shards", [200])
    path = write_config(tmp_path, config(str(tmp_path / "shards")))
    for rc, log in _wait_all(_workers(path, tmp_path / "mw"), timeout=120):
        assert rc == 2, log
        assert "1 train shard(s) for 2 readers" in log and "Traceback" not in log
    assert not (tmp_path / "mw").exists()
