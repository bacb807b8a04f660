"""``run_training``: a plan → a trained run directory. ``fit``: the epoch loop.

Everything a run writes goes to its run directory, each file atomically; a checkpoint is
saved after every epoch (with the weighting's state), so a killed run continues with
``--resume`` from its last finished epoch. Each concern of a run is a callback
(``mtkit.training.callbacks``); the per-epoch work is the ``Trainer``'s.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mtkit import rundir
from mtkit.dataprep import prepare
from mtkit.errors import MtkitError, TrainingError
from mtkit.planning import Plan
from mtkit.tf_import import import_tensorflow
from mtkit.training.callbacks import Callback, CallbackList
from mtkit.training.callbacks.divergence import DivergenceGuard
from mtkit.training.callbacks.early_stopping import EarlyStopping
from mtkit.training.callbacks.progress_bar import ProgressBar
from mtkit.training.callbacks.run_files import RunFiles, model_save
from mtkit.training.callbacks.tensorboard import TensorBoard
from mtkit.training.trainer import Trainer

__all__ = ["RunResult", "fit", "model_save", "run_training"]


@dataclass
class RunResult:
    """What ``mtkit.train`` returns: where the run is and what it measured."""

    run_dir: Path
    history: list[dict[str, Any]]
    metrics: dict[str, Any]
    model: Any = None
    warm_start: Any = None  # a WarmStartReport when the run started with init_from


def fit(trainer: Trainer, callbacks: list[Callback]) -> dict[str, Any]:
    """The epoch loop: steps and evaluation per epoch, every concern in a callback.
    Returns the final metrics (test split, or validation if there is none)."""
    from mtkit.training.peers import peers_guard

    cbs = CallbackList(callbacks, trainer)
    role = trainer.role
    try:
        cbs.on_train_begin()
        with peers_guard(role.worker_index, role.num_workers, lambda: trainer.epoch,
                         trainer.shared_run):
            for epoch in range(trainer.start_epoch + 1, trainer.config.epochs + 1):
                if trainer.stop_training:
                    break
                trainer.epoch = epoch
                cbs.on_epoch_begin(epoch)
                record = trainer.train_epoch(epoch, cbs)
                trainer.history.append(record)
                cbs.on_epoch_end(epoch, record)
        cbs.on_train_end()
        metrics = trainer.final_metrics()
        cbs.on_final_metrics(metrics)
        return metrics
    finally:
        cbs.close()


def default_callbacks(trainer: Trainer, quiet: bool) -> list[Callback]:
    """The callbacks of an ``mtkit train`` run, in the order their hooks must run: the
    divergence guard before anything is shown or written, files last."""
    from mtkit.training.callbacks.time_budget import TimeBudget
    from mtkit.training.callbacks.weight_average import WeightAverage
    from mtkit.training.schedules import ReduceOnPlateau

    cfg = trainer.config
    callbacks: list[Callback] = [DivergenceGuard(),
                                 ProgressBar(list(trainer.plan.tasks),
                                             quiet=quiet or not trainer.role.is_chief)]
    if cfg.tensorboard:
        callbacks.append(TensorBoard())
    if cfg.time_budget is not None:
        callbacks.append(TimeBudget(cfg.time_budget))
    if cfg.diagnostics_rows:
        from mtkit.training.callbacks.diagnostics import Diagnostics

        callbacks.append(Diagnostics(cfg.diagnostics_rows))
    if cfg.schedule is not None and cfg.schedule.type == "plateau":
        callbacks.append(ReduceOnPlateau(cfg.schedule))
    callbacks.append(EarlyStopping(cfg.early_stopping))
    if cfg.ema is not None:
        callbacks.append(WeightAverage())
    return callbacks + [RunFiles()]


def run_training(plan: Plan, out: str | Path, resume: bool = False, overwrite: bool = False,
                 quiet: bool = False, init_from: Path | None = None) -> RunResult:
    """Train ``plan`` into run directory ``out``.

    A new run that fails (or is interrupted) before its first epoch finished leaves no run
    directory behind: there is nothing in it to resume or export.
    """
    from mtkit.training.distribute import expected_role

    run = Path(out)
    fresh = (not resume and (overwrite or not (run.is_dir() and any(run.iterdir())))
             and expected_role(plan.config.train.strategy).is_chief)
    existed = run.exists()
    try:
        return _run_training(plan, run, resume=resume, overwrite=overwrite, quiet=quiet,
                             init_from=init_from)
    except BaseException:
        if fresh and run.is_dir() and not (run / rundir.HISTORY).exists():
            shutil.rmtree(run, ignore_errors=True)
            if existed:  # the user's (empty) folder stays
                run.mkdir(parents=True, exist_ok=True)
        raise


def _run_training(plan: Plan, out: Path, resume: bool, overwrite: bool,
                  quiet: bool, init_from: Path | None = None) -> RunResult:
    """Under ``multi-worker`` every worker runs this same program (collectives need all of
    them); only the chief writes ``out``, the others write to a temporary folder that is
    removed at the end, and read the chief's checkpoints when resuming."""
    from mtkit.training.distribute import expected_role
    from mtkit.training.global_state import run_settings

    if expected_role(plan.config.train.strategy).is_chief:
        _check_run_dir(out, resume, overwrite)
    splits, specs = prepare(plan)  # all data problems surface before anything is written
    history = _read_history(out, plan) if resume else []
    import_tensorflow()
    with run_settings(plan.config.train, plan.source):
        trainer = Trainer.build(plan, out, splits, specs, history, resume, init_from)
        try:
            trainer.write_run_files(quiet)
            metrics = fit(trainer, default_callbacks(trainer, quiet))
        finally:
            if not trainer.role.is_chief:
                shutil.rmtree(trainer.run, ignore_errors=True)
    return RunResult(run_dir=out, history=trainer.history, metrics=metrics, model=trainer.model,
                     warm_start=trainer.extra.get("warm_start"))


def _check_run_dir(run: Path, resume: bool, overwrite: bool) -> None:
    if run.exists() and not run.is_dir():
        raise MtkitError(f"--out '{run}' is a file; a run directory is a folder: choose another --out.")
    if run.exists() and any(run.iterdir()) and not resume:
        if not overwrite:
            raise MtkitError(
                f"run directory '{run}' already exists and is not empty; pass --resume to "
                "continue that run, --overwrite to replace it, or choose another --out."
            )
        shutil.rmtree(run)
    if resume and not (run / rundir.CONFIG).is_file():
        raise MtkitError(f"cannot resume: '{run}' holds no {rundir.CONFIG}; it is not an mtkit "
                         "run directory (start a new run without --resume).")
    if resume:
        rundir.remove_partial_files(run)  # temp files of writes cut short by a killed run


def _read_history(run: Path, plan: Plan) -> list[dict[str, Any]]:
    """The finished epochs recorded in a run being resumed, or a clear error."""
    path = run / rundir.HISTORY
    if not path.is_file():
        return []
    try:
        epochs = rundir.read_json(path)["epochs"]
        if not isinstance(epochs, list):
            raise TypeError("'epochs' is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise TrainingError(f"cannot resume: '{path}' is damaged ({type(exc).__name__}: {exc}); "
                            "delete it to resume without the earlier epochs' records, or start "
                            "a new run.") from None
    if epochs and not plan.config.train.checkpoint:
        raise TrainingError(f"cannot resume: the run in '{run}' was trained with "
                            "train.checkpoint: false, so no checkpoint holds its weights and "
                            "optimizer state; start a new run (--overwrite or another --out).")
    return epochs
