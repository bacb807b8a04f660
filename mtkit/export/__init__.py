"""Export a trained run to ONNX, checked: TF↔onnxruntime parity, fp16/int8 variants.

``export_run(run, out, ExportOptions(...))`` is the whole feature; the modules each do
one step: ``source`` (open the run), ``convert`` (tf2onnx, safely), ``metadata`` (what
the runtime reads), ``parity``, ``quantize``, ``quality`` and ``pipeline`` (the order,
temp files and the report). The runtime that loads the result is ``mtkit.runtime``.
"""

from mtkit.export.pipeline import ExportCheckError, ExportOptions, ExportResult, export_run

__all__ = ["ExportCheckError", "ExportOptions", "ExportResult", "export_run"]
