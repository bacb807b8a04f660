"""Training on streamed shards through the real CLI; a shard that breaks stops the run with
exit 2 and leaves it resumable (at the start of a run, and mid-epoch)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mtkit.api import plan as make_plan
from mtkit.dataprep import prepare
from mtkit.errors import DataError
from mtkit.streaming.pipeline import StreamEpochData
from tests.conftest import assert_clean_error, run_cli
from tests.hardening.corpus import truncated
from tests.streaming.helpers import config, write_config, write_shards


def test_train_on_a_folder_of_shards_records_how_it_streamed(tmp_path):
    write_shards(tmp_path / "shards", [400, 300, 300])
    cfg = write_config(tmp_path, config(str(tmp_path / "shards")))
    out = tmp_path / "run"
    proc = run_cli("train", str(cfg), "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    info = json.loads((out / "run.json").read_text())
    stream = info["dataset"]["streaming"]
    assert stream["readers"] == 1 and stream["chunk_rows"] == 128
    assert len(stream["train_shards"]) == 3
    assert sum(info["sizes"].values()) == 1000
    assert 0.15 < info["sizes"]["val"] / 1000 < 0.25
    hist = json.loads((out / "history.json").read_text())["epochs"]
    assert [h["steps"] for h in hist] == [-(-info["sizes"]["train"] // 32)] * 2
    assert hist[1]["train"]["reg"]["loss"] < hist[0]["train"]["reg"]["loss"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split"] == "test"
    assert metrics["tasks"]["reg"]["labelled"] == pytest.approx(0.3 * info["sizes"]["test"],
                                                                rel=0.35)
    assert metrics["tasks"]["flag"]["accuracy"] > 0.7
    assert sorted(info["tabular"]["features"]["color"]["vocabulary"]) == ["blue", "green", "red"]

    # a shard that breaks: exit 2 naming it, the run untouched; fixed, the run resumes
    shard = tmp_path / "shards" / "part-001.parquet"
    good = shard.read_bytes()
    before = {q.name: q.stat().st_mtime_ns for q in out.iterdir()}
    truncated(shard, 0.7)
    proc = run_cli("train", "--out", str(out), "--resume", "-q", "--set", "train.epochs=3")
    assert_clean_error(proc, str(shard), "truncated")
    assert {q.name: q.stat().st_mtime_ns for q in out.iterdir()} == before
    shard.write_bytes(good)
    proc = run_cli("train", "--out", str(out), "--resume", "-q", "--set", "train.epochs=3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [h["epoch"] for h in json.loads((out / "history.json").read_text())["epochs"]] == \
        [1, 2, 3]


def test_overwrite_may_replace_a_table_runs_schema_file():
    from mtkit.run_guard import _is_own_entry

    assert _is_own_entry("features.yaml")  # written by every table run (streamed or not)


def test_a_shard_broken_mid_epoch_is_a_data_error_naming_it(tmp_path):
    paths = write_shards(tmp_path / "shards", [200, 200])
    plan = make_plan(config(str(tmp_path / "shards")))
    splits, _ = prepare(plan)
    data = StreamEpochData(plan, splits)
    assert sum(1 for _ in data.global_batches(1)) == data.steps_per_epoch()
    truncated(paths[1], 0.5)
    with pytest.raises(DataError, match="part-001.parquet") as err:
        for _ in data.global_batches(1):
            pass
    assert "--resume" in str(err.value)
    # through tf.data the same error is kept for the trainer to raise (not a bare TF error)
    import tensorflow as tf

    with pytest.raises(tf.errors.OpError):
        for _ in data.dataset(1):
            pass
    assert isinstance(data.failure(), DataError)
    assert np.isfinite(len(splits.train))
