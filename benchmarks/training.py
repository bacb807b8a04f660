"""mtkit's training step against hand-written Keras 3 `fit` with `loss_weights`, in one run.

The same multitask model (built by mtkit's assembly from one config) and the same fully
labelled data are trained (a) by `model.fit` with per-output losses and `loss_weights`, the
code a user would otherwise write, and (b) by `mtkit.train`, alternating, several repeats.
Reported: median seconds per step and examples/s (epochs after the first, which traces and
compiles), and the ratio mtkit ÷ Keras; also mtkit with `train.jit_compile: true` (XLA; Keras
`fit(jit_compile=True)` refuses this model — "Model doesn't support jit_compile" — and
silently falls back, so it is not a separate column), and
mtkit fed from its tf.data pipeline vs the same step fed one cached batch (input stall).

Usage: .venv/bin/python benchmarks/training.py [--repeats 3]
Writes benchmarks/results/training.json and training.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROWS, BATCH, EPOCHS = 16384, 256, 4

CONFIG = {
    "data": {"dataset": "synthetic", "rows": ROWS, "features": 64},
    "trunk": {"type": "mlp", "units": [256, 256]},
    "tasks": {
        "segment": {"head": "classification", "classes": 10, "hidden": [64]},
        "churn": {"head": "binary", "hidden": [64]},
        "value": {"head": "regression", "hidden": [64]},
        "tags": {"head": "multilabel", "classes": 8, "hidden": [64]},
    },
    "weighting": {"type": "sum"},
    "train": {"epochs": EPOCHS, "batch_size": BATCH, "learning_rate": 1e-3, "seed": 0,
              "test_fraction": 0.0, "validation_fraction": 0.0, "train_metrics_rows": 256},
}


def keras_fit_step_seconds(plan, splits, specs) -> float:
    """Hand-written Keras: compile with one loss per output and loss_weights, then fit."""
    import keras

    from mtkit.assembly import build_model

    keras.utils.set_random_seed(0)
    model = build_model(plan, specs).model
    losses = {"segment": "sparse_categorical_crossentropy", "churn": "binary_crossentropy",
              "value": "mse", "tags": "binary_crossentropy"}
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=losses,
                  loss_weights={k: 1.0 for k in losses})
    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)

    y = {k: v.reshape(len(v), -1) if k in ("churn", "value") else v
         for k, v in splits.train.labels.items()}
    model.fit(splits.train.inputs, y, batch_size=BATCH, epochs=EPOCHS, shuffle=True,
              verbose=0, callbacks=[Timer()])
    steps = -(-len(splits.train) // BATCH)
    return statistics.median(times[1:]) / steps


def mtkit_step_seconds(overrides: list[str]) -> float:
    import mtkit
    import mtkit.api

    with tempfile.TemporaryDirectory() as tmp:
        result = mtkit.train(CONFIG, out=Path(tmp) / "run", overrides=overrides, quiet=True)
    hist = result.history
    return statistics.median(h["train_seconds"] / h["steps"] for h in hist[1:])


def cached_batch_step_seconds(plan, splits, specs) -> float:
    """mtkit's own step fed the same in-memory batch over and over: no input pipeline."""
    import keras
    import tensorflow as tf

    from mtkit.assembly import build_model
    from mtkit.training.step import StepParts, make_train_step

    strategy = tf.distribute.get_strategy()
    assembled = build_model(plan, specs)
    opt = keras.optimizers.Adam(1e-3)
    plan.weighting.setup(plan.task_infos)
    step = make_train_step(plan, StepParts(assembled.model, assembled.features_model,
                                           assembled.shared_variables, opt, strategy))
    batch = ({k: tf.constant(v[:BATCH]) for k, v in splits.train.inputs.items()},
             {k: tf.constant(v[:BATCH]) for k, v in splits.train.labels.items()})
    steps = -(-len(splits.train) // BATCH)
    for _ in range(steps):  # trace + warm up
        out = step(batch)
    float(out[0]["segment"])
    t0 = time.perf_counter()
    for _ in range(steps):
        out = step(batch)
    float(out[0]["segment"])
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import mtkit
    import mtkit.api
    from mtkit.dataprep import prepare
    from mtkit.tf_import import import_tensorflow

    import_tensorflow()
    plan = mtkit.plan(CONFIG)
    splits, specs = prepare(plan)
    setups = {
        "keras_fit": lambda: keras_fit_step_seconds(plan, splits, specs),
        "mtkit": lambda: mtkit_step_seconds([]),
        "mtkit_xla": lambda: mtkit_step_seconds(["train.jit_compile=true"]),
        "mtkit_step_cached_batch": lambda: cached_batch_step_seconds(plan, splits, specs),
    }
    samples: dict[str, list[float]] = {k: [] for k in setups}
    for _ in range(args.repeats):  # alternate so machine noise hits every setup alike
        for name, fn in setups.items():
            samples[name].append(fn())
    med = {k: statistics.median(v) for k, v in samples.items()}
    import keras
    import tensorflow as tf

    report = {
        "what": f"median seconds per training step; {len(CONFIG['tasks'])} tasks, MLP trunk, "
                f"global batch {BATCH}, {ROWS} rows, epochs 2-{EPOCHS} of each run",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                     "mtkit": mtkit.__version__},
        "date": time.strftime("%Y-%m-%d"),
        "repeats": args.repeats,
        "step_seconds": med,
        "examples_per_second": {k: BATCH / v for k, v in med.items()},
        "ratios": {
            "mtkit / keras_fit": med["mtkit"] / med["keras_fit"],
            "mtkit_xla / keras_fit": med["mtkit_xla"] / med["keras_fit"],
            "mtkit_xla / mtkit": med["mtkit_xla"] / med["mtkit"],
            "mtkit (tf.data) / mtkit_step_cached_batch":
                med["mtkit"] / med["mtkit_step_cached_batch"],
        },
        "goals": {"mtkit / keras_fit": "<= 1.00", "mtkit_xla / keras_fit": "<= 0.8 where XLA helps"},
        "samples": samples,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "training.json").write_text(json.dumps(report, indent=2) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh(list(med), [v * 1000 for v in med.values()])
    ax.set_xlabel("ms per step (lower is better)")
    ax.set_title("training step: mtkit vs Keras fit")
    fig.tight_layout()
    fig.savefig(RESULTS / "training.png", dpi=80)
    print(json.dumps({"step_ms": {k: round(v * 1000, 3) for k, v in med.items()},
                      "ratios": report["ratios"]}, indent=2))


if __name__ == "__main__":
    main()
