"""``train.time_budget``: no epoch starts once the run's training seconds are spent."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mtkit.training.callbacks.base import Callback


class TimeBudget(Callback):
    """Counts wall seconds from the start of training (plus, on resume, the seconds the
    history already records) and stops after the epoch in which they reach the budget:
    a run overshoots by less than one epoch (cap ``train.steps_per_epoch`` to stop finer).
    ``clock`` is injectable so tests need no real waiting."""

    def __init__(self, budget: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget, self.clock = budget, clock
        self.start = 0.0
        self.before = 0.0
        self.spent = False

    def used(self) -> float:
        return self.before + (self.clock() - self.start)

    def on_train_begin(self) -> None:
        self.before = sum(float(h.get("seconds", 0.0)) for h in self.trainer.history)
        self.start = self.clock()
        if self.before >= self.budget:
            self.spent = True
            self.trainer.stop_training = True

    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None:
        if self.used() >= self.budget:
            self.spent = True
            self.trainer.stop_training = True

    def on_final_metrics(self, metrics: dict[str, Any]) -> None:
        metrics["time_budget"] = {"seconds": self.budget, "used": round(self.used(), 3),
                                  "spent": self.spent}
