"""The state of one training run and its per-epoch work (steps, then evaluation).

``Trainer.build`` does the set-up in the order that keeps a run safe: the data is
prepared and every check runs before the run directory is written; a resumed run's
checkpoint is read before anything in it changes. ``loop.fit`` drives the epochs.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mtkit import rundir
from mtkit.config import dump_config
from mtkit.data import Splits, sample
from mtkit.dataprep import InputSpecs
from mtkit.errors import ConfigError
from mtkit.mixtures.epoch_data import make_epoch_data
from mtkit.planning import Plan
from mtkit.run_info import RunInfo
from mtkit.training.checkpoints import Checkpoints
from mtkit.training.epoch_data import EpochData, model_view

WARM_START = "init_from.json"
"""Which weights ``--init-from`` loaded, skipped or left new (in the run directory)."""


@dataclass
class StepLog:
    """One epoch's per-step losses and labelled-row counts, fetched once at its end."""

    first_step: int
    values: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]

    @property
    def steps(self) -> int:
        return len(next(iter(self.values.values()), []))

    def means(self) -> dict[str, float]:
        """Per task, the mean loss over the epoch's labelled rows (NaN if none)."""
        return {k: float((v * self.counts[k]).sum() / self.counts[k].sum())
                if self.counts[k].sum() else float("nan") for k, v in self.values.items()}


class StepValues:
    """Per-step scalars of an epoch, kept on the device and stacked every ``BLOCK`` steps
    (one tensor per task per block), so a long epoch (millions of streamed rows) holds a few
    Python objects per block instead of several per step; fetched once, at the end."""

    BLOCK = 512

    def __init__(self, keys: list[str]) -> None:
        self.keys, self.blocks, self.pending = keys, [], []

    def append(self, values: dict[str, Any]) -> None:
        self.pending.append(values)
        if len(self.pending) == self.BLOCK:
            self._stack()

    def _stack(self) -> None:
        if self.pending:
            import tensorflow as tf

            self.blocks.append({k: tf.stack([v[k] for v in self.pending]) for k in self.keys})
            self.pending = []

    def arrays(self) -> dict[str, np.ndarray]:
        self._stack()
        return {k: np.concatenate([np.asarray(b[k], np.float64).reshape(-1)
                                   for b in self.blocks]) if self.blocks else np.array([])
                for k in self.keys}


