"""ONNX export of every gated trunk passes mtkit's TF↔onnxruntime parity check.

Uses the public export API (``mtkit.export.export_run``, what ``mtkit export RUN --onnx``
runs), then checks the file once more on its own: outputs matched by task name, at
rtol = atol = 1e-5, against the reloaded Keras model.
"""

from __future__ import annotations

import numpy as np
import pytest

import mtkit

EXPERT = {"type": "mlp", "units": [8]}
CASES = {
    "mmoe": ({"type": "mmoe", "experts": 2, "expert": EXPERT, "gate_hidden": [4]}, "tabular"),
    "omoe": ({"type": "omoe", "experts": 2, "expert": EXPERT, "gate_hidden": [4]}, "tabular"),
    "cgc": ({"type": "cgc", "expert": EXPERT}, "tabular"),
    "ple": ({"type": "ple", "levels": 2, "expert": EXPERT}, "tabular"),
    "cross_stitch": ({"type": "cross_stitch", "levels": 2, "expert": EXPERT}, "tabular"),
    "ple_conv": ({"type": "ple", "levels": 2, "expert": {"type": "conv", "filters": [4]},
                  "upper_expert": EXPERT}, "images"),
}
TASKS = {"kind": {"head": "classification", "classes": 3}, "flag": {"head": "binary"},
         "score": {"head": "regression"}}


def data_section(kind: str, tmp_path) -> dict:
    if kind == "tabular":
        return {"dataset": "synthetic", "rows": 300, "features": 6}
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 8, 8, 1)).astype("float32")
    path = tmp_path / "images.npz"
    np.savez(path, image=x, kind=rng.integers(0, 3, 120), flag=rng.integers(0, 2, 120).astype("float32"),
             score=x.mean(axis=(1, 2, 3)))
    return {"dataset": "npz", "path": str(path)}


@pytest.mark.parametrize("case", list(CASES))
def test_onnx_export_passes_parity(case, tmp_path):
    from mtkit.export import ExportOptions, export_run

    trunk, data = CASES[case]
    cfg = {"data": data_section(data, tmp_path), "trunk": trunk, "tasks": TASKS,
           "train": {"epochs": 1, "batch_size": 32, "checkpoint": False}}
    run = mtkit.train(cfg, out=tmp_path / "run", quiet=True).run_dir

    result = export_run(run, tmp_path / "model.onnx", ExportOptions(rtol=1e-5, atol=1e-5))
    assert result.report["passed"]
    rows = result.report["parity"]["tasks"]
    assert {r["task"] for r in rows} == set(TASKS)
    assert all(r["ok"] and r["max_abs"] <= 1e-5 for r in rows), rows

    # an independent look at the written file, outputs matched by name
    import keras
    import onnxruntime as ort

    model = keras.models.load_model(run / "model.keras")
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    assert sorted(o.name for o in session.get_outputs()) == sorted(TASKS)
    x = {i.name: np.random.default_rng(1).normal(size=(5, *model.input[i.name].shape[1:]))
         .astype("float32") for i in session.get_inputs()}
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, x), strict=True))
    want = model(x, training=False)
    for task in TASKS:
        np.testing.assert_allclose(got[task], np.asarray(want[task]), rtol=1e-5, atol=1e-5)
