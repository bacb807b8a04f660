"""``train.ema``: the final model takes the optimizer's moving average of the weights."""

from __future__ import annotations

from mtkit.training.callbacks.base import Callback


class WeightAverage(Callback):
    """Keras keeps the average (``use_ema``) inside the optimizer; as in Keras' ``fit``,
    it replaces the model's weights when training ends, so the final metrics,
    ``model.keras`` and every export use it. Per-epoch validation uses the raw weights."""

    def on_train_end(self) -> None:
        opt = self.trainer.optimizer
        for o in [getattr(opt, "main", opt)] + [g.optimizer for g in getattr(opt, "groups", [])]:
            inner = getattr(o, "inner_optimizer", o)
            inner.finalize_variable_values(inner._trainable_variables)
        self.trainer.weights_replaced = True
