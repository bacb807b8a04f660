"""The train step of weightings that need several independent gradient samples per step
(``Weighting.samples > 1``: MoDo's and SDMGrad's double/triple sampling).

The stochastic methods' analyses need task gradients from *independent* samples: MoDo
updates its weights with the product of two samples' gradients and moves the model with a
third, so that no product of a sample's gradient with itself biases the weights. LibMTL
draws three batches per step; here the batch is split into ``s`` interleaved sub-batches
(global rows ``i, i + s, i + 2s, ...`` form sample ``i``), so a step reads one batch, as
every other method does, and the data pipeline is unchanged. One forward pass serves all
samples: each sample's per-task loss is the masked mean over its rows (the other rows'
labels are masked as missing), so the forward computation, dropout and batch statistics
are those of a ``sum`` step. Each sample's per-task trunk gradients are summed over the
replicas (global, as in ``shared_gradients`` mode) and handed to
``combine_gradient_samples``; each task's own (head) variables get the mean over the
samples of their own task's gradient, close to the full-batch gradient a ``sum`` step
gives them. The cost is ``s * T`` backward passes (a parameter-mode step has ``T``).

Rows are assigned by their index in the *global* batch (each replica's offset comes from
one all-reduce of the replicas' row counts), so a mirrored run splits exactly as one
device does, also when the last batch splits unevenly.
"""

from __future__ import annotations

from typing import Any

from mtkit.errors import MtkitError
from mtkit.planning import Plan
from mtkit.training.step import StepParts, _forward, _gradients, _scaler, task_losses


def global_row_index(rows: Any) -> Any:
    """``(rows,)`` int32: each local row's index in the global batch (replicas in order)."""
    import tensorflow as tf

    ctx = tf.distribute.get_replica_context()
    n = ctx.num_replicas_in_sync
    local = tf.range(rows, dtype=tf.int32)
    if n == 1:
        return local
    rid = ctx.replica_id_in_sync_group
    sizes = ctx.all_reduce(tf.distribute.ReduceOp.SUM,
                           tf.one_hot(rid, n, dtype=tf.float32) * tf.cast(rows, tf.float32))
    sizes = tf.cast(tf.round(sizes), tf.int32)
    return local + tf.reduce_sum(sizes[:rid])


def keep_rows(labels: Any, keep: Any) -> Any:
    """``labels`` with the rows outside ``keep`` marked missing (-1, or NaN for floats)."""
    import tensorflow as tf

    labels = tf.convert_to_tensor(labels)
    mask = tf.reshape(keep, [-1] + [1] * (len(labels.shape) - 1))
    missing = -1 if labels.dtype.is_integer else float("nan")
    return tf.where(mask, labels, tf.fill(tf.shape(labels), tf.cast(missing, labels.dtype)))


def check_samples(plan: Plan) -> None:
    """Refuse a batch too small to give every sample a row."""
    s, batch = plan.weighting.samples, plan.config.train.batch_size
    if batch < s:
        raise MtkitError(
            f"{plan.source}: field 'train.batch_size': weighting '{plan.config.weighting.type}' "
            f"splits each batch into {s} independent samples, and batch_size is {batch}; "
            f"set train.batch_size to at least {s} (several times that for useful samples).")


def sampled_gradients_step(plan: Plan, parts: StepParts):
    """The replica step: one forward pass, ``samples x tasks`` trunk gradients (global),
    the weighting's combination for the trunk, the samples' mean for each head."""
    import tensorflow as tf

    check_samples(plan)
    scaled, weighting = _scaler(parts.optimizer), plan.weighting
    s = int(weighting.samples)
    shared_ids = {id(v) for v in parts.shared_variables}

    def replica_step(inputs, labels):
        ctx = tf.distribute.get_replica_context()
        n_rep = tf.cast(ctx.num_replicas_in_sync, tf.float32)
        first = next(iter(labels.values()))
        which = tf.math.floormod(global_row_index(tf.shape(first)[0]), s)
        with tf.GradientTape(persistent=True) as tape:
            f = _forward(plan, parts, inputs, labels, with_features=False)
            per_sample = []
            for i in range(s):
                sub = {k: keep_rows(v, tf.equal(which, i)) for k, v in labels.items()}
                per_sample.append(task_losses(plan, f.outputs, sub, parts.class_weights))
            reg = scaled(f.reg)
        model_vars = parts.model.trainable_variables
        shared = [v for v in model_vars if id(v) in shared_ids]
        own = [v for v in model_vars if id(v) not in shared_ids]
        loss_scale = scaled(tf.constant(1.0))  # weightings see unscaled gradients
        grads, values, present = [], [], []
        own_grads = _gradients(tape, reg, own)
        for surrogate, vals, counts in per_sample:
            sample = {}
            for k, loss in surrogate.items():
                gs = _gradients(tape, scaled(loss), shared + own)
                summed = ctx.all_reduce(tf.distribute.ReduceOp.SUM, gs[: len(shared)])
                sample[k] = [g / loss_scale for g in summed]
                own_grads = [a + b / s for a, b in zip(own_grads, gs[len(shared):], strict=True)]
            grads.append(sample)
            values.append(vals)
            present.append({k: c > 0 for k, c in counts.items()})
        combined = weighting.combine_gradient_samples(grads, values, present)
        reg_shared = _gradients(tape, reg, shared)
        del tape
        # The optimizer sums over replicas: hand each replica 1/n of the global.
        shared_grads = [g * (loss_scale / n_rep) + r for g, r in zip(combined, reg_shared,
                                                                      strict=True)]
        pairs = list(zip(shared_grads, shared, strict=True)) + list(zip(own_grads, own,
                                                                        strict=True))
        parts.optimizer.apply_gradients(pairs)
        return f.values, f.counts

    return replica_step
