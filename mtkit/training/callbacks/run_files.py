"""The run directory's per-epoch and final files, each written atomically.

After every epoch: ``history.json``, ``model.keras``, then the checkpoint — last, so a
run killed between these writes resumes from the previous checkpoint and its history is
cut back to match. At the end: ``model.keras`` again if early stopping restored the best
weights, ``metrics.json`` and ``curves.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mtkit import rundir
from mtkit.training.callbacks.base import Callback
from mtkit.training.callbacks.early_stopping import EarlyStopping


def model_save(model: Any, path: Path) -> None:
    rundir.atomic_write(path, lambda p: model.save(p))


class RunFiles(Callback):
    def __init__(self, early_stopping: EarlyStopping) -> None:
        self.early_stopping = early_stopping

    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None:
        t = self.trainer
        rundir.write_json(t.run / rundir.HISTORY, {"epochs": t.history})
        model_save(t.model, t.run / rundir.MODEL)
        if t.config.checkpoint:
            t.checkpoints.save(epoch)

    def on_train_end(self) -> None:
        if self.early_stopping.restored:
            model_save(self.trainer.model, self.trainer.run / rundir.MODEL)

    def on_final_metrics(self, metrics: dict[str, Any]) -> None:
        t = self.trainer
        rundir.write_json(t.run / rundir.METRICS, metrics)
        if t.history:
            rundir.plot_curves(t.run / rundir.CURVES, t.history)
