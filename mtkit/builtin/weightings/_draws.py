"""Random draws that every replica and a resumed run agree on (PCGrad, GradVac, RLW, GradDrop).

A method keeps a step counter (a checkpointed ``tf.Variable`` assigned on the first replica
only) and seeds a stateless generator with ``(seed, counter)``: all replicas draw the
same values, and ``--resume`` continues the sequence where it stopped.
"""

from __future__ import annotations

from typing import Any


def step_counter(name: str) -> Any:
    """A checkpointable int64 counter at 0 (create it inside the distribution scope)."""
    import tensorflow as tf

    return tf.Variable(0, dtype=tf.int64, trainable=False, name=name,
                       aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)


def next_seed(seed: int, counter: Any) -> Any:
    """This step's stateless seed ``(seed, counter)``; advances the counter."""
    import tensorflow as tf

    value = tf.stack([tf.constant(seed, tf.int64), counter.read_value()])
    counter.assign_add(1)
    return value


def task_orders(seed: int, counter: Any, tasks: int) -> Any:
    """``(T, T)``: row ``i`` is a random permutation of the tasks (PCGrad's, GradVac's order)."""
    import tensorflow as tf

    draw = tf.random.stateless_uniform([tasks, tasks], seed=next_seed(seed, counter))
    return tf.argsort(draw, axis=1)
