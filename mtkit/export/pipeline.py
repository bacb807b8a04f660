"""``export_run``: a run directory → a checked ONNX file, or an error and no file.

Steps: open the run; convert the Keras model (``convert``); attach metadata; open an
onnxruntime session; compare TensorFlow and onnxruntime on a sample of the run's data at
two batch sizes (``parity``); for fp16/int8, build the variant and compare its test
metrics with fp32 (``quality``). The model is written to a temporary name beside the
target and renamed only when every check passed; a JSON report goes beside it either way.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mtkit import rundir
from mtkit.data import sample
from mtkit.errors import MtkitError
from mtkit.export import convert, formats, parity, quality
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
    format: str = "onnx"  # a key of mtkit.export.formats.FORMATS
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


def default_output(run: Path, precision: str, suffix: str = ".onnx") -> Path:
    return run / (f"model{suffix}" if precision == "fp32" else f"model.{precision}{suffix}")


def report_path(out: Path, failed: bool = False) -> Path:
    """``model.onnx`` → ``model.report.json`` (beside the model); a failed export's report
    is ``model.failed.report.json``, so the report of an older good export stays."""
    kind = ".failed" if failed else ""
    return out.with_name(f"{out.stem if out.suffix == '.onnx' else out.name}{kind}.report.json")


def check_tolerances(opt: ExportOptions) -> None:
    """Tolerances are finite and >= 0: NaN would make every comparison fail (and "inf"
    every one pass), so refuse them before anything is read or written."""
    for name, value in (("--rtol", opt.rtol), ("--atol", opt.atol),
                        ("--max-metric-drop", opt.max_metric_drop)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise MtkitError(f"{name} {value} is not a valid tolerance: it must be a finite "
                             "number >= 0 (e.g. 1e-5). Nothing was changed.")


def _is_onnx(path: Path) -> bool:
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # protobuf DecodeError, OSError, ...: not an ONNX file
        return False
    return bool(model.graph.node) or bool(model.graph.output)


def check_target(target: Path) -> None:
    """Export writes ONNX files only, and only over ONNX files: never over the run's own
    files (model.keras, config.yaml, ...), a data file, or any other kind of file."""
    if target.is_dir():
        raise MtkitError(f"output path '{target}' is a directory; give a file name such as "
                         f"{target / 'model.onnx'}.")
    if target.suffix.lower() != ".onnx":
        raise MtkitError(f"--out '{target}' does not end in .onnx; export writes ONNX models "
                         "only, and refuses other names so that it can never replace a file of "
                         "another kind (such as the run's model.keras). Nothing was changed.")
    if target.exists() and not target.is_file():
        raise MtkitError(f"--out '{target}' exists and is not a regular file; choose another "
                         "--out. Nothing was changed.")
    if target.is_file() and not _is_onnx(target):
        raise MtkitError(f"--out '{target}' exists and is not an ONNX model; export replaces "
                         "only an older ONNX export. Move that file away or choose another "
                         "--out. Nothing was changed.")
    report = report_path(target)
    if report.exists():
        try:
            ok = report.is_file() and {"output", "precision", "passed"} <= set(
                rundir.read_json(report))
        except (ValueError, TypeError, OSError):
            ok = False
        if not ok:
            raise MtkitError(f"'{report}' (the report file of --out '{target}') exists and is "
                             "not an mtkit export report; export would replace it. Move it away "
                             "or choose another --out. Nothing was changed.")


TEMP_MARK = ".mtkit-export-"


def remove_stale_temps(directory: Path) -> list[Path]:
    """Temp files of exports that were killed (their pid is dead), beside the target."""
    from mtkit.run_guard import _pid_alive

    stale = []
    for p in directory.glob(f".*{TEMP_MARK}*.tmp.onnx"):
        pid = p.name.split(TEMP_MARK, 1)[1].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            p.unlink(missing_ok=True)
            stale.append(p)
    return stale


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


def _checked_file(fmt: formats.ExportFormat, artifact: Any, directory: Path,
                  stem: str) -> tuple[Path, Any]:
    """Write ``artifact`` to a temp file in ``directory``, validate it and open a session.

    The temp name carries this process's pid, so a later export can tell a killed
    export's leftover (``remove_stale_temps``) from a running one's file."""
    fd, name = tempfile.mkstemp(prefix=f".{stem}{TEMP_MARK}{os.getpid()}.",
                                suffix=f".tmp{fmt.suffix}", dir=directory)
    os.close(fd)
    path = Path(name)
    try:
        fmt.save(artifact, path)
        fmt.validate(path)
        return path, fmt.open(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _convert(fmt: formats.ExportFormat, opt: ExportOptions, src: RunSource, model: Any) -> Any:
    """The Keras model as ONNX; a table model gets its lookups rebuilt as ONNX ops."""
    tabular = src.info.get("tabular")  # a table model: raw columns in, lookups rebuilt in ONNX
    if tabular is None:
        return fmt.convert(model, src.info, opt.opset)
    if opt.precision != "fp32":
        raise MtkitError(f"--precision {opt.precision} is not available for a table model yet "
                         "(its string inputs cannot be calibrated or cast); export fp32 (the "
                         "default).")
    from mtkit.tabular.onnx_lookup import to_onnx

    return to_onnx(model, src.info, src.tasks, opt.opset)


def _check_parity(opt: ExportOptions, src: RunSource, plan: Any, splits: Any, model: Any,
                  session: Any) -> tuple[dict[str, Any], str, list[str]]:
    """TensorFlow vs onnxruntime on sampled held-out rows: (report part, table, failures)."""
    held = next(a for a in (splits.test, splits.val, splits.train) if a is not None)
    raw = sample(held, opt.sample_rows).inputs
    tabular = src.info.get("tabular")
    if tabular is not None:
        from mtkit.tabular.onnx_lookup import parity_rows

        rows_in = parity_rows(raw, tabular)
    else:
        rows_in = parity.cast_inputs(raw, src.info["inputs"])
    heads = {name: plan.tasks[name].head for name in src.info["tasks"]}
    rows = parity.check(model, session, rows_in, heads, opt.batch_sizes, opt.rtol, opt.atol)
    part = {"rtol": opt.rtol, "atol": opt.atol, "rows": len(next(iter(rows_in.values()))),
            "batch_sizes": list(opt.batch_sizes), "tasks": parity.as_json(rows)}
    bad = sorted({r.task for r in rows if not r.ok})
    failures = [f"TensorFlow and onnxruntime disagree beyond rtol={opt.rtol:g}, "
                f"atol={opt.atol:g} on task(s) {', '.join(bad)}"] if bad else []
    return part, parity.table(rows, opt.rtol, opt.atol), failures


def export_run(run: str | Path, out: str | Path | None = None,
               options: ExportOptions | None = None) -> ExportResult:
    """Export run directory ``run`` to ONNX; see the module docstring for the steps."""
    opt = options or ExportOptions()
    check_tolerances(opt)
    fmt = formats.get(opt.format)
    convert.check_opset(opt.opset)
    if opt.precision not in fmt.precisions:
        raise MtkitError(f"precision '{opt.precision}' is unknown; use one of "
                         f"{', '.join(fmt.precisions)}.")
    src = open_run(run)
    target = Path(out) if out is not None else default_output(src.run, opt.precision, fmt.suffix)
    check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target.parent)
    need_data = opt.check or opt.precision != "fp32"
    plan, splits = _load_data(src) if need_data else (None, None)
    model = load_keras(src.model_path)
    mixed = bool(plan is not None and plan.config.train.mixed_precision)
    default_tol = MIXED_TOLERANCE if mixed else FP32_TOLERANCE
    opt = replace(opt, rtol=default_tol if opt.rtol is None else opt.rtol,
                  atol=default_tol if opt.atol is None else opt.atol)

    proto = fmt.attach_metadata(_convert(fmt, opt, src, model), src.info, "fp32")
    temps: list[Path] = []
    report: dict[str, Any] = {"run": str(src.run), "output": str(target), "opset": opt.opset,
                              "precision": opt.precision, "passed": False}
    tables: list[str] = []
    failures: list[str] = []
    try:
        fp32_path, fp32_session = _checked_file(fmt, proto, target.parent, target.name)
        temps.append(fp32_path)
        final_path = fp32_path
        if opt.check:
            report["parity"], table, failure = _check_parity(opt, src, plan, splits, model,
                                                             fp32_session)
            tables.append(table)
            failures += failure
        if opt.precision != "fp32" and not failures:
            reduced = _reduced(fmt, opt, src, plan, splits, fp32_path, fp32_session)
            temps.append(reduced.path)
            report["quality"] = reduced.report
            tables.append(reduced.table)
            failures += reduced.failures
            final_path = reduced.path
        report["passed"] = not failures
        rundir.write_json(report_path(target, failed=bool(failures)), report)
        if failures:
            older = target.is_file()
            raise ExportCheckError(
                f"export check failed: {'; '.join(failures)}. No model was written to '{target}'"
                f"{' (the older export there is unchanged)' if older else ''}; "
                f"the per-task report is in '{report_path(target, failed=True)}'. Loosen the "
                "tolerances (--rtol/--atol, --max-metric-drop) only if the differences are "
                "acceptable.", "\n\n".join(tables))
        report_path(target, failed=True).unlink(missing_ok=True)  # an earlier failure's
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


def _reduced(fmt: formats.ExportFormat, opt: ExportOptions, src: RunSource, plan: Any,
             splits: Any, fp32_path: Path, fp32_session: Any) -> ReducedModel:
    """Build the fp16/int8 variant, check it opens, judge its test metrics against fp32.

    The caller owns the temp file (``path``) from the moment this returns."""
    specs = src.info["inputs"]
    calib = None
    if opt.precision == "int8":
        # Calibrate on training rows; a dataset that stores larger train inputs and crops
        # them in `augment` (SVHN: 64x64 stored, 54x54 fed) calibrates on validation rows.
        fits = all(list(v.shape[1:]) == list(specs[k]["shape"])
                   for k, v in splits.train.inputs.items())
        source = splits.train if fits or splits.val is None else splits.val
        calib = parity.cast_inputs(sample(source, opt.calibration_rows, seed=1).inputs, specs)
    reduced = fmt.attach_metadata(fmt.reduce(opt.precision, fp32_path, calib), src.info,
                                  opt.precision)
    held = splits.test if splits.test is not None else splits.val
    if held is None:
        raise MtkitError(f"run '{src.run}' has no test or validation split to judge the "
                         f"{opt.precision} model on; set train.test_fraction > 0 and retrain.")
    path, session = _checked_file(fmt, reduced, fp32_path.parent,
                                  f"{fp32_path.name}.{opt.precision}")
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
