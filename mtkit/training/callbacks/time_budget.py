"""``train.time_budget``: training stops at the first step that starts once the run's
seconds are spent (even mid-epoch), and ``schedule.over: time`` reads the progress.

Every replica and worker must apply the same learning rate and stop at the same step,
or the collectives of a ``multi-worker`` run wait forever. So each host's clock only
*proposes* a progress before each step: the train step all-reduces the proposals (the
maximum, i.e. the most advanced clock), assigns the agreed value to the progress
variable the schedule reads, and returns it; the host stops on the agreed value only.
One process (``none``, ``mirrored``) proposes once for all its replicas.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mtkit.training.callbacks.base import Callback

CLOCK: Callable[[], float] = time.monotonic
"""The clock a run reads (tests replace it with a fake one: no real waiting)."""


class TimeBudget(Callback):
    """Counts wall seconds from the start of training, evaluation and checkpoint writes
    included (plus, on resume, the seconds the checkpoint records), and ends the run after
    the first step whose agreed progress reached 1. ``clock`` is injectable."""

    def __init__(self, budget: float, clock: Callable[[], float] | None = None) -> None:
        self.budget = budget
        self.clock = clock or CLOCK
        self.start = 0.0
        self.before = 0.0
        self.agreed = 0.0  # the last progress every replica and worker agreed on
        self.spent = False
        self.stopped_at: dict[str, int] | None = None

    def used(self) -> float:
        return self.before + (self.clock() - self.start)

    def propose(self) -> float:
        """This host's progress before a step (the step agrees on the maximum)."""
        return self.used() / self.budget

    def step_done(self, agreed: float, epoch: int, step_in_epoch: int) -> bool:
        """Record the agreed progress of the step that just ran; True: stop now."""
        self.agreed = agreed
        if agreed >= 1.0:
            self.spent = True
            self.stopped_at = {"epoch": epoch, "step_in_epoch": step_in_epoch,
                               "steps": self.trainer.global_step + step_in_epoch}
            return True
        return False

    def on_train_begin(self) -> None:
        t = self.trainer
        recorded = t.checkpoints.elapsed_seconds() if t.start_epoch else 0.0
        # older checkpoints hold no elapsed seconds: the history's epochs approximate them
        self.before = recorded or sum(float(h.get("seconds", 0.0)) for h in t.history)
        self.start = self.clock()
        t.timer = self
        if self.before >= self.budget:  # every worker restored the same seconds
            self.spent = True
            self.agreed = self.before / self.budget
            t.stop_training = True

    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None:
        self.trainer.checkpoints.set_elapsed(self.used())  # saved with this epoch's checkpoint
        record["time_progress"] = round(self.agreed, 6)
        if self.spent:
            self.trainer.stop_training = True

    def on_final_metrics(self, metrics: dict[str, Any]) -> None:
        from mtkit.training.optimizers import current_learning_rate

        metrics["time_budget"] = {
            "seconds": self.budget, "used": round(self.used(), 3), "spent": self.spent,
            "over": self.trainer.config.schedule.over if self.trainer.config.schedule else "steps",
            "progress": round(min(self.agreed, 1.0), 6), "stopped_at": self.stopped_at,
            "final_learning_rate": current_learning_rate(self.trainer.optimizer)}
