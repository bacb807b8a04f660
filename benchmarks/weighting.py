"""Every weighting method on two problems, with quality and step time relative to `sum`, in one run.

(a) A six-task image problem: the multi-digit config (configs/multidigit.yaml, mtkit-multidigit
    plugin) cut to a small training set and few epochs; without that plugin, a synthetic
    six-task problem (the report says which was used).
(b) A synthetic pair with a ~100x loss-scale imbalance: a regression target of scale 16.5
    (MSE ~ 150 at the start) next to a 4-class classification (cross-entropy ~ 1.5); the
    measured first-step ratio is in the report.

Per method: test metrics per task (and the dataset's own, e.g. sequence accuracy), and the
seconds per training step of the six-task model, measured by feeding one cached batch to
mtkit's own train step, interleaved over rounds so machine noise hits every method alike
(the fastest round counts, as in timeit);
gradient methods are timed both on the trunk parameters and on the shared features. On (a)
they train on the shared features (``gradients: features``, the cheap mode); on (b) with
their defaults. (a) is short: `sum` takes off after several hundred steps and 12 000
sequences x 4 epochs (750 steps) sits near that point, so one seed's accuracy moves by
+-10 points; only large gaps mean something (DWA's weights only move from epoch 3).
Goal: with 6 tasks, feature-gradient methods cost <= 2x the `sum` step.

Usage: .venv/bin/python benchmarks/weighting.py [--epochs 4] [--train-size 12000] [--rounds 8]
Writes benchmarks/results/weighting.json, weighting.png and weighting.md (~10 min of CPU on
2 cores; longer on a busy machine).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MULTIDIGIT_CONFIG = ROOT / "configs" / "multidigit.yaml"

LOSS_METHODS = ["sum", "log_sum", "uncertainty", "dwa", "rlw", "stch", "famo"]
GRADIENT_METHODS = ["gradnorm", "pcgrad", "mgda", "cagrad", "imtl", "nash_mtl", "aligned_mtl",
                    "upgrad", "fairgrad", "gradvac"]
# Keep a (tasks x trunk parameters) copy of the gradients, or need three gradient samples
# per step (MoDo, SDMGrad): parameter mode only.
PARAMETER_ONLY = ["moco", "db_mtl", "excess_mtl", "modo", "sdmgrad"]
# Trained for quality. On the image problem gradient methods use the shared features (the
# mode that costs about one backward pass; the parameter mode is ~4x slower there, see the
# timings); on the small imbalance problem every method runs with its defaults, plus MGDA-UB.
QUALITY_IMAGE = [{"type": m} for m in LOSS_METHODS] + [
    {"type": m, "gradients": "features"} for m in GRADIENT_METHODS] + [
    {"type": "mgda", "gradients": "features", "normalization": "loss+"}] + [
    {"type": m} for m in PARAMETER_ONLY]
QUALITY_IMBALANCE = [{"type": m} for m in LOSS_METHODS + GRADIENT_METHODS + PARAMETER_ONLY] + [
    {"type": "mgda", "gradients": "features"}]
# Timed: loss methods, and every gradient method in both modes.
TIMED = [{"type": m} for m in LOSS_METHODS] + [
    {"type": m, "gradients": g} for m in GRADIENT_METHODS for g in ("parameters", "features")] + [
    {"type": m} for m in PARAMETER_ONLY]


def label(w: dict) -> str:
    """``name (mode[, other params])``; a gradient method's mode is resolved from its defaults."""
    from mtkit.registry import get_registry

    cls = get_registry().get("weighting", w["type"])
    extra = {k: v for k, v in w.items() if k not in ("type", "gradients")}
    gradients = getattr(cls(cls.Params(**{k: v for k, v in w.items() if k != "type"})).params,
                        "gradients", None)
    name = "mgda-ub" if w["type"] == "mgda" and gradients == "features" else w["type"]
    parts = ([gradients] if gradients else []) + [f"{k} {v}" for k, v in extra.items()]
    return name + (f" ({', '.join(parts)})" if parts else "")


