"""Train-time image augmentation with TensorFlow stateless random ops (per-example, seeded).

Every example in a batch gets its own random affine transform, drawn from the batch's
stateless seed, and one ``ImageProjectiveTransformV3`` op applies them all; the same run
seed therefore always yields the same augmented batches. TensorFlow is imported inside
the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import Any


def _as_nhwc(images: Any) -> tuple[Any, bool]:
    import tensorflow as tf

    if len(images.shape) == 3:
        return tf.expand_dims(images, -1), True
    return images, False


def _transform(images: Any, transforms: Any, out_hw: tuple[int, int], interpolation: str,
               fill_value: float = 0.0) -> Any:
    import tensorflow as tf

    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.constant(out_hw, tf.int32),
        fill_value=tf.constant(fill_value, images.dtype), interpolation=interpolation,
        fill_mode="CONSTANT")


def shift_scale_noise(images: Any, seed: Any, shift: float, scale: float, noise: float) -> Any:
    """Random translation (±``shift`` px), zoom (factor in 1 ± ``scale``) and Gaussian noise.

    ``images`` is (batch, H, W) or (batch, H, W, C) float; zero fills the uncovered border.
    """
    import tensorflow as tf

    x, squeezed = _as_nhwc(images)
    if shift or scale:
        n = tf.shape(x)[0]
        h, w = x.shape[1], x.shape[2]
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 4)
        tx = tf.random.stateless_uniform([n], seeds[0], -shift, shift)
        ty = tf.random.stateless_uniform([n], seeds[1], -shift, shift)
        s = tf.random.stateless_uniform([n], seeds[2], 1.0 - scale, 1.0 + scale)
        cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
        inv = 1.0 / s  # output (x, y) samples input ((x - c) / s + c - t)
        zeros = tf.zeros_like(s)
        transforms = tf.stack([inv, zeros, cx - cx * inv - tx,
                               zeros, inv, cy - cy * inv - ty, zeros, zeros], axis=1)
        x = _transform(x, transforms, (h, w), "BILINEAR")
    if noise:
        noise_seed = tf.random.experimental.stateless_fold_in(tf.cast(seed, tf.int64), 17)
        x = x + tf.random.stateless_normal(tf.shape(x), noise_seed, stddev=noise, dtype=x.dtype)
    return tf.squeeze(x, -1) if squeezed else x


def random_crop(images: Any, seed: Any, size: int) -> Any:
    """A random ``size``×``size`` window of each image (its own offset per example)."""
    import tensorflow as tf

    x, squeezed = _as_nhwc(images)
    n = tf.shape(x)[0]
    h, w = x.shape[1], x.shape[2]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
    ox = tf.random.stateless_uniform([n], seeds[0], 0, w - size + 1, dtype=tf.int32)
    oy = tf.random.stateless_uniform([n], seeds[1], 0, h - size + 1, dtype=tf.int32)
    ones = tf.ones([n], tf.float32)
    zeros = tf.zeros([n], tf.float32)
    transforms = tf.stack([ones, zeros, tf.cast(ox, tf.float32),
                           zeros, ones, tf.cast(oy, tf.float32), zeros, zeros], axis=1)
    x = _transform(x, transforms, (size, size), "NEAREST")
    return tf.squeeze(x, -1) if squeezed else x


def center_crop_np(images: Any, size: int) -> Any:
    """The central ``size``×``size`` window of (N, H, W[, C]) numpy images."""
    h, w = images.shape[1], images.shape[2]
    top, left = (h - size) // 2, (w - size) // 2
    return images[:, top:top + size, left:left + size]
