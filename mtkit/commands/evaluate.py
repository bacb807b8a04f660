"""``mtkit evaluate RUN|MODEL.onnx``: task metrics of the ONNX model, next to TensorFlow's.

The data is rebuilt from the run's config (same seed, same splits), predicted with the
TF-free ``Predictor`` and scored with the heads' numpy metrics; when the run's
``metrics.json`` covers the same split, each metric is shown beside TensorFlow's, and an
fp32 model that disagrees beyond ``--tolerance`` fails (exit 1).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from mtkit.commands._common import check_path_text, run_guarded

SPLITS = {"test": "test", "val": "validation", "validation": "validation", "train": "train"}


def _locate(target: Path, config: Path | None) -> tuple[Path, Path, Path | None]:
    """(model.onnx, config.yaml, metrics.json or None) for a run directory or an .onnx file."""
    from mtkit import rundir
    from mtkit.errors import MtkitError

    if target.is_dir():
        model = target / "model.onnx"
        if not model.is_file():
            raise MtkitError(f"run directory '{target}' has no model.onnx; export it first with "
                             f"`mtkit export {target} --onnx`.")
        run = target
    elif target.is_file():
        model, run = target, target.parent
    else:
        raise MtkitError(f"'{target}' is neither a run directory nor an .onnx file.")
    cfg = config or run / rundir.CONFIG
    if not cfg.is_file():
        raise MtkitError(f"no config to rebuild the evaluation data: '{cfg}' does not exist; "
                         "pass --config CONFIG.yaml (the run's config.yaml).")
    metrics = run / rundir.METRICS
    return model, cfg, metrics if metrics.is_file() else None


def _check_same_tasks(plan: Any, predictor: Any, cfg: Path, model: Path) -> None:
    """The config must describe the model's tasks as trained (an edited config.yaml would
    score outputs with the wrong head, or fail deep inside a metric)."""
    from mtkit.errors import MtkitError

    for name, task in plan.tasks.items():
        meta = predictor.meta.tasks[name]
        ours = {"head": task.info.head, "decode": task.head.decode_spec()}
        theirs = {"head": meta.head, "decode": meta.decode}
        if json.dumps(ours, sort_keys=True, default=str) != json.dumps(theirs, sort_keys=True,
                                                                       default=str):
            raise MtkitError(
                f"config '{cfg}' does not describe model '{model}': task '{name}' is "
                f"{ours['head']} {ours['decode']} in the config but {theirs['head']} "
                f"{theirs['decode']} in the model. The config was edited after training (or "
                "belongs to another run); restore the run's config.yaml, or pass the right one "
                "with --config.")


def _compare(onnx_scores: dict[str, Any], tf: dict[str, Any] | None) -> list[dict[str, Any]]:
    rows = []
    for task, row in onnx_scores["tasks"].items():
        for metric, value in row.items():
            if metric == "labelled":
                continue
            ref = (tf or {}).get("tasks", {}).get(task, {}).get(metric)
            rows.append({"task": task, "metric": metric, "onnx": value, "tensorflow": ref})
    for metric, value in onnx_scores.get("dataset", {}).items():
        ref = (tf or {}).get("dataset", {}).get(metric)
        rows.append({"task": "(dataset)", "metric": metric, "onnx": value, "tensorflow": ref})
    for r in rows:
        ok_numbers = isinstance(r["onnx"], int | float) and isinstance(r["tensorflow"], int | float)
        r["delta"] = r["onnx"] - r["tensorflow"] if ok_numbers else None
    return rows


def _per_source(plan: Any, splits: Any, split: str, predictor: Any, tf: dict | None
                ) -> dict[str, list[dict[str, Any]]]:
    """A task mixture: each source scored on its own split (rows named ``source/task``)."""
    if not plan.sources:
        return {}
    import numpy as np

    from mtkit.mixtures.sources import labelled_plan
    from mtkit.scoring import score

    key = {"validation": "val"}.get(split, split)
    out = {}
    for name, own in splits.sources.items():
        arrays = getattr(own, key)
        if arrays is None:
            continue
        inputs = {k: np.asarray(v) for k, v in arrays.inputs.items() if k in predictor.inputs}
        scores = score(labelled_plan(plan, plan.sources[name]), arrays.labels,
                       predictor.run(inputs), with_loss=False)
        out[name] = _compare(scores, ((tf or {}).get("sources") or {}).get(name))
    return out


def evaluate(
    target: Annotated[Path, typer.Argument(help="A run directory (uses RUN/model.onnx) or an .onnx file.")],
    split: Annotated[str, typer.Option(help="test, val or train.")] = "test",
    config: Annotated[Path | None, typer.Option(
        help="Config that rebuilds the data; default: config.yaml beside the model.")] = None,
    provider: Annotated[str, typer.Option(help="auto, cpu, cuda or tensorrt.")] = "auto",
    tolerance: Annotated[float, typer.Option(
        help="Largest accepted |onnx - tensorflow| per metric for an fp32 model.")] = 1e-4,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Score an exported model on a split of its run's data, beside the TensorFlow metrics."""

    def go() -> None:
        import numpy as np

        from mtkit import rundir
        from mtkit.api import plan as make_plan
        from mtkit.dataprep import prepare
        from mtkit.errors import MtkitError
        from mtkit.runtime import Predictor
        from mtkit.scoring import score

        if split not in SPLITS:
            raise MtkitError(f"--split '{split}' is unknown; use test, val or train.")
        if not (math.isfinite(tolerance) and tolerance >= 0):
            raise MtkitError(f"--tolerance {tolerance} is not valid: it must be a finite number "
                             ">= 0 (e.g. 1e-4).")
        check_path_text(target, "model")
        check_path_text(config, "--config")
        model, cfg, metrics_path = _locate(target, config)
        predictor = Predictor(model, provider=provider)
        plan = make_plan(cfg)
        missing = [t for t in plan.tasks if t not in predictor.tasks]
        if missing:
            raise MtkitError(f"config '{cfg}' has task(s) {', '.join(missing)} that model "
                             f"'{model}' does not output; pass the config of the run it came from.")
        splits, _ = prepare(plan)  # first: a table's data teaches the heads their class names
        _check_same_tasks(plan, predictor, cfg, model)
        arrays = {"test": splits.test, "validation": splits.val, "train": splits.train}[SPLITS[split]]
        if arrays is None:
            raise MtkitError(f"the run's data has no {SPLITS[split]} split; choose another --split.")

        def run(x: dict) -> dict:
            return predictor.run({k: np.asarray(v) for k, v in x.items() if k in predictor.inputs})

        if hasattr(arrays, "chunks"):  # streamed shards: predicted chunk by chunk
            from mtkit.streaming.evaluate import gather

            labels, preds, _ = gather(arrays, run)
            scores = score(plan, labels, preds, with_loss=False)
        else:
            scores = score(plan, arrays.labels, run(arrays.inputs), with_loss=False)
        tf = rundir.read_json(metrics_path) if metrics_path else None
        if tf is not None and tf.get("split") != SPLITS[split]:
            tf = None  # metrics.json covers another split: nothing to compare
        rows = _compare(scores, tf)
        for name, src_rows in _per_source(plan, splits, SPLITS[split], predictor, tf).items():
            rows += [{**r, "task": f"{name}/{r['task']}"} for r in src_rows]
        bad = [r for r in rows if r["delta"] is not None and math.isfinite(r["delta"])
               and abs(r["delta"]) > tolerance]
        if as_json:
            finite = [{k: None if isinstance(v, float) and not math.isfinite(v) else v
                       for k, v in r.items()} for r in rows]  # strict JSON has no NaN
            typer.echo(json.dumps({"model": str(model), "split": SPLITS[split],
                                   "precision": predictor.meta.precision,
                                   "provider": predictor.provider, "metrics": finite}, indent=2))
        else:
            typer.echo(f"{model} ({predictor.meta.precision}, {predictor.provider}) on the "
                       f"{SPLITS[split]} split, {len(arrays)} rows")
            typer.echo(f"{'task':<16} {'metric':<20} {'onnx':>10} {'tensorflow':>10} {'delta':>10}")
            for r in rows:
                tfv = "-" if r["tensorflow"] is None else f"{r['tensorflow']:.4g}"
                delta = "-" if r["delta"] is None else f"{r['delta']:+.2g}"
                typer.echo(f"{r['task']:<16} {r['metric']:<20} {r['onnx']:>10.4g} {tfv:>10} "
                           f"{delta:>10}")
        if bad and predictor.meta.precision == "fp32":
            worst = max(bad, key=lambda r: abs(r["delta"]))
            err = MtkitError(f"the ONNX model's metrics differ from TensorFlow's ({metrics_path}) "
                             f"by more than {tolerance:g} on {len(bad)} metric(s), worst "
                             f"{worst['task']}.{worst['metric']} ({worst['delta']:+.3g}); "
                             "re-export it with the parity check on.")
            err.exit_code = 1
            raise err

    run_guarded(go)
