"""``train.diagnostics_rows``: how the tasks pull on the shared trunk, once per epoch.

On a fixed sample of training rows (the same every epoch), after the epoch's last step:
per task, the norm of its loss gradient w.r.t. the trunk's variables; per pair of tasks,
the cosine of those gradients (negative = conflict); and for loss-mode weightings, the
weight each task effectively gets (d objective / d task loss); for a gated trunk (one
that implements ``Trunk.gates``), each gate's mean weight per expert (``experts``, see
``expert_usage.py``). Stored in the history
record under ``diagnostics``; ``mtkit report`` and ``mtkit compare`` plot them. Cost: one
forward pass and one backward pass per task on the sample, once per epoch (plus one
trunk forward pass for the gates).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mtkit.data import sample
from mtkit.plugin_types import WeightingMode
from mtkit.training.callbacks.base import Callback


def task_gradients(plan: Any, model: Any, shared: list[Any], inputs: dict[str, Any],
                   labels: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """{task: flat gradient of its masked mean loss w.r.t. ``shared``}, and the losses."""
    import tensorflow as tf

    from mtkit.training.masking import masked_mean

    with tf.GradientTape(persistent=True) as tape:
        outputs = model(inputs, training=False)
        losses = {k: masked_mean(t.loss, labels[k], outputs[k]) for k, t in plan.tasks.items()}
    grads = {}
    for k, loss in losses.items():
        gs = tape.gradient(loss, shared)
        grads[k] = np.concatenate([np.zeros(int(np.prod(v.shape)), np.float64) if g is None
                                   # an embedding's gradient is IndexedSlices: densify
                                   else np.asarray(tf.convert_to_tensor(g), np.float64).ravel()
                                   for g, v in zip(gs, shared, strict=True)])
    del tape
    return grads, losses


def summarise(grads: dict[str, np.ndarray]) -> dict[str, Any]:
    names = list(grads)
    norms = {k: float(np.linalg.norm(g)) for k, g in grads.items()}
    cos = {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            den = norms[a] * norms[b]
            cos[f"{a}|{b}"] = float(grads[a] @ grads[b] / den) if den > 0 else 0.0
    return {"grad_norm": norms, "cosine": cos}


class Diagnostics(Callback):
    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.data: Any = None
        self.gates: Any = None

    def on_train_begin(self) -> None:
        from mtkit.training.callbacks.expert_usage import gate_probe

        t = self.trainer
        self.data = sample(t.train_sample, self.rows, t.config.seed + 17)
        self.gates = gate_probe(t.plan.trunk, t.plan.task_infos, t.model)

    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None:
        import tensorflow as tf

        t = self.trainer
        shared = t.assembled.shared_variables
        inputs = {k: tf.constant(v) for k, v in self.data.inputs.items()}
        labels = {k: tf.constant(v) for k, v in self.data.labels.items()}
        grads, losses = task_gradients(t.plan, t.model, shared, inputs, labels)
        out = summarise(grads) if shared else {"grad_norm": {}, "cosine": {}}
        weighting = t.plan.weighting
        if weighting.mode == WeightingMode.LOSS:
            values = {k: tf.Variable(float(v)) for k, v in losses.items()}
            present = {k: tf.constant(True) for k in losses}
            state = {k: v.numpy() for k, v in weighting.variables().items()}
            with tf.GradientTape() as tape:
                total = weighting.combine(dict(values), present)
            dw = tape.gradient(total, list(values.values()))
            for k, v in weighting.variables().items():  # e.g. RLW counts its draws: undo
                v.assign(state[k])
            out["task_weight"] = {k: float(g) if g is not None else 0.0
                                  for k, g in zip(values, dw, strict=True)}
        if self.gates is not None:
            out["experts"] = self.gates(inputs)
        record["diagnostics"] = out
