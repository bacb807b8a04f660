"""``train.schedule`` → a Keras learning-rate schedule (a function of the step).

Built on ``keras.optimizers.schedules`` (CosineDecay, CosineDecayRestarts,
PolynomialDecay, ExponentialDecay, PiecewiseConstantDecay); one-cycle follows PyTorch's
``OneCycleLR`` (cosine annealing) and warmup wraps any of them. A schedule is a function
of the optimizer's step counter, which the checkpoint holds, so ``--resume`` continues it
exactly; ``over: time`` evaluates the same schedules at progress = seconds used /
``train.time_budget`` instead (``OverTime``), and resume restores the seconds used.
``plateau`` is not a function of the step: the ``ReduceOnPlateau`` callback lowers the
rate after epochs without improvement, and rebuilds its state from the history on resume.
"""

from __future__ import annotations

import math
from typing import Any

from mtkit.config import ScheduleConfig, TrainConfig
from mtkit.training.callbacks.base import Callback


def warmup_steps(s: ScheduleConfig, steps_per_epoch: int) -> int:
    return s.warmup_steps or int(round(s.warmup_epochs * steps_per_epoch))


TIME_RESOLUTION = 10_000
"""Virtual steps a schedule over time spans: its base is built over this many steps and
evaluated at progress × this (a float, so the curve is continuous in time)."""


def make_schedule(cfg: TrainConfig, peak: float, steps_per_epoch: int,
                  progress: Any = None) -> Any:
    """The learning rate for the optimizer: a float (constant, plateau) or a schedule.
    ``over: time`` reads ``progress`` (a variable the loop sets before each step)."""
    s = cfg.schedule
    if s is None:
        return peak
    warm = warmup_steps(s, steps_per_epoch)
    if s.over == "time":
        if progress is None:
            raise ValueError("a schedule over time needs the run's progress variable")
        base = _base(s, peak, TIME_RESOLUTION, TIME_RESOLUTION, steps_per_epoch)
        timed: Any = OverTime(peak if base is None else base, progress, TIME_RESOLUTION)
        return Warmup(peak, warm, timed) if warm else timed
    total = max(1, cfg.epochs * steps_per_epoch - warm)
    period = max(1, int(round(s.decay_epochs * steps_per_epoch))) if s.decay_epochs else total
    base = _base(s, peak, total, period, steps_per_epoch)
    if not warm:
        return peak if base is None else base
    return Warmup(peak, warm, base)


def _base(s: ScheduleConfig, peak: float, total: int, period: int,
          steps_per_epoch: int) -> Any:
    """The schedule after warmup, over ``total`` steps (None: constant ``peak``)."""
    import keras

    sched = keras.optimizers.schedules
    if s.type in ("constant", "plateau"):
        return None
    if s.type == "cosine":
        return sched.CosineDecay(peak, period, alpha=s.alpha)
    if s.type == "cosine_restarts":
        return sched.CosineDecayRestarts(peak, period, t_mul=s.t_mul, m_mul=s.m_mul,
                                         alpha=s.alpha)
    if s.type == "linear":
        return sched.PolynomialDecay(peak, period, end_learning_rate=peak * s.end_factor,
                                     power=1.0)
    if s.type == "exponential":
        return sched.ExponentialDecay(peak, period, s.decay_rate)
    if s.type == "step":
        bounds = [int(round(b * steps_per_epoch)) for b in s.boundaries]
        return (sched.PiecewiseConstantDecay(bounds, [peak * s.decay_rate ** i
                                                      for i in range(len(bounds) + 1)])
                if bounds else None)
    return OneCycle(peak, total, s.pct_start, s.div_factor, s.final_div_factor)


def _base_class() -> Any:
    import keras

    return keras.optimizers.schedules.LearningRateSchedule