def image_problem(args: argparse.Namespace) -> tuple[dict, str]:
    """The six-task image config, or a synthetic six-task fallback."""
    import yaml

    from mtkit.registry import get_registry

    train = {"epochs": args.epochs, "batch_size": 64, "seed": 0, "train_metrics_rows": 256,
             "checkpoint": False}
    if "multidigit" in get_registry().names("dataset") and MULTIDIGIT_CONFIG.is_file():
        cfg = yaml.safe_load(MULTIDIGIT_CONFIG.read_text())
        cfg["data"].update(train_size=args.train_size, val_size=500, test_size=1000)
        cfg["train"] = {**cfg.get("train", {}), **train}
        return cfg, f"multidigit ({MULTIDIGIT_CONFIG.relative_to(ROOT)}, train_size {args.train_size})"
    tasks = {f"t{i}": {"head": "classification", "classes": 5} for i in range(6)}
    cfg = {"data": {"dataset": "synthetic", "rows": args.train_size + 1000, "features": 64},
           "trunk": {"type": "mlp", "units": [256, 256]}, "tasks": tasks,
           "weighting": "sum", "train": {**train, "learning_rate": 0.002}}
    return cfg, "synthetic six-task fallback (mtkit-multidigit is not installed)"


def imbalance_problem(folder: Path) -> dict:
    """Regression (scale 16.5) + 4-class classification from the same latent factors."""
    rng = np.random.default_rng(0)
    n, d = 4000, 16
    x = rng.normal(size=(n, d)).astype(np.float32)
    latent = np.tanh(x @ rng.normal(size=(d, 4)) / np.sqrt(d)) * 2
    value = 16.5 * np.sin(latent @ rng.normal(size=4)) + rng.normal(scale=0.5, size=n)
    kind = np.argmax(latent @ rng.normal(size=(4, 4)) + 0.1 * rng.normal(size=(n, 4)), axis=1)
    path = folder / "imbalance.npz"
    np.savez(path, x=x, value=value.astype(np.float32), kind=kind.astype(np.int32))
    return {
        "data": {"dataset": "npz", "path": str(path), "inputs": ["x"]},
        "trunk": {"type": "mlp", "units": [64, 64]},
        "tasks": {"value": {"head": "regression"}, "kind": {"head": "classification", "classes": 4}},
        "weighting": "sum",
        "train": {"epochs": 6, "batch_size": 64, "learning_rate": 0.003, "seed": 0,
                  "checkpoint": False, "train_metrics_rows": 256},
    }


def train_one(cfg: dict, weighting: dict, folder: Path) -> dict:
    import mtkit

    cfg = copy.deepcopy(cfg)
    cfg["weighting"] = weighting
    t0 = time.perf_counter()
    res = mtkit.train(cfg, out=folder / label(weighting).replace(" ", "_"), quiet=True)
    seconds = time.perf_counter() - t0
    m = res.metrics
    tasks = {k: {n: round(float(v), 4) for n, v in row.items() if n != "labelled"}
             for k, row in m.get("tasks", {}).items()}
    return {"tasks": tasks, "dataset": {k: round(float(v), 4) for k, v in m.get("dataset", {}).items()},
            "wall_seconds": round(seconds, 1),
            "grad_norm": [{"step": h["epoch"] * h["steps"], **h["diagnostics"]["grad_norm"]}
                          for h in res.history if "diagnostics" in h],
            "loop_step_ms": round(1000 * statistics.median(
                h["train_seconds"] / h["steps"] for h in res.history), 2)
            if res.history and "train_seconds" in res.history[0] else None}


def step_timers(cfg: dict, only: list[str] | None = None) -> dict:
    """A compiled train step per timed weighting, fed one cached batch of the image problem."""
    import keras
    import tensorflow as tf

    import mtkit
    from mtkit.assembly import build_model
    from mtkit.dataprep import prepare
    from mtkit.training.step import StepParts, make_train_step

    base = mtkit.plan(cfg)
    splits, specs = prepare(base)
    bs = cfg["train"]["batch_size"]
    inputs = {k: tf.constant(v[:bs]) for k, v in splits.train.inputs.items()}
    labels = {k: tf.constant(v[:bs]) for k, v in splits.train.labels.items()}
    if base.dataset.augment(inputs, tf.constant([0, 0], tf.int64)) is not None:
        inputs = base.dataset.augment(inputs, tf.constant([0, 0], tf.int64))
    timers = {}
    for w in [w for w in TIMED if not only or w["type"] in only]:
        c = copy.deepcopy(cfg)
        c["weighting"] = w
        plan = mtkit.plan(c)
        keras.utils.set_random_seed(0)
        asm = build_model(plan, specs)
        opt = keras.optimizers.Adam(1e-3)
        plan.weighting.setup(plan.task_infos)
        if plan.weighting.mode == "shared_gradients":
            plan.weighting.setup_shared([tuple(v.shape) for v in asm.shared_variables])
        opt.build(asm.model.trainable_variables + [
            v for v in plan.weighting.variables().values() if v.trainable])
        step = make_train_step(plan, StepParts(asm.model, asm.features_model,
                                               asm.shared_variables, opt, tf.distribute.get_strategy()))
        for _ in range(3):  # trace and warm up
            out = step((inputs, labels))
        float(next(iter(out[0].values())))
        timers[label(w)] = (step, (inputs, labels))
    return timers


