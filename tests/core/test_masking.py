"""Masked losses against a hand computation: task B labelled on 30% of rows."""

from __future__ import annotations

import numpy as np

from mtkit.builtin.losses.mse import MeanSquaredError
from mtkit.builtin.losses.sparse_categorical_crossentropy import SparseCategoricalCrossentropy
from mtkit.training.masking import masked_mean, masked_sum_and_count


def test_masked_mse_equals_mean_over_labelled_rows_only():
    rng = np.random.default_rng(0)
    y_pred = rng.normal(size=(20, 1)).astype(np.float32)
    y_true = rng.normal(size=(20,)).astype(np.float32)
    labelled = np.zeros(20, bool)
    labelled[rng.choice(20, 6, replace=False)] = True  # 30% labelled
    y_masked = np.where(labelled, y_true, np.nan).astype(np.float32)
    hand = np.mean((y_pred[labelled, 0] - y_true[labelled]) ** 2)
    got = float(masked_mean(MeanSquaredError(), y_masked, y_pred))
    np.testing.assert_allclose(got, hand, rtol=1e-6)


def test_masked_crossentropy_and_gradient_ignore_missing_rows():
    import tensorflow as tf

    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4], [0.25, 0.5, 0.25]],
                     np.float32)
    y = np.array([0, -1, 2, -1], np.int32)
    hand = -(np.log(0.7) + np.log(0.4)) / 2
    logits = tf.Variable(np.log(probs))
    with tf.GradientTape() as tape:
        loss = masked_mean(SparseCategoricalCrossentropy(), y, tf.nn.softmax(logits))
    np.testing.assert_allclose(float(loss), hand, rtol=1e-5)
    grad = tape.gradient(loss, logits).numpy()
    assert np.all(grad[[1, 3]] == 0.0) and np.all(np.abs(grad[[0, 2]]) > 0)


def test_batch_without_labels_contributes_exactly_zero_not_nan():
    import tensorflow as tf

    y_pred = tf.Variable(np.ones((4, 1), np.float32))
    with tf.GradientTape() as tape:
        total, count = masked_sum_and_count(MeanSquaredError(), np.full(4, np.nan, np.float32),
                                            y_pred)
        loss = masked_mean(MeanSquaredError(), np.full(4, np.nan, np.float32), y_pred)
    assert float(total) == 0.0 and float(count) == 0.0 and float(loss) == 0.0
    assert np.all(tape.gradient(loss, y_pred).numpy() == 0.0)
