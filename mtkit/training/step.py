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

from dataclasses import dataclass, field
from typing import Any

from mtkit.errors import MtkitError
from mtkit.planning import Plan
from mtkit.plugin_types import WeightingMode
from mtkit.training.masking import masked_sum_and_count


@dataclass
class StepParts:
    model: Any
    features_model: Any
    shared_variables: list[Any]
    optimizer: Any
    strategy: Any
    class_weights: dict[str, Any] = field(default_factory=dict)  # task → per-class weights
    progress: Any = None  # train.time_budget: the agreed progress variable (see time_budget)


def _all_reduce_sum(value: Any) -> Any:
    import tensorflow as tf

    ctx = tf.distribute.get_replica_context()
    return ctx.all_reduce(tf.distribute.ReduceOp.SUM, value)


def task_losses(plan: Plan, outputs: dict[str, Any], labels: dict[str, Any],
                class_weights: dict[str, Any] | None = None):
    """Per task: (surrogate loss for gradients, global loss value, global labelled count)."""
    import tensorflow as tf

    surrogate, values, counts = {}, {}, {}
    for name, task in plan.tasks.items():
        local_sum, local_count = masked_sum_and_count(task.loss, labels[name], outputs[name],
                                                      (class_weights or {}).get(name))
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
    if plan.weighting.mode == WeightingMode.LOSS or shared_variables:
        return
    if not plan.config.trunk.trainable or plan.config.trunk.freeze:
        field = "trunk.trainable" if not plan.config.trunk.trainable else "trunk.freeze"
        raise MtkitError(
            f"{plan.source}: field '{field}': weighting '{plan.config.weighting.type}' "
            "balances the tasks' gradients on the shared (trunk) parameters, but the trunk is "
            "frozen, so no gradient reaches it; use a loss weighting (sum, uncertainty, dwa, rlw) "
            "while the trunk is frozen, or unfreeze it (trunk.trainable: true, fewer "
            "trunk.freeze patterns).")
    raise MtkitError(
        f"{plan.source}: field 'weighting.type': weighting '{plan.config.weighting.type}' balances "
        f"the tasks' gradients on the shared (trunk) parameters, but trunk "
        f"'{plan.config.trunk.type}' has no trainable parameters, so the tasks share nothing to "
        "balance; use a loss weighting (sum, uncertainty, dwa, rlw) or a trunk with parameters."
    )


def check_jit(plan: Plan, model: Any) -> None:
    """Refuse ``jit_compile`` with ``deterministic`` on a model with max pooling: TensorFlow
    has no deterministic XLA max-pool gradient and fails at the first step."""
    cfg = plan.config.train
    if not (cfg.jit_compile and cfg.deterministic):
        return
    def walk(layer: Any) -> Any:  # nested models (a trunk sub-model) list their layers
        for sub in getattr(layer, "layers", []):
            yield sub
            yield from walk(sub)

    pools = sorted({layer.name for layer in walk(model)
                    if type(layer).__name__.startswith("MaxPooling")})
    if pools:
        raise MtkitError(
            f"{plan.source}: field 'train.jit_compile': XLA has no deterministic gradient for "
            f"max pooling (layer {', '.join(pools[:3])}), and train.deterministic is on; set "
            "train.deterministic: false to compile with XLA (runs then repeat only "
            "approximately), or train.jit_compile: false.")


@dataclass
class Forward:
    """One replica's forward pass: outputs, per-task losses (see ``task_losses``), the
    labelled-row counts, which tasks the batch labels, and the model's regularisation."""

    outputs: Any
    features: Any
    losses: dict[str, Any]
    values: dict[str, Any]
    counts: dict[str, Any]
    present: dict[str, Any]
    reg: Any


def _forward(plan: Plan, parts: StepParts, inputs: Any, labels: Any, with_features: bool) -> Forward:
    import tensorflow as tf

    n_rep = tf.cast(tf.distribute.get_replica_context().num_replicas_in_sync, tf.float32)
    features = None
    if with_features:
        res = parts.features_model(inputs, training=True)
        features, outputs = res["features"], res["outputs"]
    else:
        outputs = parts.model(inputs, training=True)
    losses, values, counts = task_losses(plan, outputs, labels, parts.class_weights)
    present = {k: c > 0 for k, c in counts.items()}
    model_losses = parts.model.losses
    reg = tf.add_n(model_losses) / n_rep if model_losses else tf.constant(0.0)
    return Forward(outputs, features, losses, values, counts, present, reg)


def _scaler(optimizer: Any):
    """Mixed precision: gradients are taken of scaled losses; apply_gradients unscales them
    (and skips a step whose gradients overflowed)."""
    return optimizer.scale_loss if hasattr(optimizer, "scale_loss") else (lambda x: x)


def _trainable_weighting_vars(plan: Plan) -> list[Any]:
    return [v for v in plan.weighting.variables().values() if getattr(v, "trainable", False)]


