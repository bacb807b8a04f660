"""`every: k` for the gradient methods in parameter mode: step time vs `sum` at k = 1, 4, 8.

Parameter mode needs each task's own trunk gradient (T backward passes); with ``every: k``
a method solves for its task weights on every k-th step only and reuses them in between
(one backward pass of the weighted sum). Timed on the six-task multi-digit model (the
image problem of ``benchmarks/weighting.py``; a synthetic six-task fallback without the
mtkit-multidigit plugin): one cached batch through mtkit's own train step (for k > 1 the
``PeriodicStep`` that alternates the two compiled steps, shared by every k), ``--steps`` steps per round (a
multiple of every k, so each round holds whole periods), rounds interleaved so machine
noise hits every setup alike, fastest round (as timeit); both wall-clock and this
process's CPU time per step are recorded, and the goal is judged on CPU time, which the
other jobs of a shared machine disturb far less than wall-clock time. Then, for the quality side of the
trade-off, mgda, cagrad and nash_mtl at each k train on the small two-task imbalance problem of
``benchmarks/weighting.py`` (value RMSE, kind accuracy) beside `sum`.
Goal: parameter mode <= 2x a `sum` step with 6 tasks.

Usage: .venv/bin/python benchmarks/weighting_every.py [--rounds 5] [--steps 8] [--methods mgda,cagrad,...]
Writes benchmarks/results/weighting_every.json and weighting_every.png.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

METHODS = ["mgda", "cagrad", "imtl", "nash_mtl", "aligned_mtl"]
EVERY = [1, 4, 8]


def label(method: str, k: int) -> str:
    return f"{method} (parameters, every {k})"


def build_steps(cfg: dict, methods: list[str]) -> dict:
    """Compiled train steps fed one cached batch (as weighting.py does): ``sum``, and per
    method the solve and reuse steps of an ``every: k`` weighting, compiled once and shared
    by k = 1 (the solve step alone: the method's own step plus one tiny assign of its
    weights) and by a ``PeriodicStep`` per k > 1 (each with its own step count)."""
    import keras
    import tensorflow as tf

    import mtkit
    from mtkit.assembly import build_model
    from mtkit.dataprep import prepare
    from mtkit.training.periodic_step import PeriodicStep
    from mtkit.training.step import StepParts, make_train_step

    splits, specs = prepare(mtkit.plan(cfg))
    bs = cfg["train"]["batch_size"]
    base = mtkit.plan(cfg)
    inputs = {k: tf.constant(v[:bs]) for k, v in splits.train.inputs.items()}
    labels = {k: tf.constant(v[:bs]) for k, v in splits.train.labels.items()}
    augmented = base.dataset.augment(inputs, tf.constant([0, 0], tf.int64))
    batch = (inputs if augmented is None else augmented, labels)
    steps = {}
    for w in [{"type": "sum"}] + [{"type": m, "gradients": "parameters", "every": max(EVERY)}
                                  for m in methods]:
        c = copy.deepcopy(cfg)
        c["weighting"] = w
        plan = mtkit.plan(c)
        keras.utils.set_random_seed(0)
        asm = build_model(plan, specs)
        opt = keras.optimizers.Adam(1e-3)
        plan.weighting.setup(plan.task_infos)
        opt.build(asm.model.trainable_variables)
        step = make_train_step(plan, StepParts(asm.model, asm.features_model,
                                               asm.shared_variables, opt, tf.distribute.get_strategy()))
        if w["type"] == "sum":
            named = {"sum": step}
        else:
            named = {label(w["type"], 1): step.solve}
            for k in EVERY[1:]:
                counter = tf.Variable(0, dtype=tf.int64, trainable=False)
                named[label(w["type"], k)] = PeriodicStep(step.solve, step.reuse, k, counter)
        for _ in range(3):  # trace (and warm) both compiled steps
            out = step(batch)
        float(next(iter(out[0].values())))
        for name, fn in named.items():
            steps[name] = (fn, batch)
        print("compiled", w["type"], flush=True)
    return steps


def time_rounds(steps: dict, rounds: int, per_round: int) -> tuple[dict, dict]:
    """Per setup and round: wall-clock seconds per step, and this process's CPU seconds
    per step (all threads), which other jobs on a shared machine disturb far less."""
    wall: dict[str, list[float]] = {k: [] for k in steps}
    cpu: dict[str, list[float]] = {k: [] for k in steps}
    for r in range(rounds):
        for name, (step, batch) in steps.items():
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(per_round):
                out = step(batch)
            float(next(iter(out[0].values())))
            wall[name].append((time.perf_counter() - t0) / per_round)
            cpu[name].append((time.process_time() - c0) / per_round)
        print(f"round {r + 1}/{rounds}", flush=True)
    return wall, cpu


QUALITY_METHODS = ["mgda", "cagrad", "nash_mtl"]


def quality(methods: list[str]) -> dict:
    """Each method at each k (parameter mode) on the two-task imbalance problem, beside sum."""
    from weighting import imbalance_problem, train_one

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = imbalance_problem(Path(tmp))
        for w in [{"type": "sum"}] + [{"type": m, "every": k} for m in methods for k in EVERY]:
            r = train_one(cfg, w, Path(tmp) / f"{w['type']}_{w.get('every', 1)}")
            name = "sum" if w["type"] == "sum" else label(w["type"], w["every"])
            out[name] = {"value_rmse": r["tasks"]["value"]["rmse"],
                         "kind_accuracy": r["tasks"]["kind"]["accuracy"],
                         "wall_seconds": r["wall_seconds"]}
            print("quality", name, out[name], flush=True)
    return out


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for m in report["methods"]:
        ax.plot(EVERY, [report["cpu_ratio_to_sum"][label(m, k)] for k in EVERY], marker="o",
                label=m)
    ax.axhline(2.0, color="red", linestyle="--", linewidth=1, label="goal 2×")
    ax.axhline(1.0, color="gray", linewidth=1)
    ax.set_xticks(EVERY)
    ax.set_xlabel("every (steps per solve)")
    ax.set_ylabel("CPU time per step / sum (6 tasks, parameter mode)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=8, help="Steps per round (a multiple of 8).")
    ap.add_argument("--train-size", type=int, default=512)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--no-quality", action="store_true", help="Only time the steps.")
    args = ap.parse_args()
    if args.steps % max(EVERY):
        ap.error(f"--steps must be a multiple of {max(EVERY)} (whole periods per round)")
    methods = [m for m in args.methods.split(",") if m]
    from mtkit.tf_import import import_tensorflow

    tf = import_tensorflow()
    from weighting import image_problem

    t0 = time.perf_counter()
    ns = argparse.Namespace(epochs=1, train_size=args.train_size)
    cfg, problem = image_problem(ns)
    steps = build_steps(cfg, methods)
    samples, cpu_samples = time_rounds(steps, args.rounds, args.steps)
    best = {k: min(v) for k, v in samples.items()}
    ratio = {k: round(v / best["sum"], 3) for k, v in best.items()}
    cpu_best = {k: min(v) for k, v in cpu_samples.items()}
    cpu_ratio = {k: round(v / cpu_best["sum"], 3) for k, v in cpu_best.items()}
    for k, v in best.items():
        print(f"{k:40s} {v * 1000:8.1f} ms  x{ratio[k]:.2f}  CPU x{cpu_ratio[k]:.2f}", flush=True)
    worst = {k: max(cpu_ratio[label(m, k)] for m in methods) for k in EVERY}
    report = {
        "what": "gradient methods in parameter mode with every: k (solve every k steps, reuse "
                "the weights in between) vs sum: seconds per train step, six-task model",
        "problem": problem,
        "command": "python benchmarks/weighting_every.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if not isinstance(v, bool)),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPU only, shared with other jobs",
        "tensorflow": tf.__version__, "date": time.strftime("%Y-%m-%d"),
        "methods": methods, "every": EVERY, "rounds": args.rounds, "steps_per_round": args.steps,
        "batch_size": cfg["train"]["batch_size"],
        "statistic": "fastest round", "ms_per_step": {k: round(v * 1000, 2) for k, v in best.items()},
        "ratio_to_sum": ratio, "samples_s": samples,
        "cpu_ms_per_step": {k: round(v * 1000, 2) for k, v in cpu_best.items()},
        "cpu_ratio_to_sum": cpu_ratio, "cpu_samples_s": cpu_samples,
        "load_average": os.getloadavg(),
        "goal": {"at_most_x_sum": 2.0, "measure": "CPU time per step", "worst_ratio_by_every": worst,
                 "met_at": [k for k in EVERY if worst[k] <= 2.0]},
    }
    if not args.no_quality:
        report["quality_imbalance"] = quality([m for m in methods if m in QUALITY_METHODS])
    report["total_seconds"] = round(time.perf_counter() - t0, 1)
    from mtkit.rundir import atomic_write

    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(report, indent=2) + "\n"
    atomic_write(RESULTS / "weighting_every.json", lambda p: Path(p).write_text(text))
    atomic_write(RESULTS / "weighting_every.png", lambda p: plot(report, Path(p)))
    print(json.dumps(report["goal"]))


if __name__ == "__main__":
    main()
