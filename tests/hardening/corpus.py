"""The bad-input corpus: one row per mistake a user can make, run through the real CLI.

Each ``Case`` writes its files into a fresh folder ``t`` and returns the ``mtkit``
arguments; the runner (``test_corpus.py``) checks the exit code, that no traceback is
shown, that the message contains every needle (``{t}`` stands for the folder, so a needle
can name the culprit file), and that nothing listed in ``absent`` was left behind.
``family`` is the words of the message that ``docs/errors.md`` explains (checked by
``test_errors_doc.py``). The cases of ``tests/core/test_bad_input.py`` and
``tests/export/test_bad_input.py`` are not repeated here.
"""

from __future__ import annotations

import copy
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

BASE: dict[str, Any] = {
    "data": {"dataset": "synthetic", "rows": 60, "features": 3},
    "trunk": {"type": "mlp", "units": [4]},
    "tasks": {"kind": {"head": "classification", "classes": 3}},
    "train": {"epochs": 1, "steps_per_epoch": 2},
}


@dataclass(frozen=True)
class BaseCase:
    """One bad input: how to make it, the words its error must hold, the exit code."""

    family: str
    make: Callable[[Path], list[str]]
    needles: tuple[str, ...]
    code: int = 2


@dataclass(frozen=True)
class Case(BaseCase):
    env: str = ""  # name of a fixture giving extra environment variables
    absent: tuple[str, ...] = ("run",)


# ----------------------------------------------------------------------------- builders

