"""Stop a run whose losses became non-finite, keeping the last good checkpoint."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from mtkit import rundir
from mtkit.errors import TrainingError
from mtkit.training.callbacks.base import Callback

if TYPE_CHECKING:
    from mtkit.training.trainer import StepLog

_ADVICE = ("Likely causes: a learning rate too high, unscaled inputs, or labels outside the "
           "head's range; lower train.learning_rate and check the data.")


class DivergenceGuard(Callback):
    """Raises before anything of a diverged epoch is written (history, model, checkpoint).

    Two checks: every step's loss (fetched once per epoch), and the losses of the weights
    after the epoch's last update — each step can be finite while the last update already
    made the weights explode, and checkpointing those would keep an unusable model.
    """

    def _kept(self, epoch: int) -> str:
        if epoch > 1:
            return (f"the last good checkpoint (epoch {epoch - 1}) is kept in "
                    f"'{self.trainer.run / rundir.CHECKPOINTS}'")
        return "no epoch had finished, so nothing was kept"

    def on_steps_end(self, epoch: int, steps: StepLog) -> None:
        # Name the earliest divergence over all tasks (ties: config order): a later task's
        # NaN is usually a consequence of an earlier task's inf, not the cause.
        first: tuple[int, str, float] | None = None
        for k, vals in steps.values.items():
            bad = np.flatnonzero(~np.isfinite(vals))
            if bad.size and (first is None or bad[0] < first[0]):
                first = (int(bad[0]), k, vals[bad[0]])
        if first is not None:
            i, k, value = first
            raise TrainingError(
                f"the loss of task '{k}' became {value} at epoch {epoch}, step "
                f"{steps.first_step + i + 1}; training stopped and {self._kept(epoch)}. "
                + _ADVICE)

    def on_scores(self, epoch: int, split: str, scores: dict[str, Any]) -> None:
        for k, row in scores["tasks"].items():
            value = row.get("loss")
            if value is not None and not math.isfinite(value):
                raise TrainingError(
                    f"the loss of task '{k}' became {value} on the {split} split after epoch "
                    f"{epoch} (step {self.trainer.global_step}): its last updates made the weights "
                    f"diverge; training stopped and {self._kept(epoch)}. " + _ADVICE)
