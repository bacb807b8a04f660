"""Epoch hooks, Keras style: each concern of a run (progress, divergence guard,
TensorBoard, early stopping, run files) is one callback, and ``fit`` calls them in order.

A callback sees the ``Trainer`` (``self.trainer``, set by ``on_train_begin``) and may set
``trainer.stop_training``. Hooks, in the order ``fit`` calls them:

* ``on_train_begin()``, once;
* per epoch: ``on_epoch_begin(epoch)``; ``on_steps_end(epoch, steps)`` after the epoch's
  steps, before anything else looks at the weights; ``on_scores(epoch, split, scores)``
  after each evaluation; ``on_epoch_end(epoch, record)`` with the history record;
* ``on_train_end()`` after the last epoch (before the final evaluation), then
  ``on_final_metrics(metrics)``.
"""

from mtkit.training.callbacks.base import Callback, CallbackList

__all__ = ["Callback", "CallbackList"]
