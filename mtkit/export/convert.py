"""Keras model → ONNX graph with tf2onnx, made safe: Erfc handled, bad ops refused, names fixed.

tf2onnx converts with ``continue_on_error`` and leaves any TensorFlow op it cannot map in
the graph, producing a file that only fails when a runtime loads it. Here every such op
is turned into an error naming the Keras layer it came from, and the one common case,
Keras 3's exact GELU (which lowers to TF ``Erfc``), is converted as ``1 - Erf``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from mtkit.errors import MtkitError, first_line

MIN_OPSET = 13  # per-channel QDQ quantization and the Erf op need at least this
MAX_OPSET = 18  # tf2onnx 1.17 refuses 19 and above
DEFAULT_OPSET = 17
BATCH_DIM = "batch"


def check_opset(opset: int) -> None:
    """Refuse opsets tf2onnx cannot write (or that int8 export could not use)."""
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise MtkitError(f"--opset {opset} is not supported: tf2onnx writes ONNX opsets up to "
                         f"{MAX_OPSET}, and mtkit needs at least {MIN_OPSET}; use --opset "
                         f"{DEFAULT_OPSET} (the default) or any value from {MIN_OPSET} to {MAX_OPSET}.")


def _erfc_handler(ctx: Any, node: Any, name: str, args: Any) -> Any:
    """TF ``Erfc(x)`` → ONNX ``Sub(1, Erf(x))`` (ONNX has Erf but no Erfc)."""
    from tf2onnx import utils

    np_dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.output[0]))
    node.type = "Erf"
    one = ctx.make_const(utils.make_name(f"{node.name}_one"), np.array(1, dtype=np_dtype))
    sub = ctx.insert_new_node_on_output("Sub", node.output[0],
                                        name=utils.make_name(f"{node.name}_erfc"))
    ctx.replace_inputs(sub, [one.output[0], node.output[0]])
    return node


CUSTOM_OP_HANDLERS = {"Erfc": (_erfc_handler, [])}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _quiet_tf2onnx() -> Iterator[_Collect]:
    """Silence tf2onnx's console logging for the duration, collecting its errors."""
    log = logging.getLogger("tf2onnx")
    old = (log.level, log.propagate, list(log.handlers))
    collect = _Collect()
    log.handlers = [collect]
    log.setLevel(logging.ERROR)
    log.propagate = False
    try:
        yield collect
    finally:
        log.setLevel(old[0])
        log.propagate = old[1]
        log.handlers = old[2]


def layer_names(model: Any) -> list[str]:
    """Names of every layer, nested models included (longest first, for matching)."""
    names: set[str] = set()

    def walk(layer: Any) -> None:
        names.add(layer.name)
        for sub in getattr(layer, "layers", []) or []:
            walk(sub)

    walk(model)
    return sorted(names, key=len, reverse=True)


def layer_of(node_name: str, layers: list[str]) -> str:
    """The Keras layer a converted node came from, from its TF name scope.

    TF scopes look like ``mtkit_model_1/trunk_1/mlp_act0_1/Gelu/Erfc``: Keras 3 appends
    ``_N`` to a layer's scope, so each part is matched with and without that suffix, and
    the innermost part naming a layer wins.
    """
    found = None
    for part in node_name.split("/"):
        for candidate in (part, re.sub(r"_\d+$", "", part)):
            if candidate in layers:
                found = candidate
                break
    return found or "(unknown layer)"


def _unsupported(proto: Any) -> list[tuple[str, str]]:
    """(node name, op type) of nodes that are not operators of the opsets they claim."""
    import onnx

    versions = {o.domain or "ai.onnx": o.version for o in proto.opset_import}
    bad = []
    for node in proto.graph.node:
        domain = node.domain or "ai.onnx"
        if domain not in ("ai.onnx", "ai.onnx.ml") or not onnx.defs.has(
                node.op_type, max_inclusive_version=versions.get(domain, 1), domain=node.domain):
            bad.append((node.name, node.op_type))
    return bad


def _name_batch_dim(proto: Any) -> None:
    """Give the leading dimension of every graph input and output the symbolic name ``batch``."""
    for value in list(proto.graph.input) + list(proto.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].ClearField("dim_value")
            dims[0].dim_param = BATCH_DIM
    # Intermediate shapes that tf2onnx recorded with the old symbolic names would now disagree.
    del proto.graph.value_info[:]


def check_names(proto: Any, inputs: list[str], tasks: list[str]) -> None:
    """Inputs and outputs must carry exactly the run's input and task names (set equality)."""
    got_in = [i.name for i in proto.graph.input]
    got_out = [o.name for o in proto.graph.output]
    problems = []
    if sorted(got_in) != sorted(inputs):
        problems.append(f"inputs are {got_in}, expected {sorted(inputs)}")
    if sorted(got_out) != sorted(tasks):
        problems.append(f"outputs are {got_out}, expected the task names {sorted(tasks)}")
    if problems:
        raise MtkitError("the converted ONNX graph does not keep the model's names ("
                         + "; ".join(problems) + "); the runtime matches outputs by name, so "
                         "this model cannot be exported. Check that every head's last layer is "
                         "named after its task.")


def keras_to_onnx(model: Any, inputs: dict[str, dict[str, Any]], tasks: list[str],
                  opset: int = DEFAULT_OPSET) -> Any:
    """Convert ``model`` (dict in → dict out) to a checked ONNX ``ModelProto``.

    ``inputs`` maps input name → {"shape": per-example shape, "dtype": "float32"|...}, as
    stored in run.json. Raises MtkitError naming the layer of any op that cannot be
    converted, and when input/output names do not survive conversion.
    """
    import onnx

    from mtkit.tf_import import import_tensorflow

    check_opset(opset)
    tf = import_tensorflow()
    import tf2onnx

    signature = [{name: tf.TensorSpec((None, *spec["shape"]), tf.as_dtype(spec["dtype"]), name=name)
                  for name, spec in inputs.items()}]
    # The argument's name must differ from every input name: TF renames a placeholder whose
    # TensorSpec name equals the argument's (input "x" would become "x_x").
    fn = tf.function(lambda mtkit_model_inputs: model(mtkit_model_inputs, training=False))
    with _quiet_tf2onnx() as log:
        try:
            proto, _ = tf2onnx.convert.from_function(
                fn, input_signature=signature, opset=opset,
                custom_op_handlers=dict(CUSTOM_OP_HANDLERS))
        except Exception as exc:  # tf2onnx raises bare exceptions on graphs it cannot handle
            raise MtkitError(f"tf2onnx could not convert the model at opset {opset}: "
                             f"{type(exc).__name__}: {exc}".rstrip() + ". "
                             f"{'; '.join(log.messages[:3])}") from exc
    bad = _unsupported(proto)
    if bad:
        layers = layer_names(model)
        detail = "; ".join(f"layer '{layer_of(n, layers)}' uses TF op '{op}' (node {n})"
                           for n, op in bad[:5])
        raise MtkitError(f"the model cannot be exported to ONNX: {detail}. tf2onnx has no ONNX "
                         f"equivalent for {'this op' if len(bad) == 1 else 'these ops'} at opset "
                         f"{opset}; replace the layer or activation (e.g. gelu(approximate=True)), "
                         "or register a tf2onnx handler for the op. No file was written.")
    _name_batch_dim(proto)
    check_names(proto, list(inputs), tasks)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        first = first_line(exc)
        raise MtkitError(f"the converted ONNX model is invalid ({first}); it was not "
                         "written.") from exc
    return proto
