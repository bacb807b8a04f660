"""Export formats: what ``export_run`` needs from a target format, and the ONNX one.

``export_run`` owns the order of the steps, the temp files, the parity and metric checks and
the report; a format owns the file: converting the Keras model, attaching mtkit's metadata,
writing and validating it, the reduced-precision variants, and opening a session the checks
run it through (any object with ``get_outputs()`` — items with ``.name`` — and
``run(names, feed)``, as onnxruntime's is). A second format is one module implementing
``ExportFormat`` plus one entry in ``FORMATS``; parity, quality and the pipeline do not change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from mtkit.errors import MtkitError, first_line


class ExportFormat(Protocol):
    """One export target (see the module docstring)."""

    name: str
    suffix: str  # file suffix of the default output, e.g. ".onnx"
    precisions: tuple[str, ...]  # "fp32" first; the others are built from the fp32 file

    def convert(self, model: Any, info: dict[str, Any], opset: int) -> Any:
        """The Keras model → an in-memory artifact (raise MtkitError naming the layer)."""

    def attach_metadata(self, artifact: Any, info: dict[str, Any], precision: str) -> Any:
        """Store what the runtime needs to read the file (inputs, tasks, decoding)."""

    def save(self, artifact: Any, path: Path) -> None:
        """Write the artifact to ``path`` (a temporary name; the pipeline renames it)."""

    def validate(self, path: Path) -> None:
        """Raise MtkitError when the written file is not valid in this format."""

    def open(self, path: Path) -> Any:
        """A session on ``path`` exactly as the runtime would run it (CPU)."""

    def reduce(self, precision: str, fp32_path: Path,
               calibration: dict[str, np.ndarray] | None) -> Any:
        """The ``precision`` variant of the fp32 file, as an artifact."""


class OnnxFormat:
    """ONNX through tf2onnx, run by onnxruntime (``mtkit.runtime``)."""

    name = "onnx"
    suffix = ".onnx"
    precisions = ("fp32", "fp16", "int8")

    def convert(self, model: Any, info: dict[str, Any], opset: int) -> Any:
        from mtkit.export.convert import keras_to_onnx

        return keras_to_onnx(model, info["inputs"], list(info["tasks"]), opset)

    def attach_metadata(self, artifact: Any, info: dict[str, Any], precision: str) -> Any:
        from mtkit.export.metadata import attach

        return attach(artifact, info, precision)

    def save(self, artifact: Any, path: Path) -> None:
        import onnx

        onnx.save(artifact, str(path))

    def validate(self, path: Path) -> None:
        import onnx

        try:
            onnx.checker.check_model(str(path), full_check=True)
        except onnx.checker.ValidationError as exc:
            raise MtkitError(f"the exported model fails onnx.checker ({first_line(exc, 300)}); "
                             "nothing was written.") from None

    def open(self, path: Path) -> Any:
        from mtkit.runtime.session import SessionOpenError, open_session

        try:  # the checks run the model exactly as the runtime will (same session settings)
            return open_session(path, provider="cpu")
        except SessionOpenError as exc:
            raise MtkitError(f"onnxruntime cannot open the exported model ({exc.reason}); "
                             "nothing was written. This is a converter problem: please report "
                             "it with the model's config.") from None

    def reduce(self, precision: str, fp32_path: Path,
               calibration: dict[str, np.ndarray] | None) -> Any:
        import onnx

        from mtkit.export import quantize

        if precision == "fp16":
            return quantize.to_fp16(onnx.load(str(fp32_path)))
        if precision == "int8" and calibration is not None:
            return quantize.to_int8(fp32_path, calibration)
        raise MtkitError(f"precision '{precision}' needs calibration rows or is not an ONNX "
                         f"variant; use one of {', '.join(self.precisions)}.")


FORMATS: dict[str, ExportFormat] = {"onnx": OnnxFormat()}


def get(name: str) -> ExportFormat:
    """The registered format ``name``, or a clear error listing the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise MtkitError(f"export format '{name}' is unknown; use one of "
                         f"{', '.join(FORMATS)}.") from None
