"""``mtkit export RUN --onnx``: a run's Keras model → a checked ONNX file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mtkit.commands._common import check_path_text, run_guarded

DEFAULT_OPSET = 17  # keep in step with mtkit.export.convert.DEFAULT_OPSET (not imported: slow)


def export(
    run: Annotated[Path, typer.Argument(help="Run directory written by `mtkit train`.")],
    onnx: Annotated[bool, typer.Option("--onnx", help="Export to ONNX (the only format).")] = True,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o",
        help="Output file; default RUN/model.onnx (model.fp16.onnx, model.int8.onnx).")] = None,
    opset: Annotated[int, typer.Option(help="ONNX opset, 13 to 18.")] = DEFAULT_OPSET,
    fp16: Annotated[bool, typer.Option("--fp16", help="float16 weights (fp32 inputs/outputs).")] = False,
    int8: Annotated[bool, typer.Option(
        "--int8", help="Static int8 (QDQ), calibrated on the run's training data.")] = False,
    check: Annotated[bool, typer.Option(
        "--check/--no-check", help="TF vs onnxruntime parity on the run's data.")] = True,
    rtol: Annotated[float | None, typer.Option(
        help="Parity relative tolerance; default 1e-5 (1e-2 for mixed-precision runs).")] = None,
    atol: Annotated[float | None, typer.Option(
        help="Parity absolute tolerance; default 1e-5 (1e-2 for mixed-precision runs).")] = None,
    max_metric_drop: Annotated[float, typer.Option(
        help="fp16/int8: largest accepted metric loss vs fp32 (absolute for accuracy-like "
             "metrics, relative for errors).")] = 0.02,
) -> None:
    """Export a trained run to ONNX, checked against TensorFlow on the run's own data."""

    def go() -> None:
        from mtkit.errors import MtkitError

        if not onnx:
            raise MtkitError("ONNX is the only export format; drop --no-onnx.")
        if fp16 and int8:
            raise MtkitError("--fp16 and --int8 exclude each other; export one variant per call.")
        import math

        for name, value in (("--rtol", rtol), ("--atol", atol),
                            ("--max-metric-drop", max_metric_drop)):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise MtkitError(f"{name} {value} is not a valid tolerance: it must be a finite "
                                 "number >= 0 (e.g. 1e-5). Nothing was changed.")
        check_path_text(run, "run directory")
        check_path_text(out, "--out")
        from mtkit.export import ExportOptions, export_run

        precision = "fp16" if fp16 else "int8" if int8 else "fp32"
        result = export_run(run, out, ExportOptions(opset=opset, precision=precision, check=check,
                                                    rtol=rtol, atol=atol,
                                                    max_metric_drop=max_metric_drop))
        for table in result.tables:
            typer.echo(table + "\n")
        typer.echo(f"wrote {result.path} ({precision}, opset {opset}); report: {result.report_path}")

    run_guarded(go)
