"""TF ↔ onnxruntime parity for random configs (every trunk and head alone: the live-registry tests).

Models are assembled directly (``mtkit.api.plan`` + ``mtkit.assembly``) and given random
weights, batch-norm statistics included, so no training is needed for the numbers to be
non-trivial. Each model is compared at two batch sizes with the export's own tolerances.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mtkit
from mtkit import assembly
from mtkit.dataprep import InputSpecs
from mtkit.export import convert, parity
from mtkit.tf_import import import_tensorflow

RTOL = ATOL = 1e-5
HEADS = {
    "classification": {"head": "classification", "classes": 4},
    "binary": {"head": "binary"},
    "multilabel": {"head": "multilabel", "classes": 3},
    "regression": {"head": "regression", "units": 2},
}


def randomize(model, seed: int) -> None:
    """Random weights everywhere, plausible batch-norm statistics (variance > 0)."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        shape, path = tuple(v.shape), v.path
        if "moving_variance" in path:
            value = rng.uniform(0.5, 2.0, shape)
        elif "gamma" in path:
            value = rng.uniform(0.5, 1.5, shape)
        else:
            value = rng.normal(0, 0.5, shape)
        v.assign(value.astype("float32"))


def assemble(trunk: dict, tasks: dict, inputs: dict[str, tuple], seed: int = 0):
    """``inputs``: name → (per-example shape, dtype)."""
    import_tensorflow()
    plan = mtkit.plan({"data": {"dataset": "synthetic"}, "trunk": trunk, "tasks": tasks})
    specs = InputSpecs(shapes={k: v[0] for k, v in inputs.items()},
                       dtypes={k: v[1] for k, v in inputs.items()})
    model = assembly.assemble(plan, specs).model
    randomize(model, seed)
    meta = {n: t.head for n, t in plan.tasks.items()}
    return model, meta


def check_parity(model, meta, inputs, seed=0, rows=12, batch_sizes=(1, 5)):
    import onnxruntime as ort

    specs = {k: {"shape": list(shape), "dtype": dtype} for k, (shape, dtype) in inputs.items()}
    proto = convert.keras_to_onnx(model, specs, list(meta))
    assert sorted(o.name for o in proto.graph.output) == sorted(meta)
    assert sorted(i.name for i in proto.graph.input) == sorted(inputs)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    x = {k: (rng.normal(size=(rows, *shape)) if dtype == "float32"
             else rng.integers(-3, 4, size=(rows, *shape))).astype(dtype)
         for k, (shape, dtype) in inputs.items()}
    results = parity.check(model, session, x, meta, batch_sizes, RTOL, ATOL)
    assert len(results) == len(meta) * len(batch_sizes)
    bad = [r for r in results if not r.ok]
    assert not bad, parity.table(results, RTOL, ATOL)
    return results


# Every trunk and every head (built-in or first-party) on its own: tests/core/test_live_registry.py.


ACTIVATIONS = ["relu", "elu", "selu", "tanh", "sigmoid", "swish", "gelu", "linear"]


@st.composite
def configs(draw):
    act = draw(st.sampled_from(ACTIVATIONS))
    if draw(st.booleans()):
        trunk = {"type": "mlp", "activation": act, "batch_norm": draw(st.booleans()),
                 "units": draw(st.lists(st.integers(1, 12), min_size=1, max_size=3))}
        inputs = {"features": (draw(st.sampled_from([(5,), (3, 4)])), "float32")}
        if draw(st.booleans()):  # a second, integer input (the mlp casts it)
            inputs["counts"] = ((2,), "int32")
    else:
        trunk = {"type": "conv", "activation": act, "batch_norm": draw(st.booleans()),
                 "filters": draw(st.lists(st.integers(1, 6), min_size=1, max_size=2)),
                 "kernel_size": draw(st.sampled_from([1, 3, 5])),
                 "pooling": draw(st.sampled_from(["max", "avg", "none"])),
                 "global_pool": draw(st.booleans())}
        inputs = {"image": (draw(st.sampled_from([(6, 7), (8, 5, 2), (5, 5, 1)])), "float32")}
    names = draw(st.lists(st.sampled_from(list(HEADS)), min_size=1, max_size=3))
    tasks = {}
    for i, head in enumerate(names):
        cfg = dict(HEADS[head])
        if draw(st.booleans()):
            cfg["hidden"] = [draw(st.integers(1, 6))]
            cfg["activation"] = draw(st.sampled_from(ACTIVATIONS))
        tasks[f"t{i}_{head}"] = cfg
    return trunk, tasks, inputs, draw(st.integers(0, 2**16))


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configs_convert_with_parity(case):
    trunk, tasks, inputs, seed = case
    model, meta = assemble(trunk, tasks, inputs, seed)
    check_parity(model, meta, inputs, seed=seed, rows=7, batch_sizes=(1, 4))
