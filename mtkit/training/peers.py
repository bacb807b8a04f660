"""Multi-worker runs: a peer that died or hung becomes one clear error, in bounded time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mtkit import rundir
from mtkit.errors import TrainingError, first_line


@contextmanager
def peers_guard(worker_index: int, num_workers: int, epoch: Callable[[], int],
                shared_run: Path) -> Iterator[None]:
    """Turn TensorFlow's collective failures into a TrainingError naming the epoch and
    the checkpoint to resume from (``train.worker_timeout`` bounds the wait)."""
    import tensorflow as tf

    lost = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
            tf.errors.CancelledError, tf.errors.AbortedError)
    try:
        yield
    except lost as exc:
        e = epoch()
        raise TrainingError(
            f"worker {worker_index} of {num_workers} lost contact with its peers in epoch {e} "
            f"({type(exc).__name__}: {first_line(exc, 160)}); a worker probably died. The last "
            f"checkpoint (epoch {e - 1}) is kept in '{shared_run / rundir.CHECKPOINTS}'; restart "
            "every worker with --resume. (train.worker_timeout bounds how long a worker waits "
            "for its peers.)"
        ) from None
