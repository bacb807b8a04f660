"""Export a trained run to ONNX, checked: TF↔onnxruntime parity, fp16/int8 variants.

``export_run(run, out, ExportOptions(...))`` is the whole feature; the modules each do
one step: ``source`` (open the run), ``formats`` (what a target format provides; ONNX is
the one registered), ``convert`` (tf2onnx, safely), ``metadata`` (what the runtime reads),
``parity``, ``quantize``, ``quality`` and ``pipeline`` (the order, temp files and the
report). Export builds on the runtime, the lower layer: sessions, batched runs and the
metadata keys come from ``mtkit.runtime``, which never imports the exporter.
"""

from mtkit.export.pipeline import ExportCheckError, ExportOptions, ExportResult, export_run

__all__ = ["ExportCheckError", "ExportOptions", "ExportResult", "export_run"]
