"""Smaller ONNX variants of an fp32 export: fp16 weights, or static int8 (QDQ) quantization.

Both keep fp32 inputs and outputs, so a ``Predictor`` feeds them exactly like the fp32
model. int8 is calibrated on the run's own training data (activation ranges by MinMax),
with per-channel weight scales, and quantizes only what gets faster in int8 on a CPU
(``int8_op_types``): convolutions and the ops between them. Dense layers and output
activations stay fp32 in a model with convolutions — measured (docs/export.md):
onnxruntime dequantizes the weights of every int8 ``Gemm`` it cannot fuse on every run,
small head layers lose more in quantize/dequantize steps than they gain, and a
quantized softmax rounds probabilities to 1/256.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mtkit.errors import MtkitError

PRECISIONS = ("fp32", "fp16", "int8")
CONV_OPS = ("Conv", "ConvTranspose")
CONV_REGION_OPS = ("MaxPool", "AveragePool", "GlobalAveragePool", "Relu", "Clip")
"""Ops kept in int8 between convolutions, so the int8 region does not dequantize and
requantize around each of them (onnxruntime has int8 NHWC kernels for all of them)."""
DENSE_OPS = ("Gemm", "MatMul")


def to_fp16(proto: Any) -> Any:
    """Weights and activations in float16; inputs/outputs stay float32 (casts at the edges)."""
    from onnxconverter_common import float16

    with warnings.catch_warnings():  # it warns for every weight below fp16's range (expected)
        warnings.simplefilter("ignore", UserWarning)
        return float16.convert_float_to_float16(proto, keep_io_types=True)


def _calibration_reader(inputs: dict[str, np.ndarray], batch_size: int) -> Any:
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        """Feeds the calibration rows batch by batch, by input name."""

        def __init__(self) -> None:
            n = len(next(iter(inputs.values())))
            self.batches: Iterator[dict[str, np.ndarray]] = iter(
                [{k: v[i:i + batch_size] for k, v in inputs.items()}
                 for i in range(0, n, batch_size)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    return Reader()


def int8_op_types(proto: Any) -> list[str]:
    """Op types to quantize: the convolution region when the model has convolutions, else
    the dense layers (int8 then mainly shrinks the file: on a CPU, dense-only models run
    1.4-2.4x slower in int8 than in fp32 at the sizes measured, see docs/export.md)."""
    ops = {n.op_type for n in proto.graph.node}
    if ops & set(CONV_OPS):
        return [*CONV_OPS, *CONV_REGION_OPS]
    return list(DENSE_OPS)


def to_int8(fp32_path: Path, calibration: dict[str, np.ndarray], batch_size: int = 32) -> Any:
    """Static QDQ int8 model (a ModelProto) from the fp32 file, calibrated on ``calibration``.

    QDQ rather than QOperator: onnxruntime fuses QDQ pairs into its int8 NHWC kernels
    (QLinearConv with VNNI/AMX where the CPU has them); the QOperator file measured 10x
    slower than QDQ on the demo CNN. Per-channel weight scales (accuracy, no cost), signed
    int8 weights and unsigned activations (onnxruntime's fast u8s8 path), MinMax ranges.
    """
    import onnx
    from onnxruntime.quantization import QuantFormat, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    quant_log = logging.getLogger("onnxruntime")
    level = quant_log.level
    quant_log.setLevel(logging.ERROR)
    root_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # the quantizer also logs to the root logger
    try:
        with tempfile.TemporaryDirectory(prefix="mtkit-int8-") as tmp:
            pre = Path(tmp) / "pre.onnx"
            out = Path(tmp) / "int8.onnx"
            quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
            quantize_static(str(pre), str(out), _calibration_reader(calibration, batch_size),
                            quant_format=QuantFormat.QDQ, per_channel=True,
                            op_types_to_quantize=int8_op_types(onnx.load(str(pre))))
            return onnx.load(str(out))
    except MtkitError:
        raise
    except Exception as exc:  # the quantizer raises assorted errors on graphs it cannot handle
        raise MtkitError(f"int8 quantization failed ({type(exc).__name__}: {exc}); export fp32 "
                         "or --fp16 instead. No file was written.") from exc
    finally:
        quant_log.setLevel(level)
        logging.getLogger().setLevel(root_level)
