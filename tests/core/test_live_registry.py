"""Tests driven by the live registry (datasette style): every built-in plugin and every
first-party plugin package installed from this checkout is picked up automatically, so a
new plugin file is tested without anyone adding it to a list.

* every trunk and every head: built (with its ``example`` params), given random weights,
  converted to ONNX and compared with onnxruntime at two batch sizes; every head's
  decoder is imported by name and decodes the ONNX output, as the TF-free runtime does;
* every loss: trained for a few steps on a head it fits (one model, one task per loss);
* every weighting: tests/weighting/test_weighting_training.py (its list is this registry);
* every plugin has a generated docs page: tests/docs/test_plugin_pages.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mtkit.plugin_types import Head
from mtkit.registry import BUILTIN_PROVIDER, checkout_providers, load_registry
from mtkit.runtime.decode import resolve
from tests.export.test_parity_suite import assemble, check_parity

REGISTRY = load_registry()
FIRST_PARTY = {BUILTIN_PROVIDER} | {dist for dist, _ in checkout_providers().values()}
ENTRIES = [e for e in REGISTRY.entries if e.provider in FIRST_PARTY]
INPUT_SHAPES = [(10,), (10, 12, 3)]  # a feature vector, else an image


def of_kind(kind: str) -> list:
    return [pytest.param(e, id=f"{e.provider}:{e.name}") for e in ENTRIES if e.kind == kind]


def ref(entry) -> str:
    return f"{entry.provider}:{entry.name}"


def test_the_live_registry_holds_the_builtins_and_first_party_packages():
    kinds = {e.kind for e in ENTRIES}
    assert kinds == {"trunk", "head", "loss", "weighting", "dataset"}
    assert {"mlp", "classification", "mse", "sum", "synthetic"} <= {e.name for e in ENTRIES}


def _assemble_on_some_input(trunk: dict, tasks: dict):
    from mtkit.errors import MtkitError

    last: Exception | None = None
    for shape in INPUT_SHAPES:
        inputs = {"x": (shape, "float32")}
        try:
            return (*assemble(trunk, tasks, inputs), inputs)
        except MtkitError as exc:  # e.g. conv on a vector: try an image
            last = exc
    raise AssertionError(f"trunk {trunk['type']} builds on none of {INPUT_SHAPES}: {last}")


@pytest.mark.parametrize("entry", of_kind("trunk"))
def test_every_trunk_builds_and_exports_with_parity(entry):
    tasks = {"c": {"head": "classification", "classes": 3}, "r": {"head": "regression"}}
    model, meta, inputs = _assemble_on_some_input({"type": ref(entry), **entry.cls.example}, tasks)
    check_parity(model, meta, inputs)


@pytest.mark.parametrize("entry", of_kind("head"))
def test_every_head_builds_exports_with_parity_and_decodes_without_tensorflow(entry):
    tasks = {"main": {"head": ref(entry), **entry.cls.example}, "aux": {"head": "regression"}}
    model, meta, inputs = _assemble_on_some_input({"type": "mlp", "units": [8]}, tasks)
    results = check_parity(model, meta, inputs, rows=6)
    head: Head = meta["main"]
    if head.decisions(np.zeros((2, 3))) is not None:
        assert all(r.agreement == 1.0 for r in results if r.task == "main")
    spec = head.decode_spec()
    assert spec.get("type") == head.output_type
    if head.decoder:  # what Predictor does with the stored spec
        fn = resolve(spec["decoder"])
        assert fn is not None, f"{ref(entry)}: decoder {spec['decoder']!r} cannot be imported"
        out = np.asarray(model({"x": np.zeros((3, *inputs["x"][0]), "float32")})["main"])
        rows = fn(spec, out)
        assert len(rows) == 3 and all(isinstance(r, dict) and "raw" not in r for r in rows)


def _fitting_head(loss_cls) -> dict:
    loss = loss_cls(loss_cls.Params.model_validate(loss_cls.example))
    for e in sorted(ENTRIES, key=lambda e: (e.provider != BUILTIN_PROVIDER, e.name)):
        if e.kind == "head":
            head = e.cls(e.cls.Params.model_validate(e.cls.example))
            if head.fits_loss(loss):
                return {"head": ref(e), **e.cls.example}
    raise AssertionError(f"no installed head fits loss {loss_cls.name}")


def test_every_loss_trains_a_head_it_fits(tmp_path):
    import mtkit

    losses = [e for e in ENTRIES if e.kind == "loss"]
    tasks = {f"t_{e.name}": {**_fitting_head(e.cls), "loss": {"type": ref(e), **e.cls.example}}
             for e in losses}
    config = {"data": {"dataset": "synthetic", "rows": 120, "features": 5},
              "trunk": {"type": "mlp", "units": [8]}, "tasks": tasks,
              "train": {"epochs": 1, "batch_size": 16, "steps_per_epoch": 3,
                        "train_metrics_rows": 32, "checkpoint": False}}
    result = mtkit.train(config, out=tmp_path / "run", quiet=True)
    for name in tasks:
        assert math.isfinite(result.history[-1]["train"][name]["loss"]), name
