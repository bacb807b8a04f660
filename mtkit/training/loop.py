"""The epoch loop: data pipeline, steps, evaluation, early stopping, checkpoints, run files.

Everything a run writes goes to its run directory, each file atomically; a checkpoint is
saved after every epoch (with the weighting's state), so a killed run continues with
``--resume`` from its last finished epoch.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mtkit import rundir
from mtkit.config import dump_config
from mtkit.data import Arrays, sample
from mtkit.dataprep import InputSpecs, has_augment, prepare
from mtkit.errors import MtkitError, TrainingError
from mtkit.planning import Plan
from mtkit.tf_import import import_tensorflow
from mtkit.training.progress import Progress


@dataclass
class RunResult:
    """What ``mtkit.train`` returns: where the run is and what it measured."""

    run_dir: Path
    history: list[dict[str, Any]]
    metrics: dict[str, Any]
    model: Any = None


def _optimizer(name: str, lr: float) -> Any:
    import keras

    return {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }[name](learning_rate=lr)


class EpochData:
    """Training batches, one tf.data pipeline per epoch, deterministic by (seed, epoch).

    Each epoch permutes the rows once (numpy, seeded) and hands tf.data ready-made batches
    (slices of a [steps, batch, ...] array), so a step costs the pipeline one slice instead
    of per-element shuffling, batching or gathering. Augmentation, if the dataset has any,
    runs in parallel map calls; prefetching keeps the next batches ready while the device
    runs the step.
    """

    def __init__(self, plan: Plan, arrays: Arrays) -> None:
        self.plan, self.arrays, self.n = plan, arrays, len(arrays)

    def dataset(self, epoch: int) -> Any:
        import tensorflow as tf

        cfg = self.plan.config.train
        bs = cfg.batch_size
        order = np.random.default_rng([cfg.seed, epoch]).permutation(self.n)
        if cfg.steps_per_epoch:
            order = order[: cfg.steps_per_epoch * bs]
        drop = cfg.jit_compile and len(order) >= bs  # XLA: one static batch shape
        full = len(order) // bs * bs
        parts = [order[:full].reshape(-1, bs)] if full else []
        if len(order) > full and not drop:
            parts.append(order[full:][None])
        data = (self.arrays.inputs, self.arrays.labels)
        ds = None
        for idx in parts:  # at most two: the full batches, then the remainder batch
            batches = tf.nest.map_structure(lambda a, i=idx: a[i], data)
            part = tf.data.Dataset.from_tensor_slices(batches)
            ds = part if ds is None else ds.concatenate(part)
        augment = self.plan.dataset.augment if has_augment(self.plan) else None
        if augment is not None:
            def aug(step, batch):
                seed = tf.stack([tf.cast(cfg.seed * 7919 + epoch, tf.int64), step])
                return augment(batch[0], seed), batch[1]

            ds = ds.enumerate().map(aug, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.prefetch(tf.data.AUTOTUNE)


def _model_view(plan: Plan, arrays: Arrays, specs: InputSpecs) -> Arrays:
    """Train rows as the model sees them, for train metrics.

    A dataset may store train inputs larger than the model input and crop them in
    ``augment`` (SVHN: 64×64 stored, random 54×54 fed); such rows go through ``augment``
    once, with a fixed seed. Rows already shaped like the model input are returned as is.
    """
    if all(tuple(v.shape[1:]) == specs.shapes.get(k) for k, v in arrays.inputs.items()):
        return arrays
    import tensorflow as tf

    seed = tf.constant([plan.config.train.seed, 0], tf.int64)
    out = plan.dataset.augment({k: tf.constant(v) for k, v in arrays.inputs.items()}, seed)
    return Arrays(inputs={k: np.asarray(v) for k, v in out.items()}, labels=arrays.labels)


class _Checkpoints:
    def __init__(self, run: Path, model: Any, optimizer: Any, weighting_vars: dict[str, Any]):
        import tensorflow as tf

        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        state = tf.Module()
        for k, v in weighting_vars.items():
            setattr(state, k, v)
        self.ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer, weighting=state,
                                        epoch=self.epoch)
        self.manager = tf.train.CheckpointManager(self.ckpt, run / rundir.CHECKPOINTS,
                                                  max_to_keep=2)

    def restore(self, folder: Path) -> int:
        import tensorflow as tf

        path = tf.train.latest_checkpoint(str(folder))
        if not path:
            return 0
        try:
            self.ckpt.restore(path).expect_partial()
        except Exception as exc:  # tf.errors.OpError (damaged), ValueError (other shapes), ...
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:240]
            raise TrainingError(
                f"cannot resume from checkpoint '{path}': it is damaged or does not match the "
                f"model the config describes ({type(exc).__name__}: {detail}). If the trunk, the "
                "heads or the tasks changed since the run started, start a new run (another --out, "
                "or --overwrite); if the files are damaged, delete that checkpoint's files to "
                "resume from the one before."
            ) from None
        return int(self.epoch.numpy())

    def save(self, epoch: int) -> None:
        self.epoch.assign(epoch)
        self.manager.save(checkpoint_number=epoch)


def _describe(plan: Plan, specs: InputSpecs, splits: Any) -> dict[str, Any]:
    return {
        "inputs": {k: {"shape": list(v), "dtype": specs.dtypes[k]} for k, v in specs.shapes.items()},
        "tasks": {
            name: {"head": t.info.head, "output_type": t.head.output_type,
                   "loss": type(t.loss).name, "metrics": t.metrics,
                   "decode": t.head.decode_spec()}
            for name, t in plan.tasks.items()
        },
        "dataset": {"name": plan.config.data.dataset, "decode": plan.dataset.decode_spec()},
        "sizes": {s: len(a) for s, a in (("train", splits.train), ("val", splits.val),
                                         ("test", splits.test)) if a is not None},
    }


def run_training(plan: Plan, out: str | Path, resume: bool = False, overwrite: bool = False,
                 quiet: bool = False) -> RunResult:
    """Train ``plan`` into run directory ``out``; see ``_run_training``.

    A new run that fails (or is interrupted) before its first epoch finished leaves no run
    directory behind: there is nothing in it to resume or export.
    """
    from mtkit.training.distribute import expected_role

    run = Path(out)
    fresh = (not resume and (overwrite or not (run.is_dir() and any(run.iterdir())))
             and expected_role(plan.config.train.strategy).is_chief)
    existed = run.exists()
    try:
        return _run_training(plan, out, resume=resume, overwrite=overwrite, quiet=quiet)
    except BaseException:
        if fresh and run.is_dir() and not (run / rundir.HISTORY).exists():
            shutil.rmtree(run, ignore_errors=True)
            if existed:  # the user's (empty) folder stays
                run.mkdir(parents=True, exist_ok=True)
        raise


def _run_training(plan: Plan, out: str | Path, resume: bool = False, overwrite: bool = False,
                  quiet: bool = False) -> RunResult:
    """Train ``plan`` into run directory ``out``; see module docstring.

    Under ``multi-worker`` every worker runs this same program (collectives need all of
    them); only the chief writes ``out``, the others write to a temporary folder that is
    removed at the end, and read the chief's checkpoints when resuming.
    """
    from mtkit.training.distribute import expected_role

    cfg = plan.config.train
    if expected_role(cfg.strategy).is_chief:
        _check_run_dir(Path(out), resume, overwrite)
    splits, specs = prepare(plan)  # all data problems surface before anything is written
    history = _read_history(Path(out), plan) if resume else []

    tf = import_tensorflow()
    import keras

    from mtkit.assembly import build_model
    from mtkit.training.distribute import check_batch, distribute, make_strategy
    from mtkit.training.evaluate import evaluate_split, weighted_total
    from mtkit.training.step import StepParts, check_gradient_weighting, make_train_step

    strategy, role = make_strategy(cfg.strategy, cfg.devices, cfg.worker_timeout)
    check_batch(cfg.batch_size, strategy.num_replicas_in_sync, plan.source)
    shared_run = Path(out)
    run = shared_run if role.is_chief else Path(tempfile.mkdtemp(prefix="mtkit-worker-"))
    quiet = quiet or not role.is_chief
    keras.utils.set_random_seed(cfg.seed)
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    _set_precision(cfg.mixed_precision, plan.source)
    with strategy.scope():
        assembled = build_model(plan, specs)
        check_gradient_weighting(plan, assembled.shared_variables)  # before anything is written
        optimizer = _optimizer(cfg.optimizer, cfg.learning_rate)
        if cfg.mixed_precision:
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        plan.weighting.setup(plan.task_infos)
        optimizer.build(assembled.model.trainable_variables + [
            v for v in plan.weighting.variables().values() if getattr(v, "trainable", False)])
    model = assembled.model

    ckpt = _Checkpoints(run, model, optimizer, plan.weighting.variables())
    start_epoch = 0
    if resume:  # read the run's state before writing anything into it
        start_epoch = ckpt.restore(shared_run / rundir.CHECKPOINTS)
        history = history[:start_epoch]
        optimizer.learning_rate = cfg.learning_rate  # restored from the checkpoint: config wins
    run.mkdir(parents=True, exist_ok=True)
    rundir.write_text(run / rundir.CONFIG, dump_config(plan.config))
    info = _describe(plan, specs, splits)
    info["distribution"] = {"strategy": type(strategy).__name__,
                            "replicas": int(strategy.num_replicas_in_sync),
                            "workers": role.num_workers}
    rundir.write_json(run / rundir.INFO, info)
    best = min((h["val_loss"] for h in history if h.get("val_loss") is not None),
               default=math.inf)
    since_best = 0
    for h in history:
        since_best = 0 if h.get("val_loss") == best else since_best + 1
    best_weights = model.get_weights() if start_epoch else None

    step = make_train_step(plan, StepParts(model, assembled.features_model,
                                           assembled.shared_variables, optimizer, strategy),
                           jit_compile=cfg.jit_compile)
    writer = tf.summary.create_file_writer(str(run / "tensorboard")) if cfg.tensorboard else None
    train_sample = _model_view(plan, sample(splits.train, cfg.train_metrics_rows, cfg.seed), specs)
    steps_per_epoch = math.ceil(len(splits.train) / cfg.batch_size)
    if cfg.steps_per_epoch:
        steps_per_epoch = min(steps_per_epoch, cfg.steps_per_epoch)
    progress = Progress(list(plan.tasks), quiet=quiet)
    epoch_data = EpochData(plan, splits.train)
    global_step = start_epoch * steps_per_epoch
    stopped_early = False
    epoch = start_epoch
    lost = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError,
            tf.errors.AbortedError)
    try:
        with progress:
            for epoch in range(start_epoch + 1, cfg.epochs + 1):
                t0 = time.perf_counter()
                progress.start_epoch(epoch, cfg.epochs, steps_per_epoch)
                data = distribute(strategy, lambda e=epoch: epoch_data.dataset(e), role)
                train_losses, steps = _train_epoch(step, data, list(plan.tasks), progress,
                                                   epoch, global_step, run)
                global_step += steps
                train_seconds = time.perf_counter() - t0
                plan.weighting.end_epoch(epoch, train_losses)
                train_scores = evaluate_split(plan, model, train_sample)
                _check_finite(train_scores, "train", epoch, global_step, run)
                for k, row in train_scores["tasks"].items():
                    row["loss"] = train_losses[k]  # the loss actually optimised (train mode)
                record: dict[str, Any] = {"epoch": epoch, "train": train_scores["tasks"]}
                if splits.val is not None:
                    val_scores = evaluate_split(plan, model, splits.val)
                    _check_finite(val_scores, "validation", epoch, global_step, run)
                    record["val"] = val_scores["tasks"]
                    record["val_dataset"] = val_scores["dataset"]
                    record["val_loss"] = weighted_total(plan, val_scores)
                record["seconds"] = round(time.perf_counter() - t0, 3)
                record["train_seconds"] = round(train_seconds, 4)
                record["steps"] = steps
                history.append(record)
                progress.end_epoch(record)
                if writer is not None:
                    with writer.as_default(step=epoch):
                        for split in ("train", "val"):
                            for task, row in record.get(split, {}).items():
                                for m, v in row.items():
                                    tf.summary.scalar(f"{split}/{task}/{m}", v)
                val_loss = record.get("val_loss")
                improved = val_loss is not None and val_loss < best - (
                    cfg.early_stopping.min_delta if cfg.early_stopping else 0.0)
                if improved:
                    best, since_best = val_loss, 0
                    best_weights = model.get_weights()
                else:
                    since_best += 1
                # The checkpoint goes last: a run killed between these writes resumes from
                # the previous checkpoint, and its history is cut back to match.
                rundir.write_json(run / rundir.HISTORY, {"epochs": history})
                model_save(model, run / rundir.MODEL)
                if cfg.checkpoint:
                    ckpt.save(epoch)
                if cfg.early_stopping and since_best >= cfg.early_stopping.patience:
                    stopped_early = True
                    break
    except lost as exc:  # a peer died or hung: fail in bounded time, with a clear message
        raise TrainingError(
            f"worker {role.worker_index} of {role.num_workers} lost contact with its peers in "
            f"epoch {epoch} ({type(exc).__name__}: {str(exc).splitlines()[0][:160]}); a worker "
            f"probably died. The last checkpoint (epoch {epoch - 1}) is kept in "
            f"'{shared_run / rundir.CHECKPOINTS}'; restart every worker with --resume. "
            "(train.worker_timeout bounds how long a worker waits for its peers.)"
        ) from None
    if cfg.early_stopping and cfg.early_stopping.restore_best and best_weights is not None:
        model.set_weights(best_weights)
        model_save(model, run / rundir.MODEL)

    final = splits.test if splits.test is not None else splits.val
    split_name = "test" if splits.test is not None else "validation"
    metrics: dict[str, Any] = {"split": split_name, "epochs_run": len(history),
                               "stopped_early": stopped_early}
    if final is not None:
        scores = evaluate_split(plan, model, final)
        metrics.update(scores)
    rundir.write_json(run / rundir.METRICS, metrics)
    if history:
        rundir.plot_curves(run / rundir.CURVES, history)
    if writer is not None:
        writer.close()
    progress.summary(metrics)
    if not role.is_chief:
        shutil.rmtree(run, ignore_errors=True)
    return RunResult(run_dir=shared_run, history=history, metrics=metrics, model=model)


def _set_precision(mixed: bool, source: str) -> None:
    """Set Keras's global dtype policy; refuse mixed precision where it cannot help."""
    import os

    import keras
    import tensorflow as tf

    if mixed and not tf.config.list_physical_devices("GPU") and not os.environ.get(
            "MTKIT_ALLOW_CPU_MIXED_PRECISION"):
        raise TrainingError(
            f"{source}: field 'train.mixed_precision': this machine has no GPU, and float16 "
            "compute is slower than float32 on CPUs (no float16 units to use); remove "
            "train.mixed_precision or train on a GPU with tensor cores (compute capability 7.0+)."
        )
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")