def _apply_total(parts: StepParts, plan: Plan, tape: Any, total: Any) -> None:
    """One gradient of the scalar objective for the model and the weighting's trainable
    variables; the latter depend only on replica-identical values, so they are averaged."""
    import tensorflow as tf

    n_rep = tf.cast(tf.distribute.get_replica_context().num_replicas_in_sync, tf.float32)
    model_vars, w_vars = parts.model.trainable_variables, _trainable_weighting_vars(plan)
    grads = tape.gradient(total, model_vars + w_vars)
    grads = grads[: len(model_vars)] + [g / n_rep if g is not None else None
                                        for g in grads[len(model_vars):]]
    parts.optimizer.apply_gradients([(g, v) for g, v in zip(grads, model_vars + w_vars,
                                                            strict=True) if g is not None])


def loss_step(plan: Plan, parts: StepParts):
    """``loss`` mode: the weighting combines the task losses into the objective."""
    import tensorflow as tf

    scaled = _scaler(parts.optimizer)

    def replica_step(inputs, labels):
        with tf.GradientTape() as tape:
            f = _forward(plan, parts, inputs, labels, with_features=False)
            total = scaled(plan.weighting.combine(f.losses, f.present) + f.reg)
        _apply_total(parts, plan, tape, total)
        return f.values, f.counts

    return replica_step


def feature_gradients_step(plan: Plan, parts: StepParts):
    """``feature_gradients`` mode: weights from the global gradients w.r.t. the shared
    representation (gathered along the batch axis), then the weighted sum as the objective."""
    import tensorflow as tf

    scaled, weighting = _scaler(parts.optimizer), plan.weighting

    def replica_step(inputs, labels):
        with tf.GradientTape(persistent=True) as tape:
            f = _forward(plan, parts, inputs, labels, with_features=True)
            with tape.stop_recording():  # the weights are constants of this step
                local = []
                for k in f.losses:
                    feat = f.features[k] if isinstance(f.features, dict) else f.features
                    g = tape.gradient(f.losses[k], feat)
                    local.append(tf.zeros_like(feat) if g is None else g)
                fgrads = dict(zip(f.losses, _gather_rows(local), strict=True))
                w = weighting.task_weights(fgrads, f.values, f.present)
                w = {k: tf.where(f.present[k], tf.cast(w[k], tf.float32), 0.0) for k in f.losses}
            total = scaled(tf.add_n([w[k] * f.losses[k] for k in f.losses]) + f.reg)
        _apply_total(parts, plan, tape, total)
        del tape
        return f.values, f.counts

    return replica_step


def shared_gradients_step(plan: Plan, parts: StepParts):
    """``shared_gradients`` mode: per-task gradients of the shared variables, summed over
    replicas (exact global gradients on every replica), combined by the weighting; each
    task's own (head) variables get its unweighted gradient, as in MGDA."""
    import tensorflow as tf

    scaled = _scaler(parts.optimizer)
    shared_ids = {id(v) for v in parts.shared_variables}

    def replica_step(inputs, labels):
        ctx = tf.distribute.get_replica_context()
        n_rep = tf.cast(ctx.num_replicas_in_sync, tf.float32)
        with tf.GradientTape(persistent=True) as tape:
            f = _forward(plan, parts, inputs, labels, with_features=False)
            losses = {k: scaled(v) for k, v in f.losses.items()}
            reg = scaled(f.reg)
        model_vars = parts.model.trainable_variables
        shared = [v for v in model_vars if id(v) in shared_ids]
        own = [v for v in model_vars if id(v) not in shared_ids]
        loss_scale = scaled(tf.constant(1.0))  # weightings see unscaled gradients
        per_task, own_grads = {}, _gradients(tape, reg, own)
        for k, loss in losses.items():
            gs = _gradients(tape, loss, shared + own)
            summed = ctx.all_reduce(tf.distribute.ReduceOp.SUM, gs[: len(shared)])
            per_task[k] = [g / loss_scale for g in summed]
            own_grads = [a + b for a, b in zip(own_grads, gs[len(shared):], strict=True)]
        combined = plan.weighting.combine_gradients(per_task, f.values, f.present)
        reg_shared = _gradients(tape, reg, shared)
        del tape
        # The optimizer sums over replicas again: hand each replica 1/n of the global.
        shared_grads = [g * (loss_scale / n_rep) + r for g, r in zip(combined, reg_shared,
                                                                      strict=True)]
        pairs = list(zip(shared_grads, shared, strict=True)) + list(zip(own_grads, own,
                                                                        strict=True))
        parts.optimizer.apply_gradients([(g, v) for g, v in pairs if g is not None])
        return f.values, f.counts

    return replica_step