def parameter_mode_strategies(cfg: dict, rounds: int, steps: int) -> dict:
    """How to get the per-task trunk gradients of parameter mode, timed side by side.

    ``sum``: one backward pass (the baseline). ``loop``: one ``tape.gradient`` per task off
    one forward pass (what the train step does). ``feature_vjp``: per-task gradients w.r.t.
    the shared features (heads only), then one trunk VJP per task with those as output
    gradients. ``jacobian_pfor``: ``tape.jacobian`` of the stacked task losses, vectorised
    by pfor (one batched backward with T cotangents). Same model, batch and tape, interleaved
    rounds, fastest round. Writes benchmarks/results/weighting_parameter_mode.json.
    """
    import keras
    import tensorflow as tf

    import mtkit
    from mtkit.assembly import build_model
    from mtkit.dataprep import prepare
    from mtkit.training.step import task_losses

    plan = mtkit.plan(cfg)
    splits, specs = prepare(plan)
    bs = cfg["train"]["batch_size"]
    inputs = {k: tf.constant(v[:bs]) for k, v in splits.train.inputs.items()}
    labels = {k: tf.constant(v[:bs]) for k, v in splits.train.labels.items()}
    keras.utils.set_random_seed(0)
    asm = build_model(plan, specs)
    model, shared = asm.model, asm.shared_variables
    ids = {id(v) for v in shared}
    own = [v for v in model.trainable_variables if id(v) not in ids]

    def losses(res):
        return task_losses(plan, res, labels)[0]

    @tf.function
    def sum_step():
        with tf.GradientTape() as tape:
            total = tf.add_n(list(losses(model(inputs, training=True)).values()))
        return tape.gradient(total, model.trainable_variables)

    @tf.function
    def loop():
        with tf.GradientTape(persistent=True) as tape:
            ls = losses(model(inputs, training=True))
        per = [tape.gradient(v, shared) for v in ls.values()]
        return per, tape.gradient(tf.add_n(list(ls.values())), own)

    @tf.function
    def feature_vjp():
        with tf.GradientTape(persistent=True) as tape:
            res = asm.features_model(inputs, training=True)
            feats = res["features"]
            ls = losses(res["outputs"])
        per = []
        for k, v in ls.items():
            f = feats[k] if isinstance(feats, dict) else feats
            per.append(tape.gradient(f, shared, output_gradients=tape.gradient(v, f)))
        return per, tape.gradient(tf.add_n(list(ls.values())), own)

    @tf.function
    def jacobian_pfor():
        with tf.GradientTape(persistent=True) as tape:
            ls = losses(model(inputs, training=True))
            vec = tf.stack(list(ls.values()))
        return tape.jacobian(vec, shared, experimental_use_pfor=True), tape.gradient(
            tf.add_n(list(ls.values())), own)

    fns = {"sum": sum_step, "loop": loop, "feature_vjp": feature_vjp,
           "jacobian_pfor": jacobian_pfor}
    for f in fns.values():
        f()
    samples: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, f in fns.items():
            t0 = time.perf_counter()
            for _ in range(steps):
                out = f()
            tf.nest.map_structure(lambda x: None if x is None else x.numpy(), out)
            samples[name].append((time.perf_counter() - t0) / steps)
    best = {k: min(v) for k, v in samples.items()}
    report = {
        "what": "per-task trunk gradients of the six-task model (gradients only, no weighting "
                "and no optimizer step), fastest round, interleaved",
        "tasks": len(plan.tasks), "shared_parameters": int(sum(np.prod(v.shape) for v in shared)),
        "batch_size": bs, "rounds": rounds, "steps_per_round": steps,
        "ms": {k: round(v * 1000, 1) for k, v in best.items()},
        "ratio_to_sum": {k: round(v / best["sum"], 2) for k, v in best.items()},
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPU only",
    }
    from mtkit.rundir import atomic_write

    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(report, indent=2) + "\n"
    atomic_write(RESULTS / "weighting_parameter_mode.json", lambda p: Path(p).write_text(text))
    print("parameter-mode strategies", report["ms"], report["ratio_to_sum"], flush=True)
    return report


