"""The Keras optimizer a config describes: its type (names live once, in
``config.OPTIMIZERS``), learning rate or schedule, clipping, weight decay and EMA."""

from __future__ import annotations

from typing import Any

from mtkit.config import OPTIMIZERS, TrainConfig


def make_optimizer(cfg: TrainConfig, rate: float, steps_per_epoch: int,
                   kind: str | None = None, progress: Any = None) -> Any:
    """Optimizer ``kind`` (default ``cfg.optimizer``) with peak rate ``rate`` on
    ``cfg.schedule`` (over time: reading ``progress``): a parameter group may have its own
    kind and rate, and shares the rest. Mixed precision's loss scale is not here: one scale serves every group
    (``loss_scale.SharedLossScale``)."""
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
    return getattr(keras.optimizers, OPTIMIZERS[kind or cfg.optimizer])(
        learning_rate=make_schedule(cfg, rate, steps_per_epoch, progress), **kwargs)


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
