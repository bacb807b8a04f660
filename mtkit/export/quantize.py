"""Smaller ONNX variants of an fp32 export: fp16 weights, or static int8 (QDQ) quantization.

Both keep fp32 inputs and outputs, so a ``Predictor`` feeds them exactly like the fp32
model. int8 is calibrated on the run's own training data (activation ranges by MinMax),
with per-channel weight scales.
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


def to_int8(fp32_path: Path, calibration: dict[str, np.ndarray], batch_size: int = 32) -> Any:
    """Static QDQ int8 model (a ModelProto) from the fp32 file, calibrated on ``calibration``."""
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
                            quant_format=QuantFormat.QDQ, per_channel=True)
            return onnx.load(str(out))
    except MtkitError:
        raise
    except Exception as exc:  # the quantizer raises assorted errors on graphs it cannot handle
        raise MtkitError(f"int8 quantization failed ({type(exc).__name__}: {exc}); export fp32 "
                         "or --fp16 instead. No file was written.") from exc
    finally:
        quant_log.setLevel(level)
        logging.getLogger().setLevel(root_level)
