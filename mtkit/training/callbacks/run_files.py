"""The run directory's per-epoch and final files, each written atomically.

After every epoch: ``history.json``, ``model.keras``, then the checkpoint — last, so a
run killed between these writes resumes from the previous checkpoint and its history is
cut back to match. At the end: ``model.keras`` again if a callback replaced the final weights
(early stopping's best epoch, the weight average), ``metrics.json`` and ``curves.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mtkit import rundir
from mtkit.training.callbacks.base import Callback


def model_save(model: Any, path: Path) -> None:
    rundir.atomic_write(path, lambda p: model.save(p))


class RunFiles(Callback):
    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None:
        t = self.trainer
        rundir.write_json(t.run / rundir.HISTORY, {"epochs": t.history})
        model_save(t.model, t.run / rundir.MODEL)
        if t.config.checkpoint:
            t.checkpoints.save(epoch)

    def on_train_end(self) -> None:
        if self.trainer.weights_replaced:  # best epoch restored, or averaged weights
            model_save(self.trainer.model, self.trainer.run / rundir.MODEL)

    def on_final_metrics(self, metrics: dict[str, Any]) -> None:
        t = self.trainer
        rundir.write_json(t.run / rundir.METRICS, metrics)
        if t.history:
            rundir.plot_curves(t.run / rundir.CURVES, t.history)