def changed(path: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of ``base`` (default BASE) with dotted ``path`` set to ``value``."""
    cfg = copy.deepcopy(BASE if base is None else base)
    node = cfg
    keys = path.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value
    return cfg


def write(t: Path, content: dict[str, Any] | str | bytes, name: str = "cfg.yaml") -> str:
    p = t / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content if isinstance(content, str) else yaml.safe_dump(content),
                     encoding="utf-8")
    return str(p)


def train(t: Path, content: dict[str, Any] | str | bytes, *extra: str) -> list[str]:
    return ["train", write(t, content), "--out", str(t / "run"), "-q", *extra]


def npz_config(t: Path, tasks: dict[str, Any] | None = None, name: str = "d.npz",
               **arrays: Any) -> dict[str, Any]:
    """Writes ``t/name`` from ``arrays`` (default input x and class labels 'kind')."""
    arrays.setdefault("x", np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32))
    arrays.setdefault("kind", np.arange(40) % 3)
    np.savez(t / name, **arrays)
    cfg = changed("data", {"dataset": "npz", "path": str(t / name)})
    if tasks is not None:
        cfg["tasks"] = tasks
    return cfg


CSV_ROWS = ["a,b,kind"] + [f"{i * 0.1:.1f},{(i * 7) % 5}.5,{i % 3}" for i in range(30)]


def csv_config(t: Path, lines: list[str] | None = None, raw: bytes | None = None) -> dict[str, Any]:
    data = raw if raw is not None else ("\n".join(lines or CSV_ROWS) + "\n").encode("utf-8")
    (t / "d.csv").write_bytes(data)
    return changed("data", {"dataset": "csv", "path": str(t / "d.csv")})


def csv_line(i: int, text: str) -> list[str]:
    rows = list(CSV_ROWS)
    rows[i] = text
    return rows


def truncated(path: Path, keep: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


# --------------------------------------------------------------- model files (no training)

RUN_INFO = {
    "inputs": {"features": {"shape": [3], "dtype": "float32"}},
    "tasks": {"kind": {"head": "classification", "output_type": "categorical",
                       "decode": {"type": "categorical", "classes": 3, "labels": None}}},
    "dataset": {"name": "synthetic", "decode": {}},
}


def onnx_model(path: Path, with_metadata: bool = True, edit: dict[str, str] | None = None) -> Path:
    """A real 3-feature, 3-class ONNX model (softmax of the input), optionally with the
    metadata ``mtkit export`` writes (through the exporter's own writer), entries of
    ``edit`` overwritten."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Softmax", ["features"], ["kind"], axis=-1)], "tiny",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("kind", TensorProto.FLOAT, ["batch", 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if with_metadata:
        from mtkit.export.metadata import attach

        attach(model, RUN_INFO)
        for prop in model.metadata_props:
            prop.value = (edit or {}).get(prop.key, prop.value)
    onnx.save(model, str(path))
    return path


def fake_run(t: Path, model: bytes | None = None) -> Path:
    """A run directory (run.json, config.yaml) whose model.keras is ``model``."""
    run = t / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps(RUN_INFO))
    (run / "config.yaml").write_text(yaml.safe_dump(BASE))
    if model is not None:
        (run / "model.keras").write_bytes(model)
    return run


def _other_trunk_run(t: Path) -> Path:
    """A run folder holding a real (untrained) model.keras of BASE with a wider trunk."""
    from mtkit.api import build_model

    src = t / "src"
    src.mkdir()
    build_model(changed("trunk.units", [7])).save(src / "model.keras")
    return src


def zip_bytes(t: Path, files: dict[str, str]) -> bytes:
    p = t / "z.zip"
    with zipfile.ZipFile(p, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    data = p.read_bytes()
    p.unlink()
    return data


def predict(t: Path, model: Path, *inputs: str) -> list[str]:
    return ["predict", str(model), *inputs, "--out", str(t / "preds.jsonl")]


def _nan_inputs(t: Path) -> list[str]:
    x = np.ones((4, 3), np.float32)
    x[2, 1] = np.nan
    np.savez(t / "x.npz", features=x)
    return predict(t, onnx_model(t / "m.onnx"), str(t / "x.npz"))


def _csv_inputs(t: Path) -> list[str]:
    (t / "x.csv").write_text("a,b\n1,2\n")
    return predict(t, onnx_model(t / "m.onnx"), str(t / "x.csv"))


def _truncated_onnx(t: Path) -> list[str]:
    return predict(t, truncated(onnx_model(t / "m.onnx")), str(_x(t)))


def _x(t: Path) -> Path:
    np.savez(t / "x.npz", features=np.ones((2, 3), np.float32))
    return t / "x.npz"


def _truncated_npz(t: Path) -> list[str]:
    cfg = npz_config(t)
    truncated(t / "d.npz")
    return train(t, cfg)


def _wider_validation_file(t: Path) -> list[str]:
    np.savez(t / "v.npz", x=np.zeros((8, 4), np.float32), kind=np.zeros(8, int))
    return train(t, changed("data.val_path", str(t / "v.npz"), npz_config(t)))


MIXTURE: dict[str, Any] = {
    **BASE,
    "data": {"sources": {
        "a": {"dataset": "synthetic", "rows": 60, "features": 3, "tasks": ["kind"]},
        "b": {"dataset": "synthetic", "rows": 40, "features": 3, "tasks": ["value"]}}},
    "tasks": {"kind": {"head": "classification", "classes": 3}, "value": {"head": "regression"}},
}


# ------------------------------------------------------------------------------- the table

CASES: dict[str, Case] = {
    # ---- task mixtures (docs/mixtures.md)
    "mixture: a task no source labels": Case(
        "are labelled by no source",
        lambda t: train(t, changed("data.sources.b.tasks", ["kind"], MIXTURE)),
        ("{t}/cfg.yaml", "value", "are labelled by no source")),
    "mixture: all weights zero": Case(
        "source weights are all 0",
        lambda t: train(t, changed("data.sampling", {"mode": "weights",
                                                      "weights": {"a": 0, "b": 0}}, MIXTURE)),
        ("{t}/cfg.yaml", "source weights are all 0")),
    "mixture: inputs disagree": Case(
        "the sources' inputs disagree",
        lambda t: train(t, changed("data.sources.b.features", 5, MIXTURE)),
        ("source 'a'", "source 'b'", "the sources' inputs disagree")),
    # ---- config files
    "yaml syntax error": Case(
        "is not valid YAML", lambda t: train(t, "data: {dataset: synthetic\ntrunk: [\n"),
        ("{t}/cfg.yaml", "is not valid YAML at line")),
    "yaml python tag (safe_load)": Case(
        "is not valid YAML",
        lambda t: train(t, "data: !!python/object/apply:os.system ['touch pwned']\n"),
        ("{t}/cfg.yaml", "python/object/apply"), absent=("run", "pwned")),
    "empty config": Case("is empty", lambda t: train(t, ""), ("{t}/cfg.yaml", "is empty")),
    "config is a list": Case(
        "must be a YAML mapping", lambda t: train(t, "- data\n- trunk\n"),
        ("{t}/cfg.yaml", "must be a YAML mapping", "list")),
    "config not utf-8": Case(
        "is not UTF-8 text", lambda t: train(t, "tasks: {caf\xe9: 1}\n".encode("latin-1")),
        ("{t}/cfg.yaml", "is not UTF-8 text")),
    "duplicate key": Case(
        "is given twice",
        lambda t: train(t, yaml.safe_dump(BASE) + "train: {epochs: 5}\n"),
        ("{t}/cfg.yaml", "field 'train' is given twice")),
    "wrong type": Case(
        "invalid config —", lambda t: train(t, changed("train.epochs", "ten")),
        ("{t}/cfg.yaml", "field 'train.epochs'", "'ten'")),
    "negative batch size": Case(
        "invalid config —", lambda t: train(t, changed("train.batch_size", -8)),
        ("field 'train.batch_size'", "greater than or equal to 1", "-8")),
    "negative layer width": Case(
        "invalid parameters for", lambda t: train(t, changed("trunk.units", [16, -4])),
        ("invalid parameters for trunk 'mlp'", "field 'trunk.units.1'", "greater than 0")),
    "one class": Case(
        "invalid parameters for", lambda t: train(t, changed("tasks.kind.classes", 1)),
        ("head 'classification'", "field 'tasks.kind.classes'")),
    "unknown loss parameter": Case(
        "invalid parameters for",
        lambda t: train(t, changed("tasks.kind", {"head": "regression",
                                                  "loss": {"type": "huber", "deltaa": 2}})),
        ("loss 'huber'", "field 'tasks.kind.loss.deltaa': unknown key")),
    "tasks as a list": Case(
        "invalid config —", lambda t: train(t, changed("tasks", ["kind"])),
        ("field 'tasks'", "valid dictionary")),
    "task name not an identifier": Case(
        "must be an identifier",
        lambda t: train(t, changed("tasks", {"my-task": {"head": "binary"}})),
        ("'my-task' must be an identifier",)),
    "task named like an input": Case(
        "also the name of", lambda t: train(t, changed("tasks", {"features": {"head": "binary"}})),
        ("field 'tasks.features'", "also the name of model input 'features'", "rename the task")),
    "config path is a folder": Case(
        "is a folder", lambda t: ["train", str(t), "--out", str(t / "run")],
        ("config file '{t}' is a folder",)),
    "zero-sized input shape": Case(
        "invalid config —", lambda t: train(t, changed("inputs", {"features": {"shape": [3, 0]}})),
        ("field 'inputs.features.shape'", "positive integer")),
    "declared shape differs from data": Case(
        "field 'inputs'", lambda t: train(t, changed("inputs", {"features": {"shape": [5]}})),
        ("field 'inputs.features.shape'", "[5]", "[3]")),
    "unknown weighting": Case(
        "did you mean", lambda t: train(t, changed("weighting", "dwaa")),
        ("unknown weighting 'dwaa'", "weighting.type", "did you mean 'dwa'")),
    "compare: one task": Case(
        "needs at least two tasks",
        lambda t: ["compare", write(t, BASE), "--out", str(t / "cmp")],
        ("field 'tasks'", "needs at least two tasks"), absent=("cmp",)),
    "compare: a metric without a direction": Case(
        "better higher or lower",
        lambda t: ["compare", write(t, changed("tasks", {
            "near": {"head": "gauge"}, "odd": {"head": "gauge", "metrics": ["wobble"]}})),
            "--out", str(t / "cmp")],
        ("tasks.odd.metrics", "'wobble'", "head 'gauge'", "mtkit-gauge-plugin",
         "@mtkit.metrics.higher_is_better"), env="gauge_plugin_env", absent=("cmp",)),
    "batch smaller than the weighting's samples": Case(
        "independent samples, and batch_size is",
        lambda t: train(t, changed("weighting", {"type": "modo"}, changed("train.batch_size", 2))),
        ("{t}/cfg.yaml", "field 'train.batch_size'", "'modo'", "at least 3")),
    "compare: a budget too small for one epoch": Case(
        "too small to finish one epoch",
        lambda t: ["compare", write(t, changed("tasks.level", {"head": "regression"},
                                               changed("train", {"epochs": 2, "batch_size": 2,
                                                                 "time_budget": 0.01}))),
                   "--out", str(t / "cmp")],
        ("field 'train.time_budget'", "too small to finish one epoch", "mtl-sum"),
        absent=("cmp",)),
    "weights for an unknown task": Case(
        "field 'weighting.weights'",
        lambda t: train(t, changed("weighting", {"type": "sum", "weights": {"knd": 1.0}})),
        ("field 'weighting.weights'", "'knd'")),
    "multilabel class weights of the wrong shape": Case(
        "a (2, labels) list",
        lambda t: train(t, changed("tasks", {"tags": {"head": "multilabel", "classes": 3,
                                                      "class_weight": [[1, 1, 1], [2, 2]]}})),
        ("{t}/cfg.yaml", "field 'tasks.tags.class_weight'", "here (2, 3)")),
    "multilabel class weights as one flat list": Case(
        "a (2, labels) list",
        lambda t: train(t, changed("tasks", {"tags": {"head": "multilabel", "classes": 3,
                                                      "class_weight": [1, 2, 3]}})),
        ("field 'tasks.tags.class_weight'", "per label and per value")),
    "negative multilabel class weight": Case(
        "class weights must be finite and 0 or more",
        lambda t: train(t, changed("tasks", {"tags": {"head": "multilabel", "classes": 2,
                                                      "class_weight": [[1, 1], [2, -1]]}})),
        ("tasks.tags.class_weight", "class weights must be finite and 0 or more")),
    "class weights of the wrong length": Case(
        "weights given for the",
        lambda t: train(t, changed("tasks.kind.class_weight", [1, 2])),
        ("{t}/cfg.yaml", "field 'tasks.kind.class_weight'", "2 weights given for the 3 classes")),
    "negative class weight": Case(
        "class weights must be finite and 0 or more",
        lambda t: train(t, changed("tasks.kind.class_weight", [1, -2, 1])),
        ("field 'tasks.kind.class_weight'", "class weights must be finite and 0 or more")),
    "learning rate for an unknown task": Case(
        "the config has no task",
        lambda t: train(t, BASE, "--set", "tasks.knd.learning_rate=0.1"),
        ("--set tasks.knd.learning_rate=0.1", "no task 'knd'", "did you mean 'kind'")),
    "settings for a misspelt task": Case(
        "has no head",
        lambda t: train(t, changed("tasks.knd", {"learning_rate": 0.1})),
        ("{t}/cfg.yaml", "field 'tasks'", "task 'knd' has no head", "did you mean 'kind'",
         "learning_rate")),
    "unknown optimizer for a task": Case(
        "invalid config —", lambda t: train(t, changed("tasks.kind.optimizer", "sgdd")),
        ("field 'tasks.kind.optimizer'", "'sgd'", "(got 'sgdd')")),
    "freeze pattern that matches no layer": Case(
        "matches no layer of the trunk",
        lambda t: train(t, changed("trunk.freeze", ["mlp_dens0"])),
        ("{t}/cfg.yaml", "field 'trunk.freeze'", "pattern 'mlp_dens0'",
         "did you mean 'mlp_dense0'", "mlp_dense0")),
    "init-from a run whose trunk differs": Case(
        "none of the trunk's weights fits this model",
        lambda t: train(t, BASE, "--init-from", str(_other_trunk_run(t))),
        ("--init-from '{t}/src'", "none of the trunk's weights fits this model")),
    "init-from a folder without a model": Case(
        "no trained model there",
        lambda t: train(t, BASE, "--init-from", str(t)),
        ("--init-from '{t}'", "model.keras is missing")),
    "metric the head lacks": Case(
        "has no metric", lambda t: train(t, changed("tasks.kind.metrics", ["f1"])),
        ("field 'tasks.kind.metrics'", "has no metric 'f1'")),
    "missing fraction for an unknown task": Case(
        "no task named", lambda t: train(t, changed("data.missing", {"nope": 0.5})),
        ("field 'data.missing'", "'nope'")),
    "override value not YAML": Case(
        "the value is not valid YAML", lambda t: train(t, BASE, "--set", "train.epochs=[1"),
        ("--set 'train.epochs=[1'", "not valid YAML")),
    "override of an unknown field": Case(
        "invalid config —", lambda t: train(t, BASE, "--set", "train.epoch=3"),
        ("field 'train.epoch': unknown key",)),
    "schedule over time without a time budget": Case(
        "invalid config —",
        lambda t: train(t, changed("train.schedule", {"type": "cosine", "over": "time"})),
        ("{t}/cfg.yaml", "field 'train'", "set train.time_budget")),
    "plateau schedule over time": Case(
        "invalid config —",
        lambda t: train(t, changed("train", {**BASE["train"], "time_budget": 5,
                                             "schedule": {"type": "plateau", "over": "time"}})),
        ("field 'train.schedule'", "'plateau' cannot run over time", "use over: steps")),
    "plugin package not installed": Case(
        "It is provided by the package",
        lambda t: train(t, changed("data", {"dataset": "multidigit"})),
        ("unknown dataset 'multidigit'", "data.dataset", "pip install mtkit-multidigit"),
        env="no_entry_points"),
    "out is a file": Case(
        "a run directory is a folder",
        lambda t: ["train", write(t, BASE), "--out", str(t / "cfg.yaml"), "-q"],
        ("--out '{t}/cfg.yaml' is a file",), absent=()),
    "resume without --out": Case(
        "cannot resume", lambda t: ["train", write(t, BASE), "--resume"], ("--resume needs --out",)),
    "resume a folder that is no run": Case(
        "cannot resume",
        lambda t: (t / "run").mkdir() or ["train", "--out", str(t / "run"), "--resume", "-q"],
        ("cannot resume", "holds no config.yaml"), absent=("run/config.yaml",)),
    # ---- data files
    "npz truncated": Case(
        "cannot be read", lambda t: _truncated_npz(t),
        ("npz file '{t}/d.npz' cannot be read", "truncated")),
    "npz holds pickled objects": Case(
        "cannot be read",
        lambda t: train(t, npz_config(t, x=np.array([{"a": 1}] * 40, dtype=object))),
        ("{t}/d.npz", "allow_pickle=False")),
    "npz path is a folder": Case(
        "is a folder",
        lambda t: (t / "data").mkdir() or train(
            t, changed("data", {"dataset": "npz", "path": str(t / "data")})),
        ("npz file '{t}/data' is a folder",)),
    "npz input is a single number": Case(
        "is a single value", lambda t: train(t, npz_config(t, x=np.float32(3))),
        ("{t}/d.npz", "input 'x'", "is a single value")),
    "npz input strings": Case(
        "inputs must be numeric", lambda t: train(t, npz_config(t, x=np.full((40, 3), "a"))),
        ("{t}/d.npz", "input 'x' has dtype <U1")),
    "npz fractional class labels": Case(
        "hold values such as",
        lambda t: train(t, npz_config(t, kind=(np.arange(40) % 3) + 0.5)),
        ("task 'kind'", "values such as 0.5", "whole class indices")),
    "npz class labels beyond int32": Case(
        "hold values such as",
        lambda t: train(t, npz_config(t, kind=np.full(40, 2**32 + 1, np.int64))),
        ("task 'kind'", "4294967297")),
    "npz text labels": Case(
        "must be numeric", lambda t: train(t, npz_config(t, kind=np.array(["cat"] * 40))),
        ("labels of task 'kind' have dtype <U3",)),
    "npz binary label 2": Case(
        "binary labels must be 0 or 1",
        lambda t: train(t, npz_config(t, tasks={"kind": {"head": "binary"}})),
        ("{t}/d.npz", "task 'kind'", "binary labels must be 0 or 1")),
    "npz multilabel width": Case(
        "have per-example shape",
        lambda t: train(t, npz_config(t, tasks={"kind": {"head": "multilabel", "classes": 3}},
                                      kind=np.zeros((40, 2)))),
        ("labels of task 'kind' have per-example shape (2,)", "expects (3,)")),
    "npz label array missing": Case(
        "has no label array",
        lambda t: train(t, npz_config(t, tasks={"kind": BASE["tasks"]["kind"],
                                                "risk": {"head": "regression"}})),
        ("npz file '{t}/d.npz' has no label array risk",)),
    "npz validation file of another width": Case(
        "outside the training split", lambda t: _wider_validation_file(t),
        ("input 'x' has shape (4,) outside the training split",)),
    "csv infinite feature": Case(
        "is not a finite number", lambda t: train(t, csv_config(t, csv_line(3, "inf,1,2"))),
        ("csv file '{t}/d.csv', line 4, column 'a'", "'inf' is not a finite number",
         "not treated as missing")),
    "csv overflowing feature": Case(
        "is not a finite number", lambda t: train(t, csv_config(t, csv_line(3, "1e400,1,2"))),
        ("line 4, column 'a'", "'1e400' is not a finite number")),
    "csv infinite label": Case(
        "is not a finite number",
        lambda t: train(t, changed("tasks", {"kind": {"head": "regression"}},
                                   csv_config(t, csv_line(5, "0.5,1,-inf")))),
        ("line 6, column 'kind'", "'-inf' is not a finite number")),
    "csv truncated": Case(
        "cells for", lambda t: train(t, csv_config(t, CSV_ROWS[:-1] + ["0.5,"])),
        ("csv file '{t}/d.csv', line 31", "2 cells for 3 columns")),
    "csv wrong encoding": Case(
        "is not UTF-8 text",
        lambda t: train(t, csv_config(t, raw="caf\xe9,b,kind\n1,2,0\n".encode("latin-1"))),
        ("csv file '{t}/d.csv' is not UTF-8 text", "re-save it as UTF-8")),
    "csv text in a numeric feature": Case(
        "is not a number",
        lambda t: train(t, changed("features", {"a": "numeric", "b": "numeric"},
                                   csv_config(t, csv_line(4, "oops,1,0")))),
        ("line 5, column 'a'", "'oops' is not a number", "declared numeric")),
    "csv text in a mostly numeric column": Case(
        "is not a number", lambda t: train(t, csv_config(t, csv_line(4, "oops,1,0"))),
        ("line 5, column 'a'", "'oops' is not a number", "declare the column")),
    "csv label column missing": Case(
        "has no label column",
        lambda t: train(t, changed("tasks", {"churn": {"head": "binary"}}, csv_config(t))),
        ("csv file '{t}/d.csv' has no label column 'churn'", "data.labels")),
    "csv header only": Case(
        "has a header but no data rows", lambda t: train(t, csv_config(t, CSV_ROWS[:1])),
        ("csv file '{t}/d.csv' has a header but no data rows",)),
    "csv schema column absent": Case(
        "which `features:` declares",
        lambda t: train(t, changed("features", {"a": "numeric", "zzz": "categorical"},
                                   csv_config(t))),
        ("csv file '{t}/d.csv' has no column 'zzz'", "`features:` declares", "a, b, kind")),
    "csv column entirely missing": Case(
        "is missing in every row",
        lambda t: train(t, csv_config(t, ["a,b,z,kind"] + [r.rsplit(",", 1)[0] + ",," +
                                                          r.rsplit(",", 1)[1]
                                                          for r in CSV_ROWS[1:]])),
        ("csv file '{t}/d.csv': column 'z' is missing in every row", "data.exclude")),
    "csv too many categories": Case(
        "distinct values, more than its limit",
        lambda t: train(t, changed("features", {"a": "numeric",
                                                "b": {"type": "categorical", "max_categories": 3}},
                                   csv_config(t))),
        ("column 'b' has 5 distinct values, more than its limit of 3",
         "features.b.max_categories", "top: 3", "hashing")),
    "csv label not in declared labels": Case(
        "is not one of the declared labels",
        lambda t: train(t, changed("tasks.kind", {"head": "classification",
                                                  "labels": ["x", "y", "z"]},
                                   csv_config(t, csv_line(2, "0.5,1,dog")))),
        ("line 3, column 'kind'", "label 'dog' is not one of the declared labels of task 'kind'",
         "tasks.kind.labels")),
    "csv duplicate column names": Case(
        "appear more than once in the header",
        lambda t: train(t, csv_config(t, ["a,a,kind"] + CSV_ROWS[1:])),
        ("csv file '{t}/d.csv': column name(s) 'a' appear more than once",)),
    "features for a dataset that is not a table": Case(
        "a feature schema does not apply",
        lambda t: train(t, changed("features", {"a": "numeric"}, BASE)),
        ("field 'features'", "dataset 'synthetic' does not read tables")),
    # ---- plugins (fixture distributions really installed)
    "name collision": Case(
        "is offered by two packages", lambda t: train(t, BASE),
        ("head 'classification'", "offered by two packages", "'mtkit-collide-plugin'",
         "'mtkit:classification'"), env="troubled_plugins_env"),
    "unknown plugin while a package is broken": Case(
        "did you mean",
        lambda t: train(t, changed("trunk.type", "tiny", changed("tasks.kind", {"head": "binary"}))),
        ("unknown trunk 'tiny'", "Broken plugin packages", "mtkit-broken-plugin",
         "mtkit-wrongtype-plugin"), env="troubled_plugins_env"),
    "dataset load() returns the wrong type": Case(
        "not mtkit.Splits", lambda t: train(t, changed("data", {"dataset": "dict_data"})),
        ("dataset 'dict_data'", "load() returned dict, not mtkit.Splits"), env="misbehaving_env"),
    "dataset load() crashes": Case(
        "failed in load()", lambda t: train(t, changed("data", {"dataset": "crashing_data"})),
        ("dataset 'crashing_data'", "failed in load() with KeyError", "mtkit_misbehaving_plugin"),
        env="misbehaving_env"),
    "trunk build() returns nothing": Case(
        "build() must return",
        lambda t: train(t, changed("trunk", {"type": "forgetful"})),
        ("trunk 'forgetful' returned NoneType",), env="misbehaving_env"),
    "trunk cannot take the input shape": Case(
        "cannot be built",
        lambda t: train(t, npz_config(t, x=np.zeros(40, np.float32))),
        ("trunk 'mlp'", "cannot be built on the inputs 'x' ()", "ValueError")),
    # ---- model files
    "predict: model path is a folder": Case(
        "is a folder",
        lambda t: predict(t, t, str(_x(t))), ("'{t}' is a folder", "pass the .onnx file"),
        absent=("preds.jsonl",)),
    "predict: missing model": Case(
        "does not exist", lambda t: predict(t, t / "nope.onnx", str(_x(t))),
        ("ONNX model '{t}/nope.onnx' does not exist", "mtkit export"), absent=("preds.jsonl",)),
    "predict: output folder cannot be made": Case(
        "cannot access",
        lambda t: (t / "afile").write_text("x") and [
            "predict", str(onnx_model(t / "m.onnx")), str(_x(t)), "--out", str(t / "afile/p.jsonl")],
        ("cannot access '{t}/afile'", "you may write there")),
    "predict: truncated ONNX": Case(
        "cannot be loaded as an ONNX model", _truncated_onnx,
        ("{t}/m.onnx", "cannot be loaded as an ONNX model"), absent=("preds.jsonl",)),
    "predict: NaN inputs": Case(
        "has NaN or infinite values", _nan_inputs,
        ("{t}/m.onnx", "input 'features' has NaN or infinite values in 1 rows"),
        absent=("preds.jsonl",)),
    "predict: damaged mtkit metadata": Case(
        "is malformed",
        lambda t: predict(t, onnx_model(t / "m.onnx", edit={"mtkit.task.kind": "[1, 2]"}), str(_x(t))),
        ("{t}/m.onnx", "metadata 'mtkit.task.kind' is malformed", "mtkit export"),
        absent=("preds.jsonl",)),
    "predict: csv of another width": Case(
        "feature columns", _csv_inputs, ("csv file '{t}/x.csv' has 2 feature columns", "takes 3"),
        absent=("preds.jsonl",)),
    "evaluate: ONNX without mtkit metadata": Case(
        "no mtkit metadata",
        lambda t: ["evaluate", str(onnx_model(t / "m.onnx", with_metadata=False)),
                   "--config", write(t, BASE)],
        ("{t}/m.onnx", "has no mtkit metadata", "mtkit export")),
    "evaluate: not ONNX": Case(
        "cannot be loaded as an ONNX model",
        lambda t: (t / "m.onnx").write_text("name,value\n") and
        ["evaluate", str(t / "m.onnx"), "--config", write(t, BASE)],
        ("{t}/m.onnx", "cannot be loaded as an ONNX model")),
    "evaluate: missing model": Case(
        "is neither a run directory", lambda t: ["evaluate", str(t / "model.onnx")],
        ("'{t}/model.onnx' is neither a run directory nor an .onnx file",)),
    "export: truncated model.keras": Case(
        "corrupt",
        lambda t: ["export", str(fake_run(t, zip_bytes(t, {"config.json": "{}" * 500})[:300]))],
        ("{t}/run/model.keras", "corrupt or truncated"), absent=("run/model.onnx",)),
    "export: damaged run.json": Case(
        "is not valid JSON",
        lambda t: (fake_run(t) / "run.json").write_text('{"inputs": ') and ["export", str(t / "run")],
        ("{t}/run/run.json' is not valid JSON",), absent=("run/model.onnx",)),
    "export: run without config.yaml": Case(
        "so its data cannot be loaded",
        lambda t: (fake_run(t, b"x") / "config.yaml").unlink() or ["export", str(t / "run")],
        ("'{t}/run' has no config.yaml", "--no-check"), absent=("run/model.onnx",)),
}


# --------------------------------------------------------- streamed Parquet shards (issue 14)

def _shards(t: Path, rows: tuple[int, ...] = (60, 50, 40), **data: Any) -> dict[str, Any]:
    from tests.streaming.helpers import config, write_shards

    write_shards(t / "shards", list(rows))
    cfg = config(str(t / "shards"))
    cfg["data"].update(data)
    cfg["train"].update(epochs=1, steps_per_epoch=2)
    return cfg


def _odd_shard(t: Path, table: Any) -> list[str]:
    import pyarrow.parquet as pq

    cfg = _shards(t)
    pq.write_table(table, t / "shards" / "part-009.parquet")
    return train(t, cfg)


def _without(column: str) -> Callable[[Path], list[str]]:
    from tests.streaming.helpers import shard_table

    return lambda t: _odd_shard(t, shard_table(30, 9).drop_columns([column]))


def _text_column(t: Path) -> list[str]:
    import pyarrow as pa

    from tests.streaming.helpers import shard_table

    table = shard_table(30, 9)
    i = table.schema.get_field_index("x1")
    return _odd_shard(t, table.set_column(i, "x1", pa.array(["a"] * 30)))


def _truncated_shard(t: Path) -> list[str]:
    cfg = _shards(t)
    truncated(t / "shards" / "part-001.parquet", 0.6)
    return train(t, cfg)


STREAMING_CASES: dict[str, Case] = {
    "streaming: a glob that matches nothing": Case(
        "matches no file",
        lambda t: train(t, _shards(t, path=str(t / "nowhere" / "*.parquet"))),
        ("{t}/nowhere/*.parquet", "matches no file")),
    "streaming: a folder without parquet files": Case(
        "holds no .parquet files",
        lambda t: (t / "empty").mkdir() or train(t, _shards(t, path=str(t / "empty"))),
        ("{t}/empty", "holds no .parquet files")),
    "streaming: a truncated shard": Case(
        "cannot be read as Parquet", _truncated_shard,
        ("{t}/shards/part-001.parquet", "cannot be read as Parquet", "truncated")),
    "streaming: shards whose schemas disagree": Case(
        "shards disagree", _text_column,
        ("shards disagree", "'x1'", "{t}/shards/part-009.parquet", "{t}/shards/part-000.parquet")),
    "streaming: a shard without a task column": Case(
        "Every shard needs every feature and label column", _without("reg"),
        ("{t}/shards/part-009.parquet", "'reg' (label column of task 'reg')")),
    "streaming: a shard without a feature column": Case(
        "every shard needs the same columns", _without("x2"),
        ("{t}/shards/part-009.parquet", "'x2'", "every shard needs the same columns")),
    "streaming: fewer shards than readers": Case(
        "at least as many shards as workers",
        lambda t: train(t, _shards(t, readers=4)),
        ("3 train shard(s) for 4 readers", "at least as many shards as workers")),
    "streaming: balanced class weights": Case(
        "is not available for streamed data",
        lambda t: train(t, changed("tasks.cls.class_weight", "balanced", _shards(t))),
        ("tasks.cls.class_weight", "is not available for streamed data")),
}
CASES.update(STREAMING_CASES)
