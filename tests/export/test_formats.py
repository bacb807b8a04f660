"""The export-format seam: ``export_run`` reaches the file only through an ``ExportFormat``,
so a second format plugs in as one object in ``FORMATS``; int8 picks the ops that pay."""

from __future__ import annotations

import pytest
from onnx import TensorProto, helper

from mtkit.errors import MtkitError
from mtkit.export import ExportOptions, export_run, formats
from mtkit.export.quantize import int8_op_types
from tests.export.fixtures import copy_run


class Recording(formats.OnnxFormat):
    """The ONNX format under another name and suffix, recording the steps it is asked for."""

    name = "recording"
    suffix = ".rec.onnx"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def convert(self, model, info, opset):
        self.calls.append("convert")
        return super().convert(model, info, opset)

    def attach_metadata(self, artifact, info, precision):
        self.calls.append(f"metadata:{precision}")
        return super().attach_metadata(artifact, info, precision)

    def save(self, artifact, path):
        self.calls.append("save")
        super().save(artifact, path)

    def validate(self, path):
        self.calls.append("validate")
        super().validate(path)

    def open(self, path):
        self.calls.append("open")
        return super().open(path)


def test_a_registered_format_is_used_end_to_end(trained_run, tmp_path, monkeypatch):
    fmt = Recording()
    monkeypatch.setitem(formats.FORMATS, fmt.name, fmt)
    run = copy_run(trained_run, tmp_path / "run")
    result = export_run(run, None, ExportOptions(format="recording"))
    assert result.path == run / "model.rec.onnx" and result.path.is_file()
    assert result.report["passed"]
    assert fmt.calls == ["convert", "metadata:fp32", "save", "validate", "open"]


def test_unknown_format_is_refused_with_the_known_ones(trained_run):
    with pytest.raises(MtkitError, match="export format 'tflite' is unknown; use one of onnx"):
        export_run(trained_run, None, ExportOptions(format="tflite"))


def _graph(*ops: str) -> object:
    nodes = [helper.make_node(op, ["x"], [f"y{i}"]) for i, op in enumerate(ops)]
    return helper.make_model(helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, [1, 1]) for i in range(len(ops))]))


def test_int8_quantizes_the_convolution_region_else_the_dense_layers():
    conv = int8_op_types(_graph("Conv", "Relu", "MaxPool", "MatMul", "Softmax"))
    assert "Conv" in conv and "MaxPool" in conv
    assert not {"MatMul", "Gemm", "Softmax"} & set(conv)  # slower in int8 on a CPU (measured)
    assert set(int8_op_types(_graph("MatMul", "Add", "Softmax"))) == {"Gemm", "MatMul"}
