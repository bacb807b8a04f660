"""The streamed data path without training: statistics equal the in-memory fit, an epoch's
batches cover every train row exactly once with the labels dataprep would give them, and
epochs are deterministic. Numpy/pyarrow only (fast)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mtkit.api import plan as make_plan
from mtkit.dataprep import prepare
from mtkit.streaming.data import StreamSplits
from mtkit.streaming.pipeline import StreamEpochData
from mtkit.streaming.splits import row_uniform
from tests.streaming.helpers import config, write_shards


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    t = tmp_path_factory.mktemp("shards")
    train = write_shards(t / "train", [300, 250, 200, 150])
    write_shards(t / "val", [120], seed=5)
    write_shards(t / "test", [90], seed=6)
    whole = t / "all.parquet"
    pq.write_table(pa.concat_tables([pq.read_table(p) for p in train]), whole)
    return t


def _streamed(path, **data):
    cfg = config(str(path), **data)
    p = make_plan(cfg)
    splits, specs = prepare(p)
    assert isinstance(splits, StreamSplits)
    return p, splits, specs


def test_statistics_of_one_streaming_pass_equal_the_in_memory_fit(shards):
    extra = {"val_path": str(shards / "val"), "test_path": str(shards / "test")}
    _, splits, specs = _streamed(shards / "train", **extra)
    mem_plan = make_plan(config(str(shards / "all.parquet"),
                                val_path=str(shards / "val" / "part-000.parquet"),
                                test_path=str(shards / "test" / "part-000.parquet")))
    mem_splits, mem_specs = prepare(mem_plan)
    assert not isinstance(mem_splits, StreamSplits)
    ours, theirs = specs.tabular.as_json(), mem_specs.tabular.as_json()
    assert ours["features"].keys() == theirs["features"].keys()
    for name, f in theirs["features"].items():
        for key, value in f.items():
            if isinstance(value, float):
                assert ours["features"][name][key] == pytest.approx(value, rel=1e-9), (name, key)
            else:
                assert ours["features"][name][key] == value, (name, key)
    for task in ("cls", "reg", "flag"):
        mine, ref = dict(ours["targets"][task]), dict(theirs["targets"][task])
        for key in ("mean", "std"):
            if key in ref:
                assert mine.pop(key) == pytest.approx(ref.pop(key), rel=1e-9)
        assert mine == ref
    assert ours["targets"]["flag"]["labels"] == ["no", "yes"]
    assert (len(splits.train), len(splits.val), len(splits.test)) == (900, 120, 90)


def test_an_epoch_covers_every_train_row_once_with_dataprep_labels(shards):
    plan, splits, _ = _streamed(shards / "train")
    data = StreamEpochData(plan, splits)
    rows = []
    for inputs, labels in data.global_batches(1):
        assert len(inputs["x0"]) <= 32
        rows.append((inputs["x0"][:, 0], labels))
    assert len(rows) == data.steps_per_epoch() == -(-len(splits.train) // 32)
    seen = np.concatenate([r[0] for r in rows])
    # the hash carve: train rows are those with u >= test + validation fraction
    table = pa.concat_tables([pq.read_table(p.shard.path) for p in splits.train.files.parts])
    names = [p.shard.name for p in splits.train.files.parts]
    u = np.concatenate([row_uniform(1, n, 0, p.shard.rows)
                        for n, p in zip(names, splits.train.files.parts, strict=True)])
    train_x0 = table.column("x0").to_numpy()[u >= 0.3].astype(np.float32)
    assert len(seen) == len(train_x0) == len(splits.train)
    np.testing.assert_array_equal(np.sort(seen), np.sort(train_x0))
    # labels as in memory: -1 for a missing class, NaN for a missing value, 0/1 for flag
    by_x0 = {float(x): i for i, x in enumerate(table.column("x0").to_numpy().astype(np.float32))}
    reg = table.column("reg").to_numpy(zero_copy_only=False)
    flag = (table.column("flag").to_numpy(zero_copy_only=False) == "yes").astype(np.float32)
    for x0, labels in rows:
        idx = [by_x0[float(v)] for v in x0]
        assert labels["cls"].dtype == np.int32 and labels["reg"].dtype == np.float32
        np.testing.assert_array_equal(labels["reg"], reg[idx].astype(np.float32))
        np.testing.assert_array_equal(labels["flag"], flag[idx])
    assert 0.2 < np.mean([np.isfinite(r[1]["reg"]).mean() for r in rows]) < 0.4


def test_epochs_are_deterministic_and_differ_from_each_other(shards):
    plan, splits, _ = _streamed(shards / "train")
    data = StreamEpochData(plan, splits)

    def order(epoch):
        return np.concatenate([b[0]["x0"][:, 0] for b in data.global_batches(epoch)])

    np.testing.assert_array_equal(order(2), order(2))
    assert not np.array_equal(order(1), order(2))


def test_two_readers_split_the_shards_and_the_batches(shards):
    plan, splits, _ = _streamed(shards / "train", readers=2)
    data = StreamEpochData(plan, splits)
    assert data.assigned == [[0, 2], [1, 3]] and data.local_batch == 16
    one = [np.concatenate([b[0]["x0"][:, 0] for b in data.reader_batches(1, r)]) for r in (0, 1)]
    glob = [b[0]["x0"][:, 0] for b in data.global_batches(1)]
    # a global batch is reader 0's local batch, then reader 1's
    steps = data.steps_per_epoch()
    assert len(glob) == steps
    np.testing.assert_array_equal(glob[0], np.concatenate([one[0][:16], one[1][:16]]))
    assert not set(one[0].tolist()) & set(one[1].tolist())


def test_shard_carve_sets_whole_files_aside(shards):
    _, splits, _ = _streamed(shards / "train", carve="shard")
    files = [{p.shard.path for p in s.files.parts} for s in (splits.train, splits.val, splits.test)]
    assert all(files) and not (files[0] & files[1]) and not (files[0] & files[2])
    assert len(splits.train) + len(splits.val) + len(splits.test) == 900
