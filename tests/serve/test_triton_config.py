"""The Triton model configuration shown in docs/deployment.md is valid for Triton and fits
the model it describes.

Validity is checked against Triton's own schema: ``tests/serve/triton/model_config.proto``
is ``protobuf/model_config.proto`` from triton-inference-server/common at commit
83adf7cf88a2f343005974dff3728be746de2d66 (2026-07-23), and ``model_config_pb2.py`` was
generated from it with grpcio-tools 1.85.1 (``python -m grpc_tools.protoc -I.
--python_out=. model_config.proto``). Protobuf's text format parser refuses unknown fields
and enum values, which is what Triton does when it reads ``config.pbtxt``.
"""

from __future__ import annotations

from google.protobuf import text_format

import mtkit
from mtkit.api import DEMO_CONFIG
from tests.docs.markdown_blocks import ROOT, blocks
from tests.serve.triton import model_config_pb2

TRITON_TYPES = {"float32": "TYPE_FP32", "float16": "TYPE_FP16", "int32": "TYPE_INT32",
                "int64": "TYPE_INT64"}


def _config_block() -> str:
    found = [b.text for b in blocks(ROOT / "docs" / "deployment.md") if b.lang == "protobuf"]
    assert len(found) == 1, "docs/deployment.md should show one config.pbtxt"
    return found[0]


def test_docs_config_pbtxt_parses_with_tritons_schema():
    cfg = text_format.Parse(_config_block(), model_config_pb2.ModelConfig())
    assert cfg.backend == "onnxruntime" and cfg.max_batch_size > 0
    assert cfg.HasField("dynamic_batching")


def test_schema_check_really_refuses_mistakes():
    import pytest

    for bad in ('name: "x" backend: "onnxruntime" max_batch: 4',             # unknown field
                'input [ { name: "a", data_type: TYPE_FLOAT32, dims: [ 1 ] } ]'):  # bad enum
        with pytest.raises(text_format.ParseError):
            text_format.Parse(bad, model_config_pb2.ModelConfig())


def test_docs_config_matches_the_demo_model():
    """Names, dims and types equal the built-in demo model's inputs and task outputs."""
    cfg = text_format.Parse(_config_block(), model_config_pb2.ModelConfig())
    model = mtkit.build_model(DEMO_CONFIG)
    dtype = model_config_pb2.DataType.Name
    inputs = {t.name: (list(t.shape[1:]), TRITON_TYPES[str(t.dtype)]) for t in model.inputs}
    outputs = {name: list(out.shape[1:]) for name, out in zip(model.output_names, model.outputs,
                                                              strict=True)}
    assert {i.name: (list(i.dims), dtype(i.data_type)) for i in cfg.input} == inputs
    assert {o.name: list(o.dims) for o in cfg.output} == outputs
    assert {dtype(o.data_type) for o in cfg.output} == {"TYPE_FP32"}
