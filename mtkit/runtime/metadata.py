"""Read the mtkit metadata an exported ONNX model carries (``metadata_props``).

The format (version 1) is written by ``mtkit export``; keys, all strings:

* ``mtkit.format`` = ``"1"``; ``mtkit.version``: the mtkit that wrote it;
* ``mtkit.precision``: ``fp32``, ``fp16`` or ``int8``;
* ``mtkit.inputs``: JSON ``{name: {"shape": [...], "dtype": "float32"}}`` (no batch axis);
* ``mtkit.tasks``: JSON list of task names, which are also the ONNX output names;
* ``mtkit.task.<name>``: JSON ``{"head", "output_type", "labels", "decode"}``;
* ``mtkit.dataset``: dataset name; ``mtkit.decode``: JSON dataset-level decoder (or ``{}``);
* ``mtkit.tabular`` (table models only): JSON fitted feature schema (``mtkit.tabular.schema``),
  which says how raw rows become the model's inputs.

Writer (``metadata_props``) and reader (``parse``) live here, in one module: the
runtime is the lower layer, so the exporter imports this (``mtkit.export.metadata``
only attaches the pairs to an ONNX ``ModelProto``), and the runtime never imports the
exporter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, NoReturn

from mtkit.errors import MtkitError

FORMAT = "1"
PREFIX = "mtkit."


def metadata_props(info: dict[str, Any], precision: str = "fp32") -> dict[str, str]:
    """run.json content → the string key/value pairs stored in the ONNX file."""
    import mtkit

    props = {
        PREFIX + "format": FORMAT,
        PREFIX + "version": mtkit.__version__,
        PREFIX + "precision": precision,
        PREFIX + "inputs": json.dumps(info["inputs"]),
        PREFIX + "tasks": json.dumps(list(info["tasks"])),
        PREFIX + "dataset": str(info.get("dataset", {}).get("name", "")),
        PREFIX + "decode": json.dumps(info.get("dataset", {}).get("decode") or {}),
    }
    if info.get("tabular"):  # a table model: how raw rows become its inputs
        props[PREFIX + "tabular"] = json.dumps(info["tabular"])
    for name, task in info["tasks"].items():
        decode = task.get("decode") or {"type": task.get("output_type", "")}
        props[f"{PREFIX}task.{name}"] = json.dumps({
            "head": task.get("head", ""),
            "output_type": task.get("output_type", ""),
            "labels": decode.get("labels"),
            "decode": decode,
        })
    return props


@dataclass(frozen=True)
class TaskMeta:
    """One task's output: how it was produced and how to decode it."""

    name: str
    head: str
    output_type: str
    labels: list[str] | None
    decode: dict[str, Any]


@dataclass(frozen=True)
class ModelMeta:
    """Everything the runtime needs to feed the model and read its outputs."""

    version: str
    precision: str
    inputs: dict[str, dict[str, Any]]
    tasks: dict[str, TaskMeta]
    dataset: str = ""
    decode: dict[str, Any] = field(default_factory=dict)
    tabular: dict[str, Any] | None = None


def _json(props: dict[str, str], key: str, path: str) -> Any:
    if key not in props:
        raise MtkitError(f"ONNX model '{path}' has mtkit metadata without '{key}'; it was "
                         "written by an incompatible tool. Re-export it with `mtkit export RUN "
                         "--onnx`.")
    try:
        return json.loads(props[key])
    except json.JSONDecodeError as exc:
        raise MtkitError(f"ONNX model '{path}': metadata '{key}' is not valid JSON ({exc.msg}); "
                         "re-export the model with `mtkit export RUN --onnx`.") from None


def _malformed(path: str, key: str, want: str) -> NoReturn:
    raise MtkitError(f"ONNX model '{path}': metadata '{key}' is malformed (expected {want}); the "
                     "file was edited or written by another tool. Re-export it with `mtkit export "
                     "RUN --onnx`.")


def parse(props: dict[str, str], path: str) -> ModelMeta:
    """Metadata map (as onnxruntime's ``custom_metadata_map`` returns it) → ModelMeta."""
    if PREFIX + "format" not in props:
        raise MtkitError(f"ONNX model '{path}' has no mtkit metadata (no 'mtkit.format' entry "
                         "in metadata_props), so its inputs, tasks and decoding are unknown; "
                         "export the model with `mtkit export RUN --onnx`.")
    if props[PREFIX + "format"] != FORMAT:
        raise MtkitError(f"ONNX model '{path}' uses mtkit metadata format "
                         f"{props[PREFIX + 'format']!r}; this mtkit reads format {FORMAT!r}. "
                         "Re-export it with this mtkit version.")
    inputs = _json(props, PREFIX + "inputs", path)
    names = _json(props, PREFIX + "tasks", path)
    if not (isinstance(inputs, dict) and inputs and all(
            isinstance(v, dict) and isinstance(v.get("shape"), list) and isinstance(v.get("dtype"), str)
            for v in inputs.values())):
        _malformed(path, PREFIX + "inputs", '{name: {"shape": [...], "dtype": ...}}')
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        _malformed(path, PREFIX + "tasks", "a list of task names")
    tasks = {}
    for name in names:
        info = _json(props, f"{PREFIX}task.{name}", path)
        if not isinstance(info, dict) or not isinstance(info.get("decode") or {}, dict):
            _malformed(path, f"{PREFIX}task.{name}", '{"head", "output_type", "labels", "decode"}')
        tasks[name] = TaskMeta(name=name, head=info.get("head", ""),
                               output_type=info.get("output_type", ""),
                               labels=info.get("labels"), decode=info.get("decode") or {})
    decode = _json(props, PREFIX + "decode", path) if PREFIX + "decode" in props else {}
    tabular = _json(props, PREFIX + "tabular", path) if PREFIX + "tabular" in props else None
    if tabular is not None and not (isinstance(tabular, dict) and isinstance(
            tabular.get("features"), dict) and set(tabular["features"]) == set(inputs)):
        _malformed(path, PREFIX + "tabular", '{"features": {column: {...}}} naming every input')
    return ModelMeta(version=props.get(PREFIX + "version", "?"),
                     precision=props.get(PREFIX + "precision", "fp32"), inputs=inputs,
                     tasks=tasks, dataset=props.get(PREFIX + "dataset", ""), decode=decode or {},
                     tabular=tabular)
