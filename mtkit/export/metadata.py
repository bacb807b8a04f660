"""Attach the mtkit metadata to an ONNX model (``metadata_props``).

The keys, their writer (``metadata_props``) and their reader are one module,
``mtkit.runtime.metadata``; this only puts the pairs into a ``ModelProto``.
"""

from __future__ import annotations

from typing import Any

from mtkit.runtime.metadata import FORMAT, PREFIX, metadata_props

__all__ = ["FORMAT", "attach", "metadata_props"]


def attach(proto: Any, info: dict[str, Any], precision: str = "fp32") -> Any:
    """Replace any mtkit entries in ``proto.metadata_props`` with fresh ones; returns proto."""
    keep = [(p.key, p.value) for p in proto.metadata_props if not p.key.startswith(PREFIX)]
    del proto.metadata_props[:]
    for key, value in keep + sorted(metadata_props(info, precision).items()):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = ("Exported by mtkit: outputs are named after the tasks; see the "
                        "mtkit.* metadata for inputs, heads and decoding.")
    return proto
