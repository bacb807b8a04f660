"""Write the mtkit metadata into an ONNX model (``metadata_props``).

The reader, and the description of every key, is ``mtkit.runtime.metadata``; the two
are kept in step by a round-trip test (the runtime may not import the exporter).
"""

from __future__ import annotations

import json
from typing import Any

FORMAT = "1"


def metadata_props(info: dict[str, Any], precision: str = "fp32") -> dict[str, str]:
    """run.json content → the string key/value pairs stored in the ONNX file."""
    import mtkit

    props = {
        "mtkit.format": FORMAT,
        "mtkit.version": mtkit.__version__,
        "mtkit.precision": precision,
        "mtkit.inputs": json.dumps(info["inputs"]),
        "mtkit.tasks": json.dumps(list(info["tasks"])),
        "mtkit.dataset": str(info.get("dataset", {}).get("name", "")),
        "mtkit.decode": json.dumps(info.get("dataset", {}).get("decode") or {}),
    }
    if info.get("tabular"):  # a table model: how raw rows become its inputs
        props["mtkit.tabular"] = json.dumps(info["tabular"])
    for name, task in info["tasks"].items():
        decode = task.get("decode") or {"type": task.get("output_type", "")}
        props[f"mtkit.task.{name}"] = json.dumps({
            "head": task.get("head", ""),
            "output_type": task.get("output_type", ""),
            "labels": decode.get("labels"),
            "decode": decode,
        })
    return props


def attach(proto: Any, info: dict[str, Any], precision: str = "fp32") -> Any:
    """Replace any mtkit entries in ``proto.metadata_props`` with fresh ones; returns proto."""
    keep = [(p.key, p.value) for p in proto.metadata_props if not p.key.startswith("mtkit.")]
    del proto.metadata_props[:]
    for key, value in keep + sorted(metadata_props(info, precision).items()):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = ("Exported by mtkit: outputs are named after the tasks; see the "
                        "mtkit.* metadata for inputs, heads and decoding.")
    return proto
