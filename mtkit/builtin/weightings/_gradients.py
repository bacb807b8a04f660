"""Helpers for gradient weightings: per-task gradient lists as one matrix, and back.

Every gradient method here combines the task gradients linearly, ``d = sum_t w_t g_t``,
and needs only their inner products to choose ``w``. So the per-task gradient lists are
flattened into one ``(tasks, parameters)`` matrix ``G`` once, the small Gram matrix
``G G^T`` is what the methods see, and the combination is one ``w^T G`` unflattened to
the variables' shapes.
"""

from __future__ import annotations

from typing import Any


def flatten(grads: list[Any]) -> Any:
    """One 1-D tensor holding every gradient of the list, in order."""
    import tensorflow as tf

    return tf.concat([tf.reshape(tf.cast(g, tf.float32), [-1]) for g in grads], axis=0)


def unflatten(vector: Any, like: list[Any]) -> list[Any]:
    """Split a 1-D tensor back into tensors shaped like ``like`` (static shapes)."""
    import tensorflow as tf

    shapes = [tuple(int(d) for d in g.shape) for g in like]
    sizes = [int(tf.TensorShape(s).num_elements()) for s in shapes]
    parts = tf.split(vector, sizes, axis=0)
    return [tf.cast(tf.reshape(p, s), g.dtype) for p, s, g in zip(parts, shapes, like, strict=True)]


def task_matrix(grads: dict[str, Any], names: list[str]) -> Any:
    """``(tasks, parameters)`` float32 matrix; ``grads[name]`` is a tensor or a list of them."""
    import tensorflow as tf

    rows = [flatten(grads[n] if isinstance(grads[n], list | tuple) else [grads[n]]) for n in names]
    return tf.stack(rows, axis=0)


def gram(matrix: Any) -> Any:
    """``G G^T`` in float64 (the small solvers run in double precision)."""
    import tensorflow as tf

    return tf.cast(tf.matmul(matrix, matrix, transpose_b=True), tf.float64)


def combine(weights: Any, matrix: Any) -> Any:
    """``sum_t weights[t] * matrix[t]`` as a 1-D tensor."""
    import tensorflow as tf

    return tf.linalg.matvec(matrix, tf.cast(weights, matrix.dtype), transpose_a=True)


def stack_scalars(values: dict[str, Any], names: list[str], dtype: Any = None) -> Any:
    """The per-task scalars of ``values`` as one vector in ``names`` order."""
    import tensorflow as tf

    dtype = dtype or tf.float64
    return tf.stack([tf.cast(values[n], dtype) for n in names])