def spot_check(cfg: dict, problem: str, args: argparse.Namespace) -> None:
    """Train a few methods (their default settings; gradient methods on the features where
    they have that mode) beside ``sum`` for several seeds; a cheap check after a change."""
    types = ["sum"] + [t for t in args.spot_check.split(",") if t and t != "sum"]
    chosen = [w for w in QUALITY_IMAGE if w["type"] in types]
    cfg = copy.deepcopy(cfg)
    if args.diagnostics:  # per-task trunk gradient norms after every epoch
        cfg["train"]["diagnostics_rows"] = args.diagnostics
    if args.steps_per_epoch:  # short epochs: more diagnostic points over the same steps
        cfg["train"]["steps_per_epoch"] = args.steps_per_epoch
    results: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            c = copy.deepcopy(cfg)
            c["train"]["seed"] = seed
            for w in chosen:
                r = train_one(c, w, Path(tmp) / f"seed{seed}")
                results.setdefault(label(w), []).append({"seed": seed, **r})
                print("spot", seed, label(w), r["dataset"], flush=True)
    report = {"what": "spot check on the image problem, several seeds", "problem": problem,
              "epochs": args.epochs, "train_size": args.train_size, "seeds": args.seeds,
              "command": "python benchmarks/weighting.py " + " ".join(
                  f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
                  if not isinstance(v, bool) and v != ""),
              "date": time.strftime("%Y-%m-%d"), "results": results}
    from mtkit.rundir import atomic_write

    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(report, indent=2) + "\n"
    name = "weighting_spotcheck" + ("_diagnostics" if args.diagnostics else "")
    atomic_write(RESULTS / f"{name}.json", lambda p: Path(p).write_text(text))
    if args.diagnostics:
        atomic_write(RESULTS / f"{name}.png", lambda p: plot_grad_norms(report, Path(p)))