def _train_epoch(step: Any, data: Any, tasks: list[str], progress: Progress, epoch: int,
                 first_step: int, run: Path) -> tuple[dict[str, float], int]:
    """Run one epoch of steps; returns the mean per-task training losses and the step count.

    Step results stay on the device and are fetched once at the end of the epoch (and every
    few steps for a live progress bar), so the host never stalls the device between steps.
    """
    import numpy as np

    values_log, counts_log = [], []
    for i, batch in enumerate(data):
        values, counts = step(batch)
        values_log.append(values)
        counts_log.append(counts)
        if progress.live and i % 10 == 0:
            progress.advance({k: float(v) for k, v in values.items()}, steps=10 if i else 1)
    if not values_log:
        return {k: float("nan") for k in tasks}, 0
    vals = {k: np.array([float(v[k]) for v in values_log]) for k in tasks}
    cnts = {k: np.array([float(c[k]) for c in counts_log]) for k in tasks}
    for k in tasks:
        bad = np.flatnonzero(~np.isfinite(vals[k]))
        if bad.size:
            kept = (f"the last good checkpoint (epoch {epoch - 1}) is kept in "
                    f"'{run / rundir.CHECKPOINTS}'" if epoch > 1 else
                    "no epoch had finished, so nothing was kept")
            raise TrainingError(
                f"the loss of task '{k}' became {vals[k][bad[0]]} at epoch {epoch}, step "
                f"{first_step + bad[0] + 1}; training stopped and {kept}. Likely causes: a "
                "learning rate too high, unscaled inputs, or labels outside the head's range; "
                "lower train.learning_rate and check the data."
            )
    means = {k: float((vals[k] * cnts[k]).sum() / cnts[k].sum()) if cnts[k].sum() else float("nan")
             for k in tasks}
    return means, len(values_log)


def _check_finite(scores: dict[str, Any], split: str, epoch: int, step: int, run: Path) -> None:
    """The weights after an epoch's last update must still give finite losses.

    Every step's loss can be finite while the last update already made the weights explode;
    checkpointing those would keep a model that cannot be resumed or used.
    """
    for k, row in scores["tasks"].items():
        value = row.get("loss")
        if value is not None and not math.isfinite(value):
            kept = (f"the last good checkpoint (epoch {epoch - 1}) is kept in "
                    f"'{run / rundir.CHECKPOINTS}'" if epoch > 1 else
                    "no epoch had finished, so nothing was kept")
            raise TrainingError(
                f"the loss of task '{k}' became {value} on the {split} split after epoch {epoch} "
                f"(step {step}): its last updates made the weights diverge; training stopped and "
                f"{kept}. Likely causes: a learning rate too high, unscaled inputs, or labels "
                "outside the head's range; lower train.learning_rate and check the data."
            )


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


def model_save(model: Any, path: Path) -> None:
    rundir.atomic_write(path, lambda p: model.save(p))