@dataclass
class Trainer:
    plan: Plan
    splits: Splits
    specs: InputSpecs
    strategy: Any
    role: Any
    run: Path          # where this process writes (a temp folder on non-chief workers)
    shared_run: Path   # the run directory (the chief's)
    assembled: Any
    optimizer: Any
    checkpoints: Checkpoints
    history: list[dict[str, Any]]
    start_epoch: int
    step: Any = None
    epoch_data: EpochData | Any = None  # or MixtureEpochData, StreamEpochData
    train_sample: Any = None
    global_step: int = 0
    epoch: int = 0
    stop_training: bool = False
    stopped_early: bool = False
    weights_replaced: bool = False  # set when a callback swaps the final weights in
    progress: Any = None
    timer: Any = None  # the TimeBudget callback when train.time_budget is set
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> Any:
        return self.plan.config.train

    @property
    def model(self) -> Any:
        return self.assembled.model

    @property
    def steps_per_epoch(self) -> int:
        return self.epoch_data.steps_per_epoch()

    @classmethod
    def build(cls, plan: Plan, out: Path, splits: Splits, specs: InputSpecs,
              history: list[dict[str, Any]], resume: bool,
              init_from: Path | None = None) -> Trainer:
        """Strategy, model, optimizer and checkpoints; restores a resumed run's state (or
        starts from another run's weights with ``init_from``). Writes nothing."""
        from mtkit.assembly import build_model
        from mtkit.training.class_weights import resolve_class_weights
        from mtkit.training.distribute import check_batch, make_strategy
        from mtkit.training.loss_scale import SharedLossScale
        from mtkit.training.optimizers import has_fixed_rate, make_optimizer
        from mtkit.training.param_groups import make_grouped
        from mtkit.training.step import StepParts, check_gradient_weighting, check_jit, make_train_step
        from mtkit.training.warm_start import warm_start

        cfg = plan.config.train
        if cfg.schedule is not None and cfg.schedule.type == "plateau" and splits.val is None:
            raise ConfigError(f"{plan.source}: field 'train.schedule.type': 'plateau' lowers the "
                              "rate when val_loss stalls, and this run has no validation split; "
                              "set train.validation_fraction > 0 or use another schedule.")
        class_weights = resolve_class_weights(plan, splits.train)
        strategy, role = make_strategy(cfg.strategy, cfg.devices, cfg.worker_timeout)
        check_batch(cfg.batch_size, strategy.num_replicas_in_sync, plan.source)
        run = out if role.is_chief else Path(tempfile.mkdtemp(prefix="mtkit-worker-"))
        epoch_data = make_epoch_data(plan, splits)
        spe = epoch_data.steps_per_epoch()
        with strategy.scope():
            time_progress = _progress_variable() if cfg.time_budget is not None else None
            assembled = build_model(plan, specs)
            check_gradient_weighting(plan, assembled.shared_variables)  # before any write
            check_jit(plan, assembled.model)
            optimizer = make_grouped(
                plan, make_optimizer(cfg, cfg.learning_rate, spe, progress=time_progress),
                assembled, lambda rate, kind: make_optimizer(cfg, rate, spe, kind, time_progress))
            if cfg.mixed_precision:  # one loss scale in front of every group
                optimizer = SharedLossScale(optimizer)
            plan.weighting.setup(plan.task_infos)
            if plan.weighting.mode == "shared_gradients":
                plan.weighting.setup_shared([tuple(int(d) for d in v.shape)
                                             for v in assembled.shared_variables])
            optimizer.build(assembled.model.trainable_variables + [
                v for v in plan.weighting.variables().values() if getattr(v, "trainable", False)])
        warm = warm_start(assembled.model, init_from) if init_from and not resume else None
        ckpt = Checkpoints(run, assembled.model, optimizer, plan.weighting.variables())
        start_epoch = 0
        if resume:  # read the run's state before writing anything into it
            start_epoch = ckpt.restore(out / rundir.CHECKPOINTS)
            history = history[:start_epoch]
            # restored from the checkpoint: the config's rates win (a schedule is rebuilt)
            if hasattr(optimizer, "reset_learning_rates") and has_fixed_rate(cfg):
                optimizer.reset_learning_rates(cfg.learning_rate)
            elif has_fixed_rate(cfg):
                optimizer.learning_rate = cfg.learning_rate
        t = cls(plan=plan, splits=splits, specs=specs, strategy=strategy, role=role, run=run,
                shared_run=out, assembled=assembled, optimizer=optimizer, checkpoints=ckpt,
                history=history, start_epoch=start_epoch)
        t.extra = {"class_weights": class_weights, "warm_start": warm}
        t.step = make_train_step(plan, StepParts(assembled.model, assembled.features_model,
                                                 assembled.shared_variables, optimizer, strategy,
                                                 class_weights, time_progress),
                                 jit_compile=cfg.jit_compile)
        t.epoch_data = epoch_data
        t.train_sample = model_view(plan, sample(splits.train, cfg.train_metrics_rows, cfg.seed),
                                    specs)
        # an epoch cut short by the time budget ran fewer steps than the others
        t.global_step = sum(int(h.get("steps", t.steps_per_epoch)) for h in history)
        return t

    def write_run_files(self, quiet: bool = False) -> None:
        """config.yaml and run.json: what the run is, before its first epoch (and, for a
        table, its feature schema: features.yaml, printed unless ``quiet``)."""
        self.run.mkdir(parents=True, exist_ok=True)
        rundir.write_text(self.run / rundir.CONFIG, dump_config(self.plan.config))
        info = RunInfo.describe(self.plan, self.specs, self.splits)
        if self.plan.sources:  # a task mixture: what each source is and holds
            info.dataset["sources"] = {
                name: {"dataset": src.dataset_ref, "tasks": src.tasks,
                       "sizes": {k: len(a) for k in ("train", "val", "test")
                                 if (a := getattr(self.splits.sources[name], k)) is not None}}
                for name, src in self.plan.sources.items()}
            info.dataset["sampling"] = {
                "probabilities": self.epoch_data.probs,
                "steps_per_epoch": self.epoch_data.steps_per_epoch()}
        if hasattr(self.splits, "describe"):  # streamed shards: which files, read how
            info.dataset["streaming"] = self.splits.describe()
        info.distribution = {"strategy": type(self.strategy).__name__,
                             "replicas": int(self.strategy.num_replicas_in_sync),
                             "workers": self.role.num_workers}
        from mtkit.training.class_weights import describe
        from mtkit.training.param_groups import group_optimizers, group_rates

        info.training = {"class_weights": describe(self.extra.get("class_weights") or {}),
                         "learning_rates": group_rates(self.plan),
                         "optimizers": group_optimizers(self.plan),
                         "trunk_trainable": self.plan.config.trunk.trainable}
        if self.specs.tabular is not None:
            from mtkit.tabular.run_files import record

            info.tabular = record(self.run, self.specs.tabular, quiet or not self.role.is_chief)
        rundir.write_json(self.run / rundir.INFO, info.to_json())
        warm = self.extra.get("warm_start")
        if warm is not None:
            rundir.write_json(self.run / WARM_START, warm.to_json())

    def run_steps(self, epoch: int) -> StepLog:
        """One epoch of steps. Results stay on the device and are fetched once at the end
        (and every few steps for a live progress bar), so the host never stalls the device."""
        from mtkit.training.distribute import distribute

        local = getattr(self.epoch_data, "local_dataset", None)  # streamed: a worker's own shards
        data = distribute(self.strategy, lambda e=epoch: self.epoch_data.dataset(e), self.role,
                          None if local is None else lambda i, k, e=epoch: local(e, i, k))
        import tensorflow as tf

        live = self.progress is not None and self.progress.live
        timer = self.timer
        tasks = list(self.plan.tasks)
        values_log, counts_log = StepValues(tasks), StepValues(tasks)
        try:
            for i, batch in enumerate(data):
                if timer is None:
                    values, counts = self.step(batch)
                else:  # the agreed progress is read each step: every worker stops at one step
                    values, counts, agreed = self.step(
                        batch, tf.constant(timer.propose(), tf.float32))
                values_log.append(values)
                counts_log.append(counts)
                if live and i % 10 == 0:
                    self.progress.advance({k: float(v) for k, v in values.items()},
                                          steps=10 if i else 1)
                if timer is not None and timer.step_done(float(agreed), epoch, i + 1):
                    self.stop_training = True
                    break
        except Exception:
            failure = getattr(self.epoch_data, "failure", lambda: None)()
            if failure is not None:  # a shard that broke mid-epoch: its own clear error
                raise failure from None
            raise
        log = StepLog(first_step=self.global_step, values=values_log.arrays(),
                      counts=counts_log.arrays())
        self.global_step += log.steps
        return log

    def evaluate(self, arrays: Any) -> dict[str, Any]:
        from mtkit.training.evaluate import evaluate_split

        return evaluate_split(self.plan, self.model, arrays)

    def train_epoch(self, epoch: int, callbacks: Any) -> dict[str, Any]:
        """Steps, the weighting's end of epoch, train/val evaluation → the history record."""
        from mtkit.scoring import weighted_total

        t0 = time.perf_counter()
        steps = self.run_steps(epoch)
        callbacks.on_steps_end(epoch, steps)
        train_seconds = time.perf_counter() - t0
        train_losses = steps.means() if steps.steps else {k: float("nan") for k in self.plan.tasks}
        self.plan.weighting.end_epoch(epoch, train_losses)
        train_scores = self.evaluate(self.train_sample)
        callbacks.on_scores(epoch, "train", train_scores)
        for k, row in train_scores["tasks"].items():
            row["loss"] = train_losses[k]  # the loss actually optimised (train mode)
        record: dict[str, Any] = {"epoch": epoch, "train": train_scores["tasks"]}
        if self.splits.val is not None:
            val_scores = self.evaluate(self.splits.val)
            callbacks.on_scores(epoch, "validation", val_scores)
            record["val"] = val_scores["tasks"]
            record["val_dataset"] = val_scores["dataset"]
            record["val_loss"] = weighted_total(self.plan, val_scores)
            if self.plan.sources:
                record["val_sources"] = self.evaluate_sources("val")
        record["seconds"] = round(time.perf_counter() - t0, 3)
        record["train_seconds"] = round(train_seconds, 4)
        record["steps"] = steps.steps
        from mtkit.training.optimizers import current_learning_rate

        record["learning_rate"] = current_learning_rate(self.optimizer)
        return record

    def final_metrics(self) -> dict[str, Any]:
        """Scores on the test split (the validation split if there is none)."""
        s = self.splits
        final = s.test if s.test is not None else s.val
        metrics: dict[str, Any] = {"split": "test" if s.test is not None else "validation",
                                   "epochs_run": len(self.history),
                                   "stopped_early": self.stopped_early}
        if final is not None:
            metrics.update(self.evaluate(final))
            if self.plan.sources:
                metrics["sources"] = self.evaluate_sources(
                    "test" if s.test is not None else "val")
        return metrics

    def evaluate_sources(self, split: str) -> dict[str, Any]:
        """A task mixture: each source's scores on its own ``split`` (val/test)."""
        from mtkit.mixtures.evaluate import evaluate_sources

        return evaluate_sources(self.plan, self.model, self.splits.sources, split)


def _progress_variable() -> Any:
    """The run's progress through ``train.time_budget`` (0…1), which the train step sets to
    the value all replicas agreed on (one copy per replica, written by the first)."""
    import tensorflow as tf

    return tf.Variable(0.0, dtype=tf.float32, trainable=False, name="time_progress",
                       aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
