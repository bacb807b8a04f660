"""Per-epoch scalars (split/task/metric) for TensorBoard, under the run's ``tensorboard/``."""

from __future__ import annotations

from typing import Any

from mtkit.training.callbacks.base import Callback


class TensorBoard(Callback):
    def __init__(self) -> None:
        self.writer: Any = None

    def on_train_begin(self) -> None:
        import tensorflow as tf

        self.writer = tf.summary.create_file_writer(str(self.trainer.run / "tensorboard"))

    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None:
        import tensorflow as tf

        with self.writer.as_default(step=epoch):
            for split in ("train", "val"):
                for task, row in record.get(split, {}).items():
                    for m, v in row.items():
                        tf.summary.scalar(f"{split}/{task}/{m}", v)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
