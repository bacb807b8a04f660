"""The Keras optimizer a config describes: its type (names live once, in
``config.OPTIMIZERS``), learning rate or schedule, clipping, weight decay and EMA."""

from __future__ import annotations

from typing import Any

from mtkit.config import OPTIMIZERS, TrainConfig


def make_optimizer(cfg: TrainConfig, rate: float, steps_per_epoch: int,
                   mixed_precision: bool = False, progress: Any = None) -> Any:
    """``cfg.optimizer`` with peak rate ``rate`` (a group may have its own) on
    ``cfg.schedule`` (over time: reading ``progress``); wrapped in a LossScaleOptimizer
    for mixed precision."""
    import keras

    from mtkit.training.schedules import make_schedule

    kwargs: dict[str, Any] = {}
    if cfg.clip_norm is not None:
        kwargs["global_clipnorm"] = cfg.clip_norm
    if cfg.clip_value is not None:
        kwargs["clipvalue"] = cfg.clip_value
    if cfg.weight_decay is not None:
        kwargs["weight_decay"] = cfg.weight_decay
    if cfg.ema is not None:
        kwargs.update(use_ema=True, ema_momentum=cfg.ema)
    optimizer = getattr(keras.optimizers, OPTIMIZERS[cfg.optimizer])(
        learning_rate=make_schedule(cfg, rate, steps_per_epoch, progress), **kwargs)
    return keras.optimizers.LossScaleOptimizer(optimizer) if mixed_precision else optimizer


def has_fixed_rate(cfg: TrainConfig) -> bool:
    """True when the optimizer's rate is a settable float (no step schedule)."""
    s = cfg.schedule
    return s is None or (s.type in ("constant", "plateau") and s.over == "steps"
                         and not (s.warmup_steps or s.warmup_epochs))


def current_learning_rate(optimizer: Any) -> float:
    """The default group's rate as the next step would apply it (a schedule evaluated at
    the optimizer's step, or over time at the run's progress)."""
    import keras

    main = getattr(optimizer, "main", optimizer)  # a GroupedOptimizer's default group
    return float(keras.ops.convert_to_numpy(main.learning_rate))