def plot_grad_norms(report: dict, path: Path) -> None:
    """One panel per method (first seed): each task's trunk gradient norm over the steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = {name: rs[0] for name, rs in report["results"].items() if rs and rs[0]["grad_norm"]}
    fig, axes = plt.subplots(1, len(runs), figsize=(4 * len(runs), 3.6), sharey=True,
                             squeeze=False)
    for ax, (name, r) in zip(axes[0], runs.items(), strict=True):
        steps = [g["step"] for g in r["grad_norm"]]
        for task in [k for k in r["grad_norm"][0] if k != "step"]:
            ax.plot(steps, [g[task] for g in r["grad_norm"]], label=task)
        seq = r["dataset"].get("sequence_accuracy")
        ax.set_title(name + (f"\nseq. acc. {seq:.3f}" if seq is not None else ""), fontsize=9)
        ax.set_yscale("log")
        ax.set_xlabel("step")
    first = report["results"][next(iter(runs))][0]["seed"]
    axes[0][0].set_ylabel(f"trunk gradient norm (seed {first})")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def time_steps(timers: dict, rounds: int, steps: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {k: [] for k in timers}
    for _ in range(rounds):
        for name, (step, batch) in timers.items():
            t0 = time.perf_counter()
            for _ in range(steps):
                out = step(batch)
            float(next(iter(out[0].values())))
            samples[name].append((time.perf_counter() - t0) / steps)
    return samples


def markdown(report: dict) -> str:
    lines = [f"# Weighting methods benchmark ({report['date']}, {report['machine']})", "",
             f"Command: `{report['command']}`", ""]
    img = report["image_problem"]
    task_names = list(next(iter(img["results"].values()))["tasks"])
    ds_keys = [k for k in next(iter(img["results"].values()))["dataset"] if k != "sequences"]
    lines += [f"## (a) {img['problem']}", "",
              "Test accuracy per task (gradient methods on the shared features); step time of "
              "the six-task model relative to `sum` (cached batch, fastest of the rounds).", ""]
    head = ["method", *ds_keys, *task_names, "step × sum"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    ratios = report["step_time"]["ratio_to_sum"]
    for name, r in img["results"].items():
        acc = [f"{r['tasks'][t].get('accuracy', float('nan')):.3f}" for t in task_names]
        dsv = [f"{r['dataset'].get(k, float('nan')):.3f}" for k in ds_keys]
        timed = name.split(",")[0] + (")" if "," in name else "")  # extra params: same step cost
        lines.append("| " + " | ".join([name, *dsv, *acc, f"{ratios.get(timed, float('nan')):.2f}"]) + " |")
    lines += ["", "## Step time, every mode (six tasks)", "",
              "| weighting | ms / step | × sum |", "|---|---|---|"]
    for name, ms in report["step_time"]["ms_per_step"].items():
        lines.append(f"| {name} | {ms:.1f} | {ratios[name]:.2f} |")
    imb = report["imbalance_problem"]
    lines += ["", f"## (b) {imb['problem']}", "",
              "| method | value RMSE | kind accuracy | kind loss |", "|---|---|---|---|"]
    for name, r in imb["results"].items():
        v, k = r["tasks"]["value"], r["tasks"]["kind"]
        lines.append(f"| {name} | {v.get('rmse', float('nan')):.3f} | "
                     f"{k.get('accuracy', float('nan')):.3f} | {k.get('loss', float('nan')):.3f} |")
    goal = report["goal"]
    lines += ["", f"Goal: feature-gradient methods ≤ 2× `sum` per step with 6 tasks — worst: "
              f"{goal['worst_feature_method']} at {goal['worst_feature_ratio']:.2f}× "
              f"({'met' if goal['met'] else 'NOT met'}).", ""]
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 5))
    ratios = report["step_time"]["ratio_to_sum"]
    names = list(ratios)
    colors = ["tab:green" if "features" in n else "tab:blue" if "parameters" in n else "tab:gray"
              for n in names]
    axes[0].barh(names, [ratios[n] for n in names], color=colors)
    axes[0].axvline(2.0, color="red", linestyle="--", linewidth=1)
    axes[0].set_xlabel("step time / sum (6 tasks)")
    axes[0].invert_yaxis()
    img = report["image_problem"]["results"]
    key = next(iter(next(iter(img.values()))["dataset"]), None)
    vals = [r["dataset"].get(key, np.nan) if key else np.mean(
        [t.get("accuracy", np.nan) for t in r["tasks"].values()]) for r in img.values()]
    axes[1].barh(list(img), vals)
    axes[1].set_xlabel(key or "mean task accuracy")
    axes[1].set_title("(a) " + report["image_problem"]["problem"].split(" (")[0])
    axes[1].invert_yaxis()
    imb = report["imbalance_problem"]["results"]
    axes[2].scatter([r["tasks"]["value"]["rmse"] for r in imb.values()],
                    [r["tasks"]["kind"]["accuracy"] for r in imb.values()])
    for n, r in imb.items():
        axes[2].annotate(n, (r["tasks"]["value"]["rmse"], r["tasks"]["kind"]["accuracy"]), fontsize=7)
    axes[2].set_xlabel("value RMSE (lower is better)")
    axes[2].set_ylabel("kind accuracy")
    axes[2].set_title("(b) 100x loss-scale imbalance")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def render(report: dict) -> None:
    """Write weighting.md and weighting.png from a report (also: --render-only from the JSON)."""
    from mtkit.rundir import atomic_write

    atomic_write(RESULTS / "weighting.md", lambda p: Path(p).write_text(markdown(report)))
    atomic_write(RESULTS / "weighting.png", lambda p: plot(report, Path(p)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--train-size", type=int, default=12000)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--timing-only", action="store_true", help="Skip the training runs.")
    ap.add_argument("--timed", default="",
                    help="With --timing-only: comma-separated weighting types to time (and sum); "
                         "skips the parameter-mode strategies.")
    ap.add_argument("--spot-check", default="",
                    help="Comma-separated weighting types: train only these (and sum) on the "
                         "image problem, with --seeds seeds; writes weighting_spotcheck.json.")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--diagnostics", type=int, default=0,
                    help="With --spot-check: record per-task trunk gradient norms on this many "
                         "rows after every epoch and plot them (weighting_spotcheck_diagnostics"
                         ".json/.png instead of weighting_spotcheck.json).")
    ap.add_argument("--steps-per-epoch", type=int, default=0,
                    help="With --spot-check: steps per epoch (short epochs, more diagnostics).")
    ap.add_argument("--strategies-only", action="store_true",
                    help="Only time the ways of computing parameter-mode task gradients.")
    ap.add_argument("--render-only", action="store_true", help="Redraw .md/.png from the JSON.")
    args = ap.parse_args()
    if args.timed and not args.timing_only:
        ap.error("--timed needs --timing-only (a full report times every method)")
    if args.render_only:
        render(json.loads((RESULTS / "weighting.json").read_text()))
        return
    from mtkit.tf_import import import_tensorflow

    tf = import_tensorflow()
    import keras

    import mtkit

    t_start = time.perf_counter()
    image_cfg, image_name = image_problem(args)
    if args.spot_check:
        spot_check(image_cfg, image_name, args)
        return
    only = ["sum"] + [t for t in args.timed.split(",") if t] if args.timed else None
    strategies = None if only else parameter_mode_strategies(image_cfg, args.rounds, args.steps)
    if args.strategies_only:
        return
    timers = step_timers(image_cfg, only)
    samples = time_steps(timers, args.rounds, args.steps)
    # The fastest round (as timeit does): other processes on a shared machine only ever add
    # time, so the minimum is the least disturbed estimate; the median is kept alongside.
    med = {k: min(v) for k, v in samples.items()}
    ratio = {k: v / med["sum"] for k, v in med.items()}
    for k, v in med.items():
        print(f"step {k:26s} {v * 1000:8.1f} ms  x{ratio[k]:.2f}  "
              f"(median {statistics.median(samples[k]) * 1000:.1f})",
              flush=True)
    del timers
    if args.timing_only:
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        image_results, imbalance_results = {}, {}
        for w in QUALITY_IMAGE:
            image_results[label(w)] = train_one(image_cfg, w, folder / "image")
            print("image", label(w), image_results[label(w)]["dataset"], flush=True)
        imb_cfg = imbalance_problem(folder)
        for w in QUALITY_IMBALANCE:
            imbalance_results[label(w)] = train_one(imb_cfg, w, folder / "imbalance")
            print("imbalance", label(w), imbalance_results[label(w)]["tasks"], flush=True)
        # The imbalance at the start, measured: both losses of an untrained model.
        start = mtkit.train(imb_cfg, out=folder / "start", quiet=True,
                            overrides=["train.epochs=1", "train.steps_per_epoch=1"])
        first = {k: v["loss"] for k, v in start.history[0]["train"].items()}

    feature = {k: v for k, v in ratio.items() if k.endswith("(features)")}
    worst = max(feature, key=feature.get)
    report = {
        "what": "every weighting: test metrics on two problems; seconds per step of the six-task "
                "model relative to sum (one cached batch through mtkit's train step)",
        "command": "python benchmarks/weighting.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if not isinstance(v, bool)),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, CPU only",
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                     "mtkit": mtkit.__version__},
        "date": time.strftime("%Y-%m-%d"),
        "step_time": {"ms_per_step": {k: v * 1000 for k, v in med.items()}, "ratio_to_sum": ratio,
                      "statistic": "fastest round of steps_per_round steps",
                      "median_ms_per_step": {k: statistics.median(v) * 1000 for k, v in samples.items()},
                      "samples_s": samples, "rounds": args.rounds, "steps_per_round": args.steps},
        "parameter_mode_strategies": strategies,
        "goal": {"feature_gradients_at_most_x_sum": 2.0, "worst_feature_method": worst,
                 "worst_feature_ratio": feature[worst], "met": feature[worst] <= 2.0},
        "image_problem": {"problem": image_name, "epochs": args.epochs, "results": image_results},
        "imbalance_problem": {"problem": "synthetic regression (scale 16.5) + 4-class classification; "
                                         f"first-step losses {({k: round(v, 2) for k, v in first.items()})}",
                              "initial_loss_ratio": first["value"] / first["kind"],
                              "results": imbalance_results},
        "total_seconds": round(time.perf_counter() - t_start, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    from mtkit.rundir import atomic_write

    text = json.dumps(report, indent=2) + "\n"
    atomic_write(RESULTS / "weighting.json", lambda p: Path(p).write_text(text))
    render(report)
    print(markdown(report))


if __name__ == "__main__":
    main()
