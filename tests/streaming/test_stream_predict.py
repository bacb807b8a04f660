"""`mtkit evaluate` on a streamed run scores its split chunk by chunk (equal to the metrics
training wrote), and `mtkit predict` reads a Parquet file in chunks, writing as it goes."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import assert_clean_error, run_cli
from tests.streaming.helpers import config, shard_table, write_config, write_shards


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    t = tmp_path_factory.mktemp("stream_predict")
    write_shards(t / "shards", [300, 300, 200])
    cfg = config(str(t / "shards"))
    cfg["train"]["epochs"] = 1
    run = t / "run"
    proc = run_cli("train", str(write_config(t, cfg)), "--out", str(run), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run_cli("export", str(run), "--onnx")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return t, run


def test_evaluate_streams_the_test_split_and_matches_training(exported):
    _, run = exported
    proc = run_cli("evaluate", str(run), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # exit 1 if ONNX != TF metrics
    rows = json.loads(proc.stdout)["metrics"]
    assert {r["task"] for r in rows} >= {"cls", "reg", "flag"}
    assert all(r["tensorflow"] is not None and abs(r["delta"]) < 1e-4 for r in rows
               if r["task"] != "(dataset)")


def test_predict_reads_parquet_in_chunks_and_writes_as_it_goes(exported):
    t, run = exported
    rows = t / "rows.parquet"
    pq.write_table(shard_table(250, 77), rows)
    outs = []
    for chunk in (64, 100000):
        out = t / f"preds-{chunk}.jsonl"
        proc = run_cli("predict", str(run / "model.onnx"), str(rows), "-o", str(out),
                       "--chunk-rows", str(chunk))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        outs.append([json.loads(line) for line in out.read_text().splitlines()])
    assert len(outs[0]) == 250 and outs[0] == outs[1]
    assert [r["source"] for r in outs[0][:2]] == [f"{rows}[0]", f"{rows}[1]"]
    assert outs[0][-1]["source"] == f"{rows}[249]"
    assert outs[0][0]["flag"]["label"] in ("no", "yes")


def test_a_bad_cell_in_a_later_chunk_leaves_the_old_predictions(exported):
    t, run = exported
    table = shard_table(200, 78)
    x1 = table.column("x1").to_pylist()
    x1 = [str(v) for v in x1]
    x1[170] = "oops"
    bad = t / "bad.parquet"
    pq.write_table(table.set_column(table.schema.get_field_index("x1"), "x1", pa.array(x1)), bad)
    out = t / "old.jsonl"
    out.write_text('{"source": "earlier"}\n')
    proc = run_cli("predict", str(run / "model.onnx"), str(bad), "-o", str(out),
                   "--chunk-rows", "50")
    assert_clean_error(proc, f"parquet file '{bad}', row 171", "'oops' is not a number")
    assert out.read_text() == '{"source": "earlier"}\n'
    assert not list(t.glob(".old.jsonl.*"))
