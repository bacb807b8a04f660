"""The strategy-aware training step that mtkit owns (Keras ``fit`` cannot run under
``MultiWorkerMirroredStrategy``, keras#20585, nor hand per-task gradients to a weighting).

Each replica computes, per task, its share of the *global* masked mean: the sum of its
labelled rows' losses divided by the labelled-row count summed over all replicas. The
optimizer sums gradients across replicas, so the update equals the single-device one.
Weightings see the global per-task loss values (identical on every replica) through a
surrogate whose value is the global loss and whose gradient is the local share, which
keeps non-linear combinations such as ``log_sum`` exact under any number of replicas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mtkit.plan import Plan
from mtkit.training.masking import masked_sum_and_count


@dataclass
class StepParts:
    model: Any
    features_model: Any
    shared_variables: list[Any]
    optimizer: Any
    strategy: Any


def _all_reduce_sum(value: Any) -> Any:
    import tensorflow as tf

    ctx = tf.distribute.get_replica_context()
    return ctx.all_reduce(tf.distribute.ReduceOp.SUM, value)


def task_losses(plan: Plan, outputs: dict[str, Any], labels: dict[str, Any]):
    """Per task: (surrogate loss for gradients, global loss value, global labelled count)."""
    import tensorflow as tf

    surrogate, values, counts = {}, {}, {}
    for name, task in plan.tasks.items():
        local_sum, local_count = masked_sum_and_count(task.loss, labels[name], outputs[name])
        count = _all_reduce_sum(local_count)
        share = tf.math.divide_no_nan(local_sum, count)
        value = tf.stop_gradient(_all_reduce_sum(share))
        surrogate[name] = value + share - tf.stop_gradient(share)
        values[name] = value
        counts[name] = count
    return surrogate, values, counts


def make_train_step(plan: Plan, parts: StepParts, jit_compile: bool = False):
    """A ``tf.function`` taking one distributed batch; returns per-task values and counts."""
    import tensorflow as tf

    weighting = plan.weighting
    mode = weighting.mode
    model, strategy, optimizer = parts.model, parts.strategy, parts.optimizer
    shared_ids = {id(v) for v in parts.shared_variables}
    w_vars = [v for v in weighting.variables().values() if getattr(v, "trainable", False)]

    def replica_step(inputs, labels):
        n_rep = tf.cast(tf.distribute.get_replica_context().num_replicas_in_sync, tf.float32)
        with tf.GradientTape(persistent=mode != "loss") as tape:
            if mode == "feature_gradients":
                res = parts.features_model(inputs, training=True)
                features, outputs = res["features"], res["outputs"]
            else:
                outputs = model(inputs, training=True)
            losses, values, counts = task_losses(plan, outputs, labels)
            present = {k: c > 0 for k, c in counts.items()}
            reg = tf.add_n(model.losses) / n_rep if model.losses else tf.constant(0.0)
            if mode == "loss":
                total = weighting.combine(losses, present) + reg
            elif mode == "feature_gradients":
                if isinstance(features, dict):
                    fgrads = {k: tape.gradient(losses[k], features[k]) for k in losses}
                else:
                    fgrads = {k: tape.gradient(losses[k], features) for k in losses}
                fgrads = {k: g if g is not None else tf.zeros_like(
                    features[k] if isinstance(features, dict) else features)
                    for k, g in fgrads.items()}
                weights = weighting.task_weights(fgrads, values, present)
                total = tf.add_n([tf.stop_gradient(tf.cast(weights[k], tf.float32)) * losses[k]
                                  for k in losses]) + reg
        model_vars = model.trainable_variables
        if mode in ("loss", "feature_gradients"):
            grads = tape.gradient(total, model_vars + w_vars)
            # Weighting variables depend only on replica-identical values: average them.
            grads = grads[: len(model_vars)] + [g / n_rep if g is not None else None
                                                for g in grads[len(model_vars):]]
            pairs = list(zip(grads, model_vars + w_vars, strict=True))
        else:  # shared_gradients: per-task gradients of the shared variables
            shared = [v for v in model_vars if id(v) in shared_ids]
            own = [v for v in model_vars if id(v) not in shared_ids]
            per_task = {}
            for k, loss in losses.items():
                gs = tape.gradient(loss, shared, unconnected_gradients="zero")
                per_task[k] = [_all_reduce_sum(g) for g in gs]  # exact global gradients
            combined = weighting.combine_gradients(per_task, values, present)
            own_grads = tape.gradient(tf.add_n(list(losses.values())) + reg, own)
            reg_shared = tape.gradient(reg, shared, unconnected_gradients="zero")
            # The optimizer sums over replicas again: hand each replica 1/n of the global.
            shared_grads = [g / n_rep + r for g, r in zip(combined, reg_shared, strict=True)]
            pairs = list(zip(shared_grads, shared, strict=True)) + list(
                zip(own_grads, own, strict=True))
        if mode != "loss":
            del tape
        optimizer.apply_gradients([(g, v) for g, v in pairs if g is not None])
        return values, counts

    inner = tf.function(replica_step, jit_compile=jit_compile) if jit_compile else replica_step

    @tf.function
    def train_step(batch):
        inputs, labels = batch
        values, counts = strategy.run(inner, args=(inputs, labels))
        first = lambda d: {k: strategy.experimental_local_results(v)[0]  # noqa: E731
                           for k, v in d.items()}
        return first(values), first(counts)

    return train_step