class OneCycle(_base_class()):  # type: ignore[misc]
    """PyTorch ``OneCycleLR`` (``anneal_strategy='cos'``, two phases): from peak/div_factor
    up to peak over ``pct_start`` of the steps, then down to start/final_div_factor."""

    def __init__(self, peak: float, total_steps: int, pct_start: float, div_factor: float,
                 final_div_factor: float) -> None:
        self.peak, self.total = peak, total_steps
        self.pct_start, self.div, self.final_div = pct_start, div_factor, final_div_factor

    def __call__(self, step: Any) -> Any:
        import keras.ops as ops

        start = self.peak / self.div
        end = start / self.final_div
        up_end = float(self.pct_start * self.total) - 1.0
        down_end = float(self.total) - 1.0
        step = ops.cast(step, "float32")

        def cos(a: float, b: float, pct: Any) -> Any:
            return b + (a - b) / 2.0 * (ops.cos(math.pi * pct) + 1.0)

        up = cos(start, self.peak, ops.clip(step / max(up_end, 1e-9), 0.0, 1.0))
        down = cos(self.peak, end, ops.clip((step - up_end) / max(down_end - up_end, 1e-9),
                                            0.0, 1.0))
        return ops.where(step <= up_end, up, down)

    def get_config(self) -> dict[str, Any]:
        return {"peak": self.peak, "total_steps": self.total, "pct_start": self.pct_start,
                "div_factor": self.div, "final_div_factor": self.final_div}


class Warmup(_base_class()):  # type: ignore[misc]
    """Linear warmup to ``peak`` over ``steps`` (rate peak·(i+1)/steps at step i), then
    ``base`` (None: constant peak) evaluated from 0, so the decay starts after warmup."""

    def __init__(self, peak: float, steps: int, base: Any) -> None:
        self.peak, self.steps, self.base = peak, steps, base

    def __call__(self, step: Any) -> Any:
        import keras.ops as ops

        step = ops.cast(step, "float32")
        warm = self.peak * (step + 1.0) / float(self.steps)
        after = (self.base(ops.maximum(step - self.steps, 0.0)) if self.base is not None
                 else ops.convert_to_tensor(self.peak, "float32"))
        return ops.where(step < self.steps, warm, ops.cast(after, "float32"))

    def get_config(self) -> dict[str, Any]:
        return {"peak": self.peak, "steps": self.steps}


class OverTime(_base_class()):  # type: ignore[misc]
    """``schedule.over: time``: ``base`` (a schedule over ``resolution`` steps, or a constant
    rate) evaluated at ``progress`` × ``resolution``, whatever the optimizer's step.
    ``progress`` (seconds used / ``train.time_budget``, clipped to [0, 1]) is a variable
    that the loop sets before each step to the value all replicas and workers agreed on,
    so every replica applies the same rate."""

    def __init__(self, base: Any, progress: Any, resolution: int) -> None:
        self.base, self.progress, self.resolution = base, progress, resolution

    def __call__(self, step: Any) -> Any:
        import keras.ops as ops

        p = ops.clip(ops.cast(self.progress, "float32"), 0.0, 1.0)
        if not callable(self.base):
            return ops.convert_to_tensor(self.base, "float32") + 0.0 * p
        return ops.cast(self.base(p * float(self.resolution)), "float32")

    def get_config(self) -> dict[str, Any]:
        return {"resolution": self.resolution}


class ReduceOnPlateau(Callback):
    """``schedule: plateau``: multiply every optimizer's rate by ``decay_rate`` after
    ``patience`` epochs without a lower ``val_loss`` (never below ``min_factor`` × the
    configured rate). The state is a function of the history, so resume replays it."""

    def __init__(self, cfg: ScheduleConfig) -> None:
        self.cfg = cfg
        self.factor, self.best, self.wait = 1.0, math.inf, 0

    def _step(self, val_loss: float | None) -> None:
        if val_loss is None:
            return
        if val_loss < self.best:
            self.best, self.wait = val_loss, 0
            return
        self.wait += 1
        if self.wait >= self.cfg.patience:
            self.factor = max(self.factor * self.cfg.decay_rate, self.cfg.min_factor)
            self.wait = 0

    def _apply(self) -> None:
        opt = self.trainer.optimizer
        pairs = [(getattr(opt, "main", opt), self.trainer.config.learning_rate)]
        pairs += [(g.optimizer, g.learning_rate) for g in getattr(opt, "groups", [])]
        for o, base in pairs:
            o.learning_rate = base * self.factor

    def on_train_begin(self) -> None:
        for record in self.trainer.history:
            self._step(record.get("val_loss"))
        self._apply()

    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None:
        self._step(record.get("val_loss"))
        self._apply()
        record["learning_rate_factor"] = self.factor
