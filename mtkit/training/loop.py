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
from mtkit.errors import TrainingError
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

    The chief's run directory is guarded (``mtkit.run_guard``): checked and locked before
    the data is read, staged beside an old run that ``--overwrite`` replaces, and swapped
    in only when the run finished. A new run that fails (or is interrupted) before its
    first epoch finished leaves no run directory behind: there is nothing in it to resume.
    """
    from mtkit.run_guard import RunGuard
    from mtkit.training.distribute import expected_role

    if not expected_role(plan.config.train.strategy).is_chief:
        return _run_training(plan, Path(out), Path(out), resume=resume, quiet=quiet,
                             init_from=init_from)
    guard = RunGuard(Path(out), resume=resume, overwrite=overwrite,
                     epochs=plan.config.train.epochs)
    with guard.writing() as write_to:
        return _run_training(plan, write_to, Path(out), resume=resume, quiet=quiet,
                             init_from=init_from)


def _run_training(plan: Plan, out: Path, run_dir: Path, resume: bool,
                  quiet: bool, init_from: Path | None = None) -> RunResult:
    """Under ``multi-worker`` every worker runs this same program (collectives need all of
    them); only the chief writes ``out``, the others write to a temporary folder that is
    removed at the end, and read the chief's checkpoints when resuming. ``run_dir`` is where
    the run ends up (``out`` is a staging folder beside it under ``--overwrite``)."""
    from mtkit.training.global_state import run_settings

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
    return RunResult(run_dir=run_dir, history=trainer.history, metrics=metrics,
                     model=trainer.model, warm_start=trainer.extra.get("warm_start"))


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
