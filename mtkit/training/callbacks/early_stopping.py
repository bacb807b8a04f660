"""Early stopping on the validation loss, keeping the best epoch's weights."""

from __future__ import annotations

import math
from typing import Any

from mtkit import rundir
from mtkit.config import EarlyStopping as EarlyStoppingConfig
from mtkit.training.callbacks.base import Callback


class EarlyStopping(Callback):
    """Tracks the best ``val_loss`` (also across ``--resume``: it is rebuilt from the
    history); stops after ``patience`` epochs without an improvement of ``min_delta``; with
    ``restore_best`` the model ends with the best epoch's weights.

    Without an ``early_stopping`` config it still tracks the best epoch (no stop, no
    restore), so the bookkeeping is the same for every run.
    """

    def __init__(self, config: EarlyStoppingConfig | None) -> None:
        self.config = config
        self.best = math.inf
        self.since_best = 0
        self.best_weights: list[Any] | None = None

    def on_train_begin(self) -> None:
        history = self.trainer.history
        self.best = min((h["val_loss"] for h in history if h.get("val_loss") is not None),
                        default=math.inf)
        for h in history:
            self.since_best = 0 if h.get("val_loss") == self.best else self.since_best + 1
        if self.trainer.start_epoch:
            self.best_weights = self.trainer.model.get_weights()
            self._keep_finished_runs_best()

    def _keep_finished_runs_best(self) -> None:
        """A finished run trained further (``--resume`` with more epochs): its model.keras
        holds the best epoch's weights (the checkpoint the last epoch's), and must stay the
        best unless a new epoch beats it."""
        run, model = self.trainer.run, self.trainer.model
        if not (self.config and self.config.restore_best and (run / rundir.METRICS).is_file()
                and (run / rundir.MODEL).is_file()):
            return
        last = self.best_weights
        model.load_weights(run / rundir.MODEL)
        self.best_weights = model.get_weights()
        model.set_weights(last)

    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None:
        val_loss = record.get("val_loss")
        min_delta = self.config.min_delta if self.config else 0.0
        if val_loss is not None and val_loss < self.best - min_delta:
            self.best, self.since_best = val_loss, 0
            self.best_weights = self.trainer.model.get_weights()
        else:
            self.since_best += 1
        if self.config and self.since_best >= self.config.patience:
            self.trainer.stop_training = True
            self.trainer.stopped_early = True

    def on_train_end(self) -> None:
        if self.config and self.config.restore_best and self.best_weights is not None:
            self.trainer.model.set_weights(self.best_weights)
            self.trainer.weights_replaced = True
