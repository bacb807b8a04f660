"""``export_run``: a run directory → a checked ONNX file, or an error and no file.

Steps: open the run; convert the Keras model (``convert``); attach metadata; open an
onnxruntime session; compare TensorFlow and onnxruntime on a sample of the run's data at
two batch sizes (``parity``); for fp16/int8, build the variant and compare its test
metrics with fp32 (``quality``). The model is written to a temporary name beside the
target and renamed only when every check passed; a JSON report goes beside it either way.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mtkit import rundir
from mtkit.data import sample
from mtkit.errors import MtkitError, first_line
from mtkit.export import convert, metadata, parity, quality, quantize
from mtkit.export.session import cpu_session
from mtkit.export.source import RunSource, load_keras, open_run


class ExportCheckError(MtkitError):
    """A check failed (parity or metrics): the export itself worked but is not trustworthy."""

    exit_code = 1

    def __init__(self, message: str, table: str) -> None:
        super().__init__(message)
        self.table = table


FP32_TOLERANCE = 1e-5
MIXED_TOLERANCE = 1e-2
"""Default parity rtol = atol for a run trained with ``train.mixed_precision``: its layers
compute in float16 (about 3 significant digits), and TensorFlow and onnxruntime round
float16 intermediates differently; measured differences are ~6e-4 absolute."""


@dataclass
class ExportOptions:
    opset: int = convert.DEFAULT_OPSET
    precision: str = "fp32"
    check: bool = True
    rtol: float | None = None  # None: FP32_TOLERANCE, or MIXED_TOLERANCE for mixed precision
    atol: float | None = None
    batch_sizes: tuple[int, ...] = (1, 32)
    sample_rows: int = 64
    calibration_rows: int = 256
    max_metric_drop: float = 0.02


@dataclass
class ExportResult:
    path: Path
    report_path: Path
    report: dict[str, Any]
    tables: list[str] = field(default_factory=list)


def default_output(run: Path, precision: str) -> Path:
    return run / ("model.onnx" if precision == "fp32" else f"model.{precision}.onnx")


def report_path(out: Path) -> Path:
    """``model.onnx`` → ``model.report.json`` (beside the model)."""
    return out.with_name(f"{out.stem if out.suffix == '.onnx' else out.name}.report.json")


def _load_data(src: RunSource) -> tuple[Any, Any]:
    """The run's plan and splits, rebuilt from its saved config (same seed → same splits)."""
    from mtkit.api import plan as make_plan
    from mtkit.dataprep import prepare

    if not src.config_path.is_file():
        raise MtkitError(f"run directory '{src.run}' has no {rundir.CONFIG}, so its data cannot "
                         "be loaded for the parity check; pass --no-check to skip it.")
    plan = make_plan(src.config_path)
    splits, _ = prepare(plan)
    return plan, splits


def _save(proto: Any, path: Path) -> None:
    import onnx

    onnx.save(proto, str(path))


def _checked_file(proto: Any, directory: Path, stem: str) -> tuple[Path, Any]:
    """Write ``proto`` to a temp file in ``directory``, validate it and open a session."""
    import onnx

    fd, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp.onnx", dir=directory)
    os.close(fd)
    path = Path(name)
    _save(proto, path)
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except onnx.checker.ValidationError as exc:
        path.unlink(missing_ok=True)
        raise MtkitError(f"the exported model fails onnx.checker ({first_line(exc, 300)}); "
                         "nothing was written.") from None
    try:
        session = cpu_session(path)
    except MtkitError:
        path.unlink(missing_ok=True)
        raise
    return path, session


