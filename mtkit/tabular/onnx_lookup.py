"""The ONNX side of a tabular model: tf2onnx for the core, ONNX-ML LabelEncoder for lookups.

tf2onnx cannot convert Keras ``StringLookup`` ("Could not determine table shared name",
and the file it writes is refused by onnxruntime). So the model's core (numbers and
category ids in, see ``keras_model``) is converted by tf2onnx, and one ``LabelEncoder``
per category column is put in front of it: string → int64 with the same vocabulary the
Keras lookup holds (both come from the run's stored schema), ``default_int64 = 0`` for
unseen values exactly like the Keras OOV index. The export parity check then feeds raw
rows (strings, empty cells, unseen values) to both the Keras model and onnxruntime.
"""

from __future__ import annotations

from typing import Any

from mtkit.errors import MtkitError, first_line
from mtkit.tabular.keras_model import CORE, lookup_vocabulary
from mtkit.tabular.schema import FittedSchema

ML_DOMAIN = "ai.onnx.ml"
ML_OPSET = 2  # LabelEncoder with keys_strings / values_int64s / default_int64


def core_specs(schema: FittedSchema) -> dict[str, dict[str, Any]]:
    return {name: {"shape": [1], "dtype": "int64" if f.is_string else "float32"}
            for name, f in schema.features.items()}


def prepend_lookups(proto: Any, schema: FittedSchema) -> Any:
    """Make every category input of ``proto`` a string input read through a LabelEncoder."""
    from onnx import TensorProto, helper

    graph = proto.graph
    string_cols = [n for n, f in schema.features.items() if f.is_string]
    renamed = {n: f"{n}__ids" for n in string_cols}
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
    for out in graph.output:  # a graph that passes an input straight through (never here)
        if out.name in renamed:
            raise MtkitError(f"input '{out.name}' is also an output; cannot add its lookup.")
    lookups = []
    for name in string_cols:
        vocab = lookup_vocabulary(schema.features[name].vocabulary)
        lookups.append(helper.make_node(
            "LabelEncoder", [name], [renamed[name]], name=f"lookup_{name}", domain=ML_DOMAIN,
            keys_strings=vocab, values_int64s=list(range(1, len(vocab) + 1)), default_int64=0))
    for value in graph.input:
        if value.name in renamed:
            value.type.tensor_type.elem_type = TensorProto.STRING
    nodes = lookups + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    versions = {o.domain: o for o in proto.opset_import}
    if ML_DOMAIN in versions:
        versions[ML_DOMAIN].version = max(versions[ML_DOMAIN].version, ML_OPSET)
    else:
        proto.opset_import.append(helper.make_opsetid(ML_DOMAIN, ML_OPSET))
    return proto


def to_onnx(model: Any, info: dict[str, Any], tasks: list[str], opset: int) -> Any:
    """The full tabular model (raw columns in) as a checked ONNX ``ModelProto``."""
    import onnx

    from mtkit.export import convert

    schema = FittedSchema.from_json(info["tabular"])
    try:
        core = model.get_layer(CORE)
    except ValueError:
        raise MtkitError(f"the model has no '{CORE}' part, but run.json describes a table "
                         "model; the run directory is inconsistent: retrain it.") from None
    proto = convert.keras_to_onnx(core, core_specs(schema), tasks, opset)
    ir = proto.ir_version  # keep tf2onnx's IR version (onnx 1.23 would stamp one ORT refuses)
    prepend_lookups(proto, schema)
    proto.ir_version = ir
    convert.check_names(proto, list(info["inputs"]), tasks)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        first = first_line(exc)
        raise MtkitError(f"the tabular ONNX model is invalid ({first}); it was not written.") from exc
    return proto


def parity_rows(inputs: dict[str, Any], schema_json: dict[str, Any]) -> dict[str, Any]:
    """The sampled raw rows plus two edge rows: every cell missing, every category unseen."""
    import numpy as np

    schema = FittedSchema.from_json(schema_json)
    out = {}
    for name, f in schema.features.items():
        col = np.asarray(inputs[name]).reshape(-1, 1)
        if f.is_string:
            extra = np.array([[""], ["\u00a7unseen-by-mtkit\u00a7"]], dtype=object)
            out[name] = np.concatenate([col.astype(object), extra])
        else:
            fill = np.nan if f.type == "numeric" else f.mean
            extra = np.array([[fill], [f.mean + 3 * f.std]], dtype=np.float32)
            out[name] = np.concatenate([col.astype(np.float32), extra])
    return out
