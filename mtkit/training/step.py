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

from mtkit.errors import MtkitError
from mtkit.planning import Plan
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


def _gather_rows(values: list[Any]) -> list[Any]:
    """Every replica's rows of each tensor, concatenated in replica order.

    Built from one SUM all-reduce of zero-padded tensors rather than ``all_gather``: the
    replicas' row counts may differ (5/4 split of a last batch of 9), and uneven
    ``all_gather`` launches extra collectives that can pair up out of order on CPU
    devices ("Collective instance ... expected type 0 ... but got type 2").
    """
    import tensorflow as tf

    ctx = tf.distribute.get_replica_context()
    n = ctx.num_replicas_in_sync
    if n == 1:
        return values
    rid = ctx.replica_id_in_sync_group
    rows = tf.shape(values[0])[0]
    sizes = ctx.all_reduce(tf.distribute.ReduceOp.SUM,
                           tf.one_hot(rid, n, dtype=tf.float32) * tf.cast(rows, tf.float32))
    sizes = tf.cast(tf.round(sizes), tf.int32)
    offset = tf.reduce_sum(sizes[:rid])
    after = tf.reduce_sum(sizes) - offset - rows
    padded = [tf.pad(v, [[offset, after]] + [[0, 0]] * (len(v.shape) - 1)) for v in values]
    return ctx.all_reduce(tf.distribute.ReduceOp.SUM, padded)


def _gradients(tape: Any, target: Any, sources: list[Any]) -> list[Any]:
    """``tape.gradient`` with zeros for unconnected sources (built from the source's shape:
    ``unconnected_gradients="zero"`` fails on Keras variables, whose dtype is a string)."""
    import tensorflow as tf

    grads = tape.gradient(target, sources)
    return [tf.zeros(v.shape, tf.as_dtype(v.dtype)) if g is None else g
            for g, v in zip(grads, sources, strict=True)]


def check_gradient_weighting(plan: Plan, shared_variables: list[Any]) -> None:
    """Refuse a gradient weighting on a model whose tasks share no trainable parameters."""
    if plan.weighting.mode == "loss" or shared_variables:
        return
    raise MtkitError(
        f"{plan.source}: field 'weighting.type': weighting '{plan.config.weighting.type}' balances "
        f"the tasks' gradients on the shared (trunk) parameters, but trunk "
        f"'{plan.config.trunk.type}' has no trainable parameters, so the tasks share nothing to "
        "balance; use a loss weighting (sum, uncertainty, dwa, rlw) or a trunk with parameters."
    )


def make_train_step(plan: Plan, parts: StepParts, jit_compile: bool = False):
    """A ``tf.function`` taking one distributed batch; returns per-task values and counts.

    Gradient weightings get *global* inputs on every replica: in ``shared_gradients`` mode
    the per-task trunk gradients are all-reduced (summed) across replicas; in
    ``feature_gradients`` mode the per-task gradients w.r.t. the shared representation are
    gathered along the batch axis. So every replica computes the same combination,
    exactly as one device would on the whole batch.
    """
    import tensorflow as tf

    check_gradient_weighting(plan, parts.shared_variables)
    weighting = plan.weighting
    mode = weighting.mode
    model, strategy, optimizer = parts.model, parts.strategy, parts.optimizer
    shared_ids = {id(v) for v in parts.shared_variables}
    w_vars = [v for v in weighting.variables().values() if getattr(v, "trainable", False)]
    # Mixed precision: gradients are taken of scaled losses; apply_gradients unscales them
    # (and skips a step whose gradients overflowed).
    scaled = optimizer.scale_loss if hasattr(optimizer, "scale_loss") else (lambda x: x)

    def feature_weights(tape, features, losses, values, present):
        """Per-task loss weights from the global gradients w.r.t. the shared representation."""
        names, local = list(losses), []
        for k in names:
            feat = features[k] if isinstance(features, dict) else features
            g = tape.gradient(losses[k], feat)
            local.append(tf.zeros_like(feat) if g is None else g)
        fgrads = dict(zip(names, _gather_rows(local), strict=True))
        weights = weighting.task_weights(fgrads, values, present)
        return {k: tf.where(present[k], tf.cast(weights[k], tf.float32), 0.0) for k in losses}

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
                with tape.stop_recording():  # the weights are constants of this step
                    weights = feature_weights(tape, features, losses, values, present)
                total = tf.add_n([weights[k] * losses[k] for k in losses]) + reg
            if mode == "shared_gradients":
                losses = {k: scaled(v) for k, v in losses.items()}
                reg = scaled(reg)
            else:
                total = scaled(total)
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
            ctx = tf.distribute.get_replica_context()
            # Weightings see unscaled gradients (GradNorm's step size depends on their norm).
            loss_scale = scaled(tf.constant(1.0))
            per_task = {}
            own_grads = _gradients(tape, reg, own)
            for k, loss in losses.items():
                gs = _gradients(tape, loss, shared + own)
                # One batched all-reduce per task: exact global gradients on every replica.
                summed = ctx.all_reduce(tf.distribute.ReduceOp.SUM, gs[: len(shared)])
                per_task[k] = [g / loss_scale for g in summed]
                # A task's own (head) variables get its unweighted gradient, as in MGDA.
                own_grads = [a + b for a, b in zip(own_grads, gs[len(shared):], strict=True)]
            combined = weighting.combine_gradients(per_task, values, present)
            reg_shared = _gradients(tape, reg, shared)
            # The optimizer sums over replicas again: hand each replica 1/n of the global.
            shared_grads = [g * (loss_scale / n_rep) + r
                            for g, r in zip(combined, reg_shared, strict=True)]
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
