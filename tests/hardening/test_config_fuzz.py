"""Property: any mutation of a valid config (keys dropped, wrong types, random strings or
numbers in fields, unknown keys) either trains or fails with an MtkitError whose message
names a field, a file or a plugin — never another exception.

In-process and derandomized (the same examples every run), with few examples and tiny
runs (1 epoch of 2 steps on 40 synthetic rows) so it stays under ~40 s.
"""

from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mtkit
from mtkit.errors import MtkitError

VALID: dict[str, Any] = {
    "data": {"dataset": "synthetic", "rows": 40, "features": 3, "missing": {"risk": 0.3}},
    "trunk": {"type": "mlp", "units": [4], "activation": "relu"},
    "tasks": {"kind": {"head": "classification", "classes": 3, "weight": 1.0},
              "risk": {"head": "regression", "loss": "huber"}},
    "weighting": {"type": "sum"},
    "train": {"epochs": 1, "batch_size": 8, "learning_rate": 0.01, "seed": 0,
              "train_metrics_rows": 16, "validation_fraction": 0.2, "test_fraction": 0.2},
}
STEPS = ("train", "steps_per_epoch")  # never mutated: it bounds the cost of a valid example


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(VALID)


def _get(cfg: Any, path: tuple) -> Any:
    for k in path:
        cfg = cfg[k]
    return cfg


SECTIONS = [()] + [p for p in PATHS if isinstance(_get(VALID, p), dict)]

values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 6), st.floats(-2, 2), st.sampled_from(
        [float("nan"), float("inf"), 1e30]), st.text(max_size=6),
    st.lists(st.integers(-2, 5), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(0, 3),
                                                                max_size=2))
mutation = st.one_of(
    st.tuples(st.just("drop"), st.sampled_from(PATHS), st.none()),
    st.tuples(st.just("set"), st.sampled_from(PATHS), values),
    st.tuples(st.just("add"), st.tuples(st.sampled_from(SECTIONS), st.text(min_size=1, max_size=6)),
              values),
)


def _apply(cfg: dict[str, Any], op: str, where: Any, value: Any) -> None:
    path = (*where[0], where[1]) if op == "add" else where
    try:
        parent = _get(cfg, path[:-1])
    except (KeyError, IndexError, TypeError):
        return  # an earlier mutation removed or replaced the parent
    key = path[-1]
    if isinstance(parent, dict) and op == "drop":
        parent.pop(key, None)
    elif isinstance(parent, dict):
        parent[key] = value
    elif isinstance(parent, list) and isinstance(key, int) and key < len(parent):
        if op == "drop":
            del parent[key]
        else:
            parent[key] = value


NAMES_CULPRIT = re.compile(r"field '|file '|\b(trunk|head|loss|weighting|dataset|task|input)s? '"
                           r"|--set '")


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(mutation, min_size=1, max_size=3))
def test_mutated_configs_train_or_fail_clearly(mutations):
    cfg = copy.deepcopy(VALID)
    for op, where, value in mutations:
        _apply(cfg, op, where, value)
    if isinstance(cfg.get("train"), dict):
        cfg["train"][STEPS[1]] = 2
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = mtkit.train(cfg, out=Path(tmp) / "run", quiet=True)
            assert len(result.history) == result.metrics["epochs_run"]
    except MtkitError as exc:
        message = str(exc)
        assert NAMES_CULPRIT.search(message), f"message names no field, file or plugin: {message}"
        assert "\n" not in message.strip(), f"not one paragraph: {message}"
