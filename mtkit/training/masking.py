"""Masked per-task losses: each task averages only over the rows that carry its label.

A missing label is -1 (integer labels) or NaN (float labels). Missing rows get a harmless
placeholder label *before* the loss is computed and are zeroed after, so neither the
value nor the gradient can become NaN; a batch without any label for a task contributes
exactly zero for it.
"""

from __future__ import annotations

from typing import Any

from mtkit.plugin_types import Loss


def present_mask(y_true: Any) -> Any:
    """Boolean (batch,) mask of rows with a label."""
    import tensorflow as tf

    y_true = tf.convert_to_tensor(y_true)
    ok = y_true >= 0 if y_true.dtype.is_integer else tf.math.is_finite(y_true)
    if len(y_true.shape) > 1:
        ok = tf.reduce_all(tf.reshape(ok, [tf.shape(y_true)[0], -1]), axis=1)
    return ok


def masked_sum_and_count(loss: Loss, y_true: Any, y_pred: Any,
                         class_weights: Any = None) -> tuple[Any, Any]:
    """(sum of per-example losses over labelled rows, number of labelled rows), float32.

    ``class_weights`` (one float per class, for class labels) multiply each labelled row's
    loss by its class's weight. A (2, labels) array (multilabel) weighs each label's loss
    (``loss.per_element``) by that label's negative or positive weight before the row's
    mean over its labels. The count stays the number of labelled rows (as Keras'
    ``class_weight`` with ``sum_over_batch_size``), and a missing label still contributes
    exactly zero.
    """
    import numpy as np
    import tensorflow as tf

    y_true = tf.convert_to_tensor(y_true)
    present = present_mask(y_true)
    row_mask = tf.reshape(present, [-1] + [1] * (len(y_true.shape) - 1))
    safe = tf.where(row_mask, y_true, tf.zeros_like(y_true))
    if class_weights is not None and np.ndim(class_weights) == 2:
        elem = tf.cast(loss.per_element(safe, y_pred), tf.float32)
        elem = tf.reshape(elem, [tf.shape(elem)[0], -1])
        w = tf.constant(class_weights, tf.float32)
        positive = tf.reshape(tf.cast(safe, tf.float32), tf.shape(elem)) > 0.5
        per = tf.reduce_mean(elem * tf.where(positive, w[1], w[0]), axis=-1)
    else:
        per = tf.reshape(tf.cast(loss.per_example(safe, y_pred), tf.float32), [-1])
        if class_weights is not None:
            index = tf.cast(tf.reshape(safe, [-1]), tf.int32)
            per = per * tf.gather(tf.constant(class_weights, tf.float32), index)
    per = tf.where(present, per, tf.zeros_like(per))
    return tf.reduce_sum(per), tf.reduce_sum(tf.cast(present, tf.float32))


def masked_mean(loss: Loss, y_true: Any, y_pred: Any) -> Any:
    """Mean loss over labelled rows; exactly 0.0 when the batch has none."""
    import tensorflow as tf

    total, count = masked_sum_and_count(loss, y_true, y_pred)
    return tf.math.divide_no_nan(total, count)