def feature_surgery_step(plan: Plan, parts: StepParts):
    """``feature_surgery`` mode: the weighting turns the per-task gradients w.r.t. the shared
    representation into one gradient, back-propagated through the trunk; each head (and
    each other task-specific variable) gets its own task's gradient, as in LibMTL's
    representation-gradient methods."""
    import tensorflow as tf

    if isinstance(parts.features_model.output["features"], dict):
        raise MtkitError(
            f"{plan.source}: field 'weighting.type': weighting '{plan.config.weighting.type}' "
            "works on one representation shared by every task, and trunk "
            f"'{plan.config.trunk.type}' gives each task its own; use a trunk with one shared "
            "output (mlp, conv, ...) or another weighting.")
    scaled = _scaler(parts.optimizer)
    shared_ids = {id(v) for v in parts.shared_variables}

    def replica_step(inputs, labels):
        with tf.GradientTape(persistent=True) as tape:
            f = _forward(plan, parts, inputs, labels, with_features=True)
            losses = {k: scaled(v) for k, v in f.losses.items()}
            total = tf.add_n(list(losses.values())) + scaled(f.reg)
        model_vars = parts.model.trainable_variables
        shared = [v for v in model_vars if id(v) in shared_ids]
        own = [v for v in model_vars if id(v) not in shared_ids]
        fgrads = {}
        for k, loss in losses.items():
            g = tape.gradient(loss, f.features)
            fgrads[k] = tf.zeros_like(f.features) if g is None else g
        new_grad = plan.weighting.feature_gradient(fgrads, f.features, f.present)
        trunk = tape.gradient(f.features, shared, output_gradients=new_grad)
        reg_shared = _gradients(tape, scaled(f.reg), shared)
        own_grads = _gradients(tape, total, own)  # a head's loss reaches only its own head
        del tape
        pairs = [(reg if g is None else g + reg, v)
                 for g, reg, v in zip(trunk, reg_shared, shared, strict=True)]
        pairs += list(zip(own_grads, own, strict=True))
        parts.optimizer.apply_gradients(pairs)
        return f.values, f.counts

    return replica_step


REPLICA_STEPS = {
    WeightingMode.LOSS: loss_step,
    WeightingMode.FEATURE_GRADIENTS: feature_gradients_step,
    WeightingMode.SHARED_GRADIENTS: shared_gradients_step,
    WeightingMode.FEATURE_SURGERY: feature_surgery_step,
}
"""One replica-step builder per weighting mode (the enum is declared in the contract)."""


def compile_step(replica_step: Any, strategy: Any, jit_compile: bool = False,
                 after: Any = None, progress: Any = None):
    """A ``tf.function`` taking one distributed batch: ``replica_step`` on every replica
    (XLA-compiled with ``jit_compile``), then ``after()`` in cross-replica context (if
    given); returns the first replica's per-task values and counts.

    With ``progress`` (``train.time_budget``) it is ``train_step(batch, proposed)``: every
    replica (of every worker) reduces the hosts' proposed progress to its maximum and
    assigns it to ``progress`` before its update, so the schedule over time and the stop
    decision see one value everywhere; the agreed value is returned third."""
    import tensorflow as tf

    inner = tf.function(replica_step, jit_compile=True) if jit_compile else replica_step
    first = lambda d: {k: strategy.experimental_local_results(v)[0]  # noqa: E731
                       for k, v in d.items()}

    if progress is None:
        @tf.function
        def train_step(batch):
            inputs, labels = batch
            values, counts = strategy.run(inner, args=(inputs, labels))
            if after is not None:
                after()
            return first(values), first(counts)

        return train_step

    def timed(inputs, labels, proposed):
        ctx = tf.distribute.get_replica_context()
        n = ctx.num_replicas_in_sync  # ReduceOp has no MAX: sum one slot per replica
        slots = tf.one_hot(ctx.replica_id_in_sync_group, n, dtype=tf.float32) * proposed
        agreed = tf.reduce_max(ctx.all_reduce(tf.distribute.ReduceOp.SUM, slots))
        with tf.control_dependencies([progress.assign(agreed)]):
            inputs = tf.nest.map_structure(tf.identity, inputs)
        values, counts = inner(inputs, labels)
        return values, counts, agreed

    @tf.function
    def timed_step(batch, proposed):
        inputs, labels = batch
        values, counts, agreed = strategy.run(timed, args=(inputs, labels, proposed))
        if after is not None:
            after()
        return first(values), first(counts), strategy.experimental_local_results(agreed)[0]

    return timed_step


def make_train_step(plan: Plan, parts: StepParts, jit_compile: bool = False):
    """A callable taking one distributed batch; returns per-task values and counts.

    Gradient weightings get *global* inputs on every replica (see each mode's builder), so
    every replica computes the same combination, exactly as one device would on the whole
    batch. A weighting with ``samples > 1`` gets ``mtkit.training.sampled_step``'s step;
    one with ``every > 1`` gets a ``PeriodicStep`` (solve, then reuse its
    weights; ``mtkit.training.periodic_step``); otherwise this is one ``tf.function``.
    """
    check_gradient_weighting(plan, parts.shared_variables)
    builder = REPLICA_STEPS[WeightingMode(plan.weighting.mode)]
    if getattr(plan.weighting, "samples", 1) > 1:
        from mtkit.training.sampled_step import sampled_gradients_step

        return compile_step(sampled_gradients_step(plan, parts), parts.strategy, jit_compile,
                            progress=parts.progress)
    if getattr(plan.weighting, "every", 1) > 1:
        from mtkit.training.periodic_step import make_periodic_step

        return make_periodic_step(plan, parts, builder, jit_compile)
    return compile_step(builder(plan, parts), parts.strategy, jit_compile,
                        progress=parts.progress)
