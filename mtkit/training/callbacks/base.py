"""The callback base class and the list ``fit`` calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mtkit.training.trainer import StepLog, Trainer


class Callback:
    """Override the hooks a concern needs; every hook does nothing by default."""

    trainer: Trainer

    def on_train_begin(self) -> None: ...

    def on_epoch_begin(self, epoch: int) -> None: ...

    def on_steps_end(self, epoch: int, steps: StepLog) -> None: ...

    def on_scores(self, epoch: int, split: str, scores: dict[str, Any]) -> None: ...

    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None: ...

    def on_train_end(self) -> None: ...

    def on_final_metrics(self, metrics: dict[str, Any]) -> None: ...

    def close(self) -> None:
        """Release resources (files, the terminal); called however training ends."""


class CallbackList(Callback):
    """Calls each hook on every callback, in list order."""

    def __init__(self, callbacks: list[Callback], trainer: Trainer) -> None:
        self.callbacks = callbacks
        self.trainer = trainer
        for cb in callbacks:
            cb.trainer = trainer

    def _each(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self) -> None:
        self._each("on_train_begin")

    def on_epoch_begin(self, epoch: int) -> None:
        self._each("on_epoch_begin", epoch)

    def on_steps_end(self, epoch: int, steps: StepLog) -> None:
        self._each("on_steps_end", epoch, steps)

    def on_scores(self, epoch: int, split: str, scores: dict[str, Any]) -> None:
        self._each("on_scores", epoch, split, scores)

    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None:
        self._each("on_epoch_end", epoch, record)

    def on_train_end(self) -> None:
        self._each("on_train_end")

    def on_final_metrics(self, metrics: dict[str, Any]) -> None:
        self._each("on_final_metrics", metrics)

    def close(self) -> None:
        for cb in reversed(self.callbacks):
            cb.close()
