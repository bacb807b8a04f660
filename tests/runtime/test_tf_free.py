"""The runtime imports and predicts with TensorFlow and Keras unimportable (blocked by a
``sys.meta_path`` finder in a fresh interpreter), through the API and through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from mtkit.runtime import Predictor
from tests.export.fixtures import features

BLOCK = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "tf2onnx", "tf_keras"):
            raise ImportError(f"blocked for this test: {name}")
        return None
sys.meta_path.insert(0, Block())
"""

API = BLOCK + """
import json, numpy as np
import mtkit
p = mtkit.Predictor(sys.argv[1])
rows = p.predict(np.load(sys.argv[2])["features"])
banned = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf2onnx")
                or m.startswith(("mtkit.training", "mtkit.export", "mtkit.assembly")))
print(json.dumps({"rows": rows, "banned": banned, "provider": p.provider}))
"""

CLI = BLOCK + """
from mtkit.cli import main
sys.argv = ["mtkit", "predict", *sys.argv[1:]]
main()
"""


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120)


def test_blocker_really_blocks_tensorflow():
    proc = _run(BLOCK + "import tensorflow")
    assert proc.returncode != 0 and "blocked for this test" in proc.stderr


def test_predictor_works_without_tensorflow_and_prints_nothing(exported_model, tmp_path):
    x = features(6, seed=7)
    np.savez(tmp_path / "x.npz", features=x)
    proc = _run(API, str(exported_model), str(tmp_path / "x.npz"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # in particular no CUDA provider errors on a CPU-only machine
    out = json.loads(proc.stdout)
    assert out["banned"] == []
    expected = Predictor(exported_model).predict(x)
    assert [r["segment"]["class"] for r in out["rows"]] == [r["segment"]["class"] for r in expected]
    np.testing.assert_allclose([r["risk"]["value"] for r in out["rows"]],
                               [r["risk"]["value"] for r in expected], rtol=1e-6)


def test_cli_predict_without_tensorflow_writes_jsonl(exported_model, tmp_path):
    np.savez(tmp_path / "x.npz", features=features(3))
    out = tmp_path / "preds.jsonl"
    proc = _run(CLI, str(exported_model), str(tmp_path / "x.npz"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 3
    assert lines[0]["source"].endswith("x.npz[0]")
    assert set(lines[0]) == {"source", "segment", "churn", "tags", "risk"}


def test_cli_predict_reads_csv_skipping_label_columns(exported_model, tmp_path):
    x = features(4, seed=2)
    header = [f"f{i}" for i in range(8)] + ["churn"]
    rows = [",".join(header)] + [",".join(f"{v:.6f}" for v in row) + ",1" for row in x]
    (tmp_path / "x.csv").write_text("\n".join(rows) + "\n")
    proc = _run(CLI, str(exported_model), str(tmp_path / "x.csv"))
    assert proc.returncode == 0, proc.stderr
    got = [json.loads(line) for line in proc.stdout.splitlines()]
    expected = Predictor(exported_model).predict(np.round(x, 6))
    assert [g["segment"]["class"] for g in got] == [e["segment"]["class"] for e in expected]
