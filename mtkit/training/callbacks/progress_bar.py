"""The terminal display of a run (see ``mtkit.training.progress``) as a callback."""

from __future__ import annotations

from typing import Any

from mtkit.training.callbacks.base import Callback
from mtkit.training.progress import Progress


class ProgressBar(Callback):
    def __init__(self, tasks: list[str], quiet: bool) -> None:
        self.progress = Progress(tasks, quiet=quiet)
        self.open = False

    def on_train_begin(self) -> None:
        self.progress.__enter__()
        self.open = True
        self.trainer.progress = self.progress  # live per-step updates from the epoch's steps

    def on_epoch_begin(self, epoch: int) -> None:
        self.progress.start_epoch(epoch, self.trainer.config.epochs, self.trainer.steps_per_epoch)

    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None:
        self.progress.end_epoch(record)

    def on_train_end(self) -> None:
        self.close()

    def on_final_metrics(self, metrics: dict[str, Any]) -> None:
        self.progress.summary(metrics)

    def close(self) -> None:
        if self.open:
            self.progress.__exit__(None, None, None)
            self.open = False