def export_run(run: str | Path, out: str | Path | None = None,
               options: ExportOptions | None = None) -> ExportResult:
    """Export run directory ``run`` to ONNX; see the module docstring for the steps."""
    opt = options or ExportOptions()
    convert.check_opset(opt.opset)
    if opt.precision not in quantize.PRECISIONS:
        raise MtkitError(f"precision '{opt.precision}' is unknown; use one of "
                         f"{', '.join(quantize.PRECISIONS)}.")
    src = open_run(run)
    target = Path(out) if out is not None else default_output(src.run, opt.precision)
    if target.is_dir():
        raise MtkitError(f"output path '{target}' is a directory; give a file name such as "
                         f"{target / 'model.onnx'}.")
    target.parent.mkdir(parents=True, exist_ok=True)
    need_data = opt.check or opt.precision != "fp32"
    plan, splits = _load_data(src) if need_data else (None, None)
    model = load_keras(src.model_path)
    mixed = bool(plan is not None and plan.config.train.mixed_precision)
    default_tol = MIXED_TOLERANCE if mixed else FP32_TOLERANCE
    opt = replace(opt, rtol=default_tol if opt.rtol is None else opt.rtol,
                  atol=default_tol if opt.atol is None else opt.atol)

    tabular = src.info.get("tabular")  # a table model: raw columns in, lookups rebuilt in ONNX
    if tabular is not None and opt.precision != "fp32":
        raise MtkitError(f"--precision {opt.precision} is not available for a table model yet "
                         "(its string inputs cannot be calibrated or cast); export fp32 (the "
                         "default).")
    if tabular is not None:
        from mtkit.tabular.onnx_lookup import parity_rows, to_onnx

        proto = to_onnx(model, src.info, src.tasks, opt.opset)
    else:
        proto = convert.keras_to_onnx(model, src.info["inputs"], src.tasks, opt.opset)
    metadata.attach(proto, src.info, "fp32")
    temps: list[Path] = []
    report: dict[str, Any] = {"run": str(src.run), "output": str(target), "opset": opt.opset,
                              "precision": opt.precision, "passed": False}
    tables: list[str] = []
    failures: list[str] = []
    try:
        fp32_path, fp32_session = _checked_file(proto, target.parent, target.name)
        temps.append(fp32_path)
        final_path = fp32_path
        if opt.check:
            held = next(a for a in (splits.test, splits.val, splits.train) if a is not None)
            raw = sample(held, opt.sample_rows).inputs
            rows_in = (parity_rows(raw, tabular) if tabular is not None
                       else parity.cast_inputs(raw, src.info["inputs"]))
            rows = parity.check(model, fp32_session, rows_in, src.info["tasks"], opt.batch_sizes,
                                opt.rtol, opt.atol)
            report["parity"] = {"rtol": opt.rtol, "atol": opt.atol,
                                "rows": len(next(iter(rows_in.values()))),
                                "batch_sizes": list(opt.batch_sizes), "tasks": parity.as_json(rows)}
            tables.append(parity.table(rows, opt.rtol, opt.atol))
            bad = sorted({r.task for r in rows if not r.ok})
            if bad:
                failures.append(f"TensorFlow and onnxruntime disagree beyond rtol={opt.rtol:g}, "
                                f"atol={opt.atol:g} on task(s) {', '.join(bad)}")
        if opt.precision != "fp32" and not failures:
            reduced = _reduced(opt, src, plan, splits, fp32_path, fp32_session)
            temps.append(reduced.path)
            report["quality"] = reduced.report
            tables.append(reduced.table)
            failures += reduced.failures
            final_path = reduced.path
        report["passed"] = not failures
        rundir.write_json(report_path(target), report)
        if failures:
            stale = target.is_file()
            if stale:  # an older export there would no longer match this run's checks
                target.unlink()
            raise ExportCheckError(
                f"export check failed: {'; '.join(failures)}. No model was written to '{target}'"
                f"{' (the older file there was removed)' if stale else ''}; "
                f"the per-task report is in '{report_path(target)}'. Loosen the tolerances "
                "(--rtol/--atol, --max-metric-drop) only if the differences are acceptable.",
                "\n\n".join(tables))
        os.replace(final_path, target)
        return ExportResult(path=target, report_path=report_path(target), report=report,
                            tables=tables)
    finally:
        for t in temps:
            t.unlink(missing_ok=True)


@dataclass
class ReducedModel:
    """The fp16/int8 variant (a temp file) and the verdict of its metric check."""

    path: Path
    report: dict[str, Any]
    table: str
    failures: list[str]


def _reduced(opt: ExportOptions, src: RunSource, plan: Any, splits: Any, fp32_path: Path,
             fp32_session: Any) -> ReducedModel:
    """Build the fp16/int8 variant, check it opens, judge its test metrics against fp32.

    The caller owns the temp file (``path``) from the moment this returns."""
    import onnx

    specs = src.info["inputs"]
    if opt.precision == "fp16":
        reduced = quantize.to_fp16(onnx.load(str(fp32_path)))
    else:
        # Calibrate on training rows; a dataset that stores larger train inputs and crops
        # them in `augment` (SVHN: 64x64 stored, 54x54 fed) calibrates on validation rows.
        fits = all(list(v.shape[1:]) == list(specs[k]["shape"])
                   for k, v in splits.train.inputs.items())
        source = splits.train if fits or splits.val is None else splits.val
        calib = parity.cast_inputs(sample(source, opt.calibration_rows, seed=1).inputs, specs)
        reduced = quantize.to_int8(fp32_path, calib)
    metadata.attach(reduced, src.info, opt.precision)
    held = splits.test if splits.test is not None else splits.val
    if held is None:
        raise MtkitError(f"run '{src.run}' has no test or validation split to judge the "
                         f"{opt.precision} model on; set train.test_fraction > 0 and retrain.")
    path, session = _checked_file(reduced, fp32_path.parent, f"{fp32_path.name}.{opt.precision}")
    try:
        inputs = parity.cast_inputs(held.inputs, specs)
        base = quality.onnx_scores(plan, fp32_session, inputs, held.labels)
        other = quality.onnx_scores(plan, session, inputs, held.labels)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    rows = quality.deltas(base, other, opt.max_metric_drop)
    bad = [f"{r['task']}.{r['metric']}" for r in rows if not r["ok"]]
    return ReducedModel(
        path=path,
        report={"split": "test" if splits.test is not None else "validation",
                "max_metric_drop": opt.max_metric_drop, "metrics": rows,
                "size_bytes": {"fp32": fp32_path.stat().st_size,
                               opt.precision: path.stat().st_size}},
        table=quality.table(rows, opt.precision, opt.max_metric_drop),
        failures=[f"the {opt.precision} model loses too much on {', '.join(bad)} "
                  f"(more than {opt.max_metric_drop:g})"] if bad else [])
