"""Checkpoints of a run: model, optimizer, the weighting's state, the epoch number and the
seconds the run had used (``train.time_budget`` continues from them on resume)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mtkit import rundir
from mtkit.errors import TrainingError, first_line


class Checkpoints:
    """``tf.train.CheckpointManager`` over the run's ``checkpoints/`` (two kept)."""

    def __init__(self, run: Path, model: Any, optimizer: Any, weighting_vars: dict[str, Any]):
        import tensorflow as tf

        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.elapsed = tf.Variable(0.0, dtype=tf.float64, trainable=False, name="elapsed")
        state = tf.Module()
        for k, v in weighting_vars.items():
            setattr(state, k, v)
        groups = optimizer.trackables() if hasattr(optimizer, "trackables") else {}
        main = getattr(optimizer, "main", optimizer)  # a GroupedOptimizer's default group
        self.ckpt = tf.train.Checkpoint(model=model, optimizer=main, weighting=state,
                                        epoch=self.epoch, elapsed=self.elapsed, **groups)
        self.manager = tf.train.CheckpointManager(self.ckpt, run / rundir.CHECKPOINTS,
                                                  max_to_keep=2)

    def restore(self, folder: Path) -> int:
        """Restore the latest checkpoint in ``folder``; the epoch it holds (0 if none)."""
        import tensorflow as tf

        path = tf.train.latest_checkpoint(str(folder))
        if not path:
            return 0
        _refuse_keras_loss_scale(path)
        try:
            self.ckpt.restore(path).expect_partial()
        except Exception as exc:  # tf.errors.OpError (damaged), ValueError (other shapes), ...
            raise TrainingError(
                f"cannot resume from checkpoint '{path}': it is damaged or does not match the "
                f"model the config describes ({type(exc).__name__}: {first_line(exc, 240)}). If "
                "the trunk, the heads or the tasks changed since the run started, start a new run "
                "(another --out, or --overwrite); if the files are damaged, delete that "
                "checkpoint's files to resume from the one before."
            ) from None
        return int(self.epoch.numpy())

    def elapsed_seconds(self) -> float:
        """Seconds of training the restored checkpoint records (0: none recorded)."""
        return float(self.elapsed.numpy())

    def set_elapsed(self, seconds: float) -> None:
        self.elapsed.assign(seconds)

    def save(self, epoch: int) -> None:
        self.epoch.assign(epoch)
        self.manager.save(checkpoint_number=epoch)


def _refuse_keras_loss_scale(path: str) -> None:
    """A mixed-precision checkpoint from before ``SharedLossScale`` keeps the optimizer's
    state under Keras' LossScaleOptimizer (``optimizer/inner_optimizer/...``); restoring it
    with ``expect_partial`` would silently start the optimizer afresh, so say so instead."""
    import tensorflow as tf

    try:
        names = [n for n, _ in tf.train.list_variables(path)]
    except Exception:  # damaged: restore() reports it with its own message
        return
    if any(n.startswith("optimizer/inner_optimizer/") for n in names):
        raise TrainingError(
            f"cannot resume from checkpoint '{path}': it was written by an older mtkit under "
            "train.mixed_precision (one Keras LossScaleOptimizer), whose optimizer state does "
            "not map onto this version's shared loss scale, so resuming would silently reset "
            "the optimizer. Finish the run with the mtkit version that started it, or start a "
            "new run (another --out, or --overwrite).")
