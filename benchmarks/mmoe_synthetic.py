"""MMoE paper's synthetic experiment (Ma et al. 2018, KDD: data §3.2, models §5.1):
distributions over many seeds of the final losses of shared-bottom, OMoE and MMoE, per task
correlation, learning rate chosen from the paper's grid.

The paper's protocol where it states one: d = 100, c = 1, m = 10 sine terms; p in
{0.5, 0.9, 1.0}; a shared bottom of 113 units vs 8 experts of 16 units (MMoE and OMoE),
single-layer towers of 8 units; Adam with the learning rate grid-searched from
{1e-4, 1e-3, 1e-2}; many runs with independent data and initialisation. Everything the
paper leaves unstated is an argument here, listed in the JSON under ``assumptions``.

To make hundreds of runs affordable on 2 CPU cores, every run of every model and learning
rate is trained **side by side in one graph**: each weight tensor has a leading run axis and
the layers are ``einsum``/batched ``matmul`` over it, so run r only ever touches its own
slice (Adam is element-wise, so one Keras Adam per learning rate updates all its runs
independently). The models are the plugin trunks' architectures: ``shared_bottom`` is the
core ``mlp`` trunk (``units: [113]``), ``omoe`` and ``mmoe`` the mtkit-experts trunks of
those names (8 ``mlp`` experts of 16 units, softmax gates with bias), each task a
``regression`` head with ``hidden: [8]``; a test copies the weights of the mtkit-built Keras
model into one run and checks the outputs agree (plugins/mtkit-experts/tests).

Usage: .venv/bin/python benchmarks/mmoe_synthetic.py [--seeds 50] [--steps 5000] [--quick]
→ benchmarks/results/mmoe_synthetic.json and .png (final test MSE per run; box plots per
model and correlation, plus mean and median validation curves). The defaults train 612 runs
(6 pilot seeds x 3 learning rates x 3 models x 3 p, then 50 seeds at the chosen rates):
about 1,500 CPU-seconds, so roughly 12-13 minutes on 2 quiet cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
MODELS = ("shared_bottom", "omoe", "mmoe")
TASKS = ("y1", "y2")
DIM = 100
BOTTOM_UNITS = 113  # §5.1: 13056 / (100 + 8 x 2) ≈ 113, the MoE models' parameter count
EXPERTS, EXPERT_UNITS, TOWER_UNITS = 8, 16, 8
LEARNING_RATES = (1e-4, 1e-3, 1e-2)
CORRELATIONS = (1.0, 0.9, 0.5)


# ---------------------------------------------------------------------------------------
# the models, as mtkit configs (what the vectorised code below must equal)

def trunk_config(model: str) -> dict[str, Any]:
    """The mtkit trunk section of ``model``: the architecture the vectorised runs implement."""
    expert = {"type": "mlp", "units": [EXPERT_UNITS]}
    return {
        "shared_bottom": {"type": "mlp", "units": [BOTTOM_UNITS]},
        "omoe": {"type": "omoe", "experts": EXPERTS, "expert": expert},
        "mmoe": {"type": "mmoe", "experts": EXPERTS, "expert": expert},
    }[model]


def mtkit_config(model: str, data: dict[str, Any]) -> dict[str, Any]:
    """A complete mtkit config for ``model`` on the ``mmoe_synthetic`` data section ``data``."""
    return {"data": {"dataset": "mmoe_synthetic", **data}, "trunk": trunk_config(model),
            "tasks": {t: {"head": "regression", "hidden": [TOWER_UNITS]} for t in TASKS}}


def _gates(model: str) -> int:
    return {"omoe": 1, "mmoe": len(TASKS)}.get(model, 0)


def init_params(model: str, runs: int, rng: np.random.Generator, dim: int = DIM) -> dict[str, np.ndarray]:
    """Initial weights of ``runs`` independent copies, drawn like Keras' ``Dense`` defaults
    (Glorot-uniform kernels over each layer's own fan-in/fan-out, zero biases)."""

    def glorot(fan_in: int, fan_out: int, *lead: int) -> np.ndarray:
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=(runs, *lead, fan_in, fan_out)).astype("float32")

    k = len(TASKS)
    if model == "shared_bottom":
        p = {"bottom_w": glorot(dim, BOTTOM_UNITS), "bottom_b": np.zeros((runs, BOTTOM_UNITS), "float32")}
        features = BOTTOM_UNITS
    else:
        g = _gates(model)
        p = {"expert_w": glorot(dim, EXPERT_UNITS, EXPERTS),
             "expert_b": np.zeros((runs, EXPERTS, EXPERT_UNITS), "float32"),
             "gate_w": glorot(dim, EXPERTS, g), "gate_b": np.zeros((runs, g, EXPERTS), "float32")}
        features = EXPERT_UNITS
    p["tower_w"] = glorot(features, TOWER_UNITS, k)
    p["tower_b"] = np.zeros((runs, k, TOWER_UNITS), "float32")
    p["out_w"] = glorot(TOWER_UNITS, 1, k)[..., 0]
    p["out_b"] = np.zeros((runs, k), "float32")
    return p


def forward(model: str, p: dict[str, Any], x: Any) -> Any:
    """Predictions ``(runs, batch, tasks)`` of every run for its inputs ``x (runs, batch, dim)``."""
    import tensorflow as tf

    runs, batch = tf.shape(x)[0], tf.shape(x)[1]
    if model == "shared_bottom":
        h = tf.nn.relu(tf.matmul(x, p["bottom_w"]) + p["bottom_b"][:, None, :])
        f = tf.repeat(h[:, :, None, :], len(TASKS), axis=2)            # (R, B, K, F)
    else:
        w = p["expert_w"]                                              # (R, E, d, U)
        flat = tf.reshape(tf.transpose(w, (0, 2, 1, 3)), (runs, -1, EXPERTS * EXPERT_UNITS))
        e = tf.reshape(tf.matmul(x, flat), (runs, batch, EXPERTS, EXPERT_UNITS))
        e = tf.nn.relu(e + p["expert_b"][:, None])                     # (R, B, E, U)
        logits = tf.einsum("rbd,rgde->rbge", x, p["gate_w"]) + p["gate_b"][:, None]
        f = tf.einsum("rbge,rbeu->rbgu", tf.nn.softmax(logits, axis=-1), e)  # (R, B, G, U)
        if f.shape[2] == 1:
            f = tf.repeat(f, len(TASKS), axis=2)
    t = tf.nn.relu(tf.einsum("rbkf,rkfh->rbkh", f, p["tower_w"]) + p["tower_b"][:, None])
    return tf.einsum("rbkh,rkh->rbk", t, p["out_w"]) + p["out_b"][:, None]


def params_from_keras(model: str, keras_model: Any) -> dict[str, np.ndarray]:
    """The weights of an mtkit-built Keras model of ``model`` as one run (leading axis 1).

    mtkit nests the trunk as a sub-model named ``trunk``; the towers are the heads'
    ``<task>_dense0`` and ``<task>`` layers.
    """
    trunk = keras_model.get_layer("trunk")

    def get(layer: Any) -> list[np.ndarray]:
        return [np.asarray(w) for w in layer.get_weights()]

    if model == "shared_bottom":
        w, b = get(trunk.get_layer("mlp_dense0"))
        p = {"bottom_w": w, "bottom_b": b}
    else:
        experts = [get(trunk.get_layer(f"expert{i}").get_layer("mlp_dense0")) for i in range(EXPERTS)]
        gates = [get(trunk.get_layer(g)) for g in (["gate"] if model == "omoe" else
                                                   [f"gate_{t}" for t in TASKS])]
        p = {"expert_w": np.stack([w for w, _ in experts]), "expert_b": np.stack([b for _, b in experts]),
             "gate_w": np.stack([w for w, _ in gates]), "gate_b": np.stack([b for _, b in gates])}
    towers = [get(keras_model.get_layer(f"{t}_dense0")) for t in TASKS]
    outs = [get(keras_model.get_layer(t)) for t in TASKS]
    p.update(tower_w=np.stack([w for w, _ in towers]), tower_b=np.stack([b for _, b in towers]),
             out_w=np.stack([w[:, 0] for w, _ in outs]), out_b=np.stack([b[0] for _, b in outs]))
    return {k: v[None].astype("float32") for k, v in p.items()}


# ---------------------------------------------------------------------------------------
# data: the mmoe_synthetic dataset's generator; fresh training rows every step

def data_params(args: argparse.Namespace, p: float, rows: int = 10) -> Any:
    from mtkit_experts.mmoe_synthetic import MMoESyntheticParams

    return MMoESyntheticParams(rows=rows, dim=args.dim, correlation=p, scale=args.scale,
                               sinusoids=args.sinusoids, noise=args.noise,
                               sinusoid_shape=args.sinusoid_shape, shape_seed=args.shape_seed)


def make_data(args: argparse.Namespace, seeds: list[int]) -> dict[str, np.ndarray]:
    """Per (p, seed): the task weights w and held-out validation + test rows.

    Everything comes from the ``mmoe_synthetic`` dataset's own functions: ``generate`` for
    the held-out rows (``eval_rows`` validation, then ``eval_rows`` test), ``task_weights``
    with the same seed for the w that the training stream uses (``generate`` draws w first,
    so both see the same w). u1, u2 and x depend on the seed only, so runs at different p
    with one seed share them. Shapes: ``x (S, 2n, d)``, ``y (P, S, 2n, K)``, ``w (P, S, K, d)``.
    """
    from mtkit_experts.mmoe_synthetic import generate, sinusoid_parameters, task_weights

    xs, ys, ws = [], [], []
    for pi, p in enumerate(args.correlations):
        params = data_params(args, p, rows=2 * args.eval_rows)
        y_p, w_p = [], []
        for si, s in enumerate(seeds):
            x, y = generate(params, seed=s)
            if pi == 0:
                xs.append(x)
            elif not np.array_equal(x, xs[si]):
                raise AssertionError("the dataset's inputs must not depend on p")
            y_p.append(y.astype("float32"))
            w_p.append(task_weights(args.dim, p, args.scale, np.random.default_rng(s)).astype("float32"))
        ys.append(np.stack(y_p))
        ws.append(np.stack(w_p))
    alpha, beta = sinusoid_parameters(data_params(args, 0.0))
    return {"x": np.stack(xs), "y": np.stack(ys), "w": np.stack(ws),
            "alpha": alpha.astype("float32"), "beta": beta.astype("float32")}


def stream_labels(x: Any, w: Any, alpha: Any, beta: Any) -> Any:
    """The dataset's labels without noise, in TensorFlow: z + Σ sin(α z + β), z = wᵀx.

    ``x (Q, B, d)``, ``w (Q, K, d)`` → ``(Q, B, K)``; a test checks it equals ``generate``.
    """
    import tensorflow as tf

    z = tf.einsum("qbd,qkd->qbk", x, w)
    return z + tf.reduce_sum(tf.sin(z[..., None] * alpha + beta), axis=-1)


# ---------------------------------------------------------------------------------------
# training many runs side by side

def make_groups(args: argparse.Namespace, n_seeds: int, chosen: dict | None) -> list[dict[str, Any]]:
    """Run groups ``{model, lr, p_idx, s_idx}``: every grid value (``chosen`` None) or, per
    model, the learning rate chosen for each p."""
    groups = []
    n_p = len(args.correlations)
    for m in MODELS:
        for lr in args.learning_rates:
            ps = [pi for pi, p in enumerate(args.correlations) if chosen is None or chosen[m][str(p)] == lr]
            if ps:
                groups.append({"model": m, "lr": lr, "p_idx": np.repeat(ps, n_seeds),
                               "s_idx": np.tile(np.arange(n_seeds), len(ps))})
    assert all(g["p_idx"].max() < n_p for g in groups)
    return groups


def train_runs(args: argparse.Namespace, data: dict[str, np.ndarray], seeds: list[int],
               groups: list[dict[str, Any]], label: str) -> dict[str, Any]:
    """Train every run of ``groups`` for ``args.steps`` Adam steps on fresh rows.

    Each step draws one batch of inputs per seed (shared by all p, models and learning rates
    of that seed: paired comparisons) and labels per (p, seed). A run's initial weights
    depend on (model, seed) only, so the learning rates and correlations of one model start
    from the same point. Returns per group the validation/test MSE ``(runs, tasks)`` and the
    validation curve ``(evals, runs)`` (mean of tasks).
    """
    from mtkit.tf_import import import_tensorflow

    tf = import_tensorflow()
    import keras

    n_s, k, b = len(seeds), len(TASKS), args.batch_size
    w = tf.constant(data["w"].reshape(-1, k, args.dim))                   # (Q = P·S, K, d)
    q_seed = tf.constant(np.tile(np.arange(n_s), len(args.correlations)), tf.int32)
    alpha, beta = tf.constant(data["alpha"]), tf.constant(data["beta"])
    x_eval = tf.constant(data["x"])
    y_eval = tf.constant(data["y"].reshape(-1, data["y"].shape[2], k))   # (Q, 2n, K)
    variables, optimizers, index = [], [], []
    for g in groups:
        init = [init_params(g["model"], 1, np.random.default_rng([MODELS.index(g["model"]), seeds[s]]),
                            args.dim) for s in g["s_idx"]]
        variables.append({name: tf.Variable(np.concatenate([i[name] for i in init]))
                          for name in init[0]})
        optimizers.append(keras.optimizers.Adam(learning_rate=g["lr"]))
        index.append((tf.constant(g["s_idx"], tf.int32),
                      tf.constant(g["p_idx"] * n_s + g["s_idx"], tf.int32)))
    flat = [v for vs in variables for v in vs.values()]

    @tf.function
    def train_chunk(first_step: Any, n: Any) -> None:
        for i in tf.range(n):
            step = first_step + i
            x = tf.random.stateless_normal((n_s, b, args.dim), seed=tf.stack([args.seed0, step]))
            noise = tf.random.stateless_normal((w.shape[0], b, k), seed=tf.stack([args.seed0 + 1, step]))
            y = stream_labels(tf.gather(x, q_seed), w, alpha, beta) + args.noise * noise
            with tf.GradientTape() as tape:
                loss = 0.0
                for g, vs, (s_idx, q_idx) in zip(groups, variables, index, strict=True):
                    pred = forward(g["model"], vs, tf.gather(x, s_idx))
                    loss += tf.reduce_sum(tf.reduce_mean(tf.square(pred - tf.gather(y, q_idx)), axis=1))
            grads = tape.gradient(loss, flat)
            at = 0
            for vs, opt in zip(variables, optimizers, strict=True):
                opt.apply_gradients(zip(grads[at:at + len(vs)], flat[at:at + len(vs)], strict=True))
                at += len(vs)

    @tf.function
    def eval_chunk(start: Any, count: Any) -> list[Any]:
        out = []
        for g, vs, (s_idx, q_idx) in zip(groups, variables, index, strict=True):
            x = tf.gather(x_eval[:, start:start + count], s_idx)
            y = tf.gather(y_eval[:, start:start + count], q_idx)
            out.append(tf.reduce_sum(tf.square(forward(g["model"], vs, x) - y), axis=1))
        return out

    def evaluate(start: int) -> list[np.ndarray]:
        """Per group, the MSE ``(runs, tasks)`` on rows [start, start + eval_rows)."""
        total = [0.0] * len(groups)
        for a in range(0, args.eval_rows, 500):
            part = eval_chunk(tf.constant(start + a), tf.constant(min(500, args.eval_rows - a)))
            total = [t + np.asarray(p) for t, p in zip(total, part, strict=True)]
        return [t / args.eval_rows for t in total]

    curve, curve_steps = [[v.mean(axis=-1) for v in evaluate(0)]], [0]
    t0 = time.perf_counter()
    done = 0
    while done < args.steps:
        n = min(args.eval_every, args.steps - done)
        train_chunk(tf.constant(done), tf.constant(n))
        done += n
        curve.append([v.mean(axis=-1) for v in evaluate(0)])
        curve_steps.append(done)
        print(f"{label}: step {done}/{args.steps}, {time.perf_counter() - t0:.0f} s; median val MSE "
              + ", ".join(f"{g['model']}@{g['lr']:g} {np.median(c):.3f}" for g, c in zip(groups, curve[-1],
                                                                                         strict=True)),
              flush=True)
    return {"val": evaluate(0), "test": evaluate(args.eval_rows), "steps": curve_steps,
            "curve": [np.stack([c[gi] for c in curve]) for gi in range(len(groups))],
            "seconds": time.perf_counter() - t0, "runs": sum(len(g["s_idx"]) for g in groups)}


def converged(curve: np.ndarray) -> np.ndarray:
    """Per run: the last 20% of training improved its validation loss by under 1%."""
    ref = max(0, min(int(round(0.8 * (len(curve) - 1))), len(curve) - 2))
    return curve[-1] >= 0.99 * curve[ref]


def per_p(args: argparse.Namespace, groups: list[dict[str, Any]], values: list[np.ndarray],
          model: str, lr: float, pi: int) -> np.ndarray:
    """The per-run ``values`` of (model, lr) at correlation index ``pi``, ordered by seed."""
    for g, v in zip(groups, values, strict=True):
        if g["model"] == model and g["lr"] == lr:
            sel = g["p_idx"] == pi
            return v[sel][np.argsort(g["s_idx"][sel])]
    raise KeyError((model, lr, pi))


def select_learning_rates(args: argparse.Namespace, groups: list[dict[str, Any]],
                          out: dict[str, Any]) -> tuple[dict, dict]:
    """Per (model, p): the grid value with the lowest mean validation loss over seeds."""
    val = [v.mean(axis=-1) for v in out["val"]]
    conv = [converged(c) for c in out["curve"]]
    table: dict[str, dict] = {m: {} for m in MODELS}
    chosen: dict[str, dict] = {m: {} for m in MODELS}
    for m in MODELS:
        for pi, p in enumerate(args.correlations):
            row = {f"{lr:g}": {"val_mean": float(per_p(args, groups, val, m, lr, pi).mean()),
                               "val_median": float(np.median(per_p(args, groups, val, m, lr, pi))),
                               "converged_share": float(per_p(args, groups, conv, m, lr, pi).mean())}
                   for lr in args.learning_rates}
            table[m][str(p)] = row
            chosen[m][str(p)] = min(args.learning_rates, key=lambda lr, row=row: row[f"{lr:g}"]["val_mean"])
    return chosen, table


# ---------------------------------------------------------------------------------------
# summary, figure

def summarise(args: argparse.Namespace, groups: list[dict[str, Any]], out: dict[str, Any],
              chosen: dict) -> dict[str, Any]:
    """Per (model, p): the distribution over seeds of the final test loss (mean of the tasks).

    A run is *bad* when its test loss is over ``bad_factor`` times the lowest median among
    the models at that p (one yardstick per p, the same for every model).
    """
    test = [v.mean(axis=-1) for v in out["test"]]
    conv = [converged(c) for c in out["curve"]]
    summary: dict[str, Any] = {m: {} for m in MODELS}
    for pi, p in enumerate(args.correlations):
        losses = {m: per_p(args, groups, test, m, chosen[m][str(p)], pi) for m in MODELS}
        bad_above = args.bad_factor * min(float(np.median(v)) for v in losses.values())
        for m, v in losses.items():
            lr = chosen[m][str(p)]
            tasks = per_p(args, groups, out["test"], m, lr, pi)
            summary[m][str(p)] = {
                "learning_rate": lr, "mean": float(v.mean()), "median": float(np.median(v)),
                "p90": float(np.quantile(v, 0.9)), "max": float(v.max()),
                "bad_share": float((v > bad_above).mean()), "bad_above": bad_above,
                "converged_share": float(per_p(args, groups, conv, m, lr, pi).mean()),
                "per_task_mean": {t: float(tasks[:, i].mean()) for i, t in enumerate(TASKS)},
                "runs": [round(float(x), 5) for x in v],
            }
    return summary


def degradation(args: argparse.Namespace, summary: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per model: the mean / median / 90th percentile test loss at the lowest p over those at p = 1."""
    lo, hi = str(min(args.correlations)), str(max(args.correlations))
    return {m: {stat: summary[m][lo][stat] / summary[m][hi][stat] for stat in ("mean", "median", "p90")}
            for m in MODELS}


def plot(args: argparse.Namespace, groups: list[dict[str, Any]], out: dict[str, Any],
         summary: dict[str, Any], path: Path, note: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_p = len(args.correlations)
    colors = {"shared_bottom": "tab:red", "omoe": "tab:orange", "mmoe": "tab:blue"}
    fig, axes = plt.subplots(2, n_p, figsize=(4.4 * n_p, 7.6), squeeze=False)
    rng = np.random.default_rng(0)
    for pi, p in enumerate(args.correlations):
        ax = axes[0, pi]
        data = [np.asarray(summary[m][str(p)]["runs"]) for m in MODELS]
        ax.boxplot(data, whis=(5, 95), showfliers=False)
        for j, (m, v) in enumerate(zip(MODELS, data, strict=True)):
            ax.scatter(j + 1 + rng.uniform(-0.2, 0.2, v.size), v, s=7, alpha=0.5, color=colors[m])
        ax.axhline(summary[MODELS[0]][str(p)]["bad_above"], color="grey", ls=":", lw=0.8)
        ax.set_xticks(range(1, len(MODELS) + 1), [f"{m}\nlr {summary[m][str(p)]['learning_rate']:g}"
                                                  for m in MODELS], fontsize=8)
        ax.set_title(f"p = {p}: final test MSE, {args.seeds} runs each", fontsize=10)
        ax.grid(alpha=0.3, axis="y")
        ax = axes[1, pi]
        for m in MODELS:
            c = per_p(args, groups, [c.T for c in out["curve"]], m, summary[m][str(p)]["learning_rate"], pi)
            ax.plot(out["steps"], c.mean(axis=0), color=colors[m], label=f"{m} mean")
            ax.plot(out["steps"], np.median(c, axis=0), color=colors[m], ls="--", lw=0.8)
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_title(f"p = {p}: validation MSE (solid: mean, dashed: median)", fontsize=9)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("test MSE, mean of 2 tasks (box 25-75%, whiskers 5-95%)", fontsize=8)
    axes[0, 0].annotate("dotted: 'bad run' line", (0.02, 0.95), xycoords="axes fraction", fontsize=7)
    axes[1, 0].set_ylabel("validation MSE")
    axes[1, 0].legend(fontsize=8)
    fig.suptitle(note, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def assumptions(args: argparse.Namespace) -> dict[str, str]:
    """Every setting the paper leaves unstated, with the value used here."""
    shape = {"integers": "alpha_i = i, beta_i = (i-1)^2 (Google Research's public generator)",
             "normal": f"alpha_i, beta_i ~ N(0, 1), draw shape_seed = {args.shape_seed}"}[args.sinusoid_shape]
    return {
        "sinusoids": f"alpha_i, beta_i: not given by the paper; here {shape}",
        "noise": f"eps ~ N(0, 0.01) read as variance 0.01, so std {args.noise}",
        "data": "fresh training rows every step (the generator's step 5, 'repeat until enough data'), "
                f"so the final loss is the population loss; {args.eval_rows} validation and "
                f"{args.eval_rows} test rows per run from the dataset's generate()",
        "batch_size": f"{args.batch_size}",
        "training_length": f"{args.steps} Adam steps ('to convergence' is checked: converged_share = "
                           "runs whose last 20% of steps improved validation loss by under 1%)",
        "loss": "sum of the two tasks' MSE, equal weights; reported: mean of the two tasks' test MSE",
        "learning_rate_choice": "per model and p, the grid value with the lowest mean validation loss"
                                + (f" over {args.pilot_seeds} separate pilot seeds" if args.pilot_seeds
                                   else " (same seeds)"),
        "gates": "softmax(W x + b): a Keras Dense with bias (the paper's eq. 8 has none)",
        "activations": "ReLU in the bottom, the experts and the towers; linear outputs",
        "init": "Keras defaults: Glorot-uniform kernels, zero biases",
        "optimizer": "Keras Adam, beta1 0.9, beta2 0.999, eps 1e-7, no decay",
        "runs": f"{args.seeds} seeds per model and p (paper: 200 runs); seeds independent; one seed's "
                "inputs shared by all p and models, one seed's initial weights by all p and learning rates",
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--pilot-seeds", type=int, default=6,
                    help="seeds of the learning-rate search (0: search on the main seeds)")
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-rows", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--dim", type=int, default=DIM)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--sinusoids", type=int, default=10)
    ap.add_argument("--noise", type=float, default=0.1)
    ap.add_argument("--sinusoid-shape", choices=("normal", "integers"), default="normal")
    ap.add_argument("--shape-seed", type=int, default=5, help="draw of alpha, beta for 'normal'")
    ap.add_argument("--correlations", type=float, nargs="+", default=list(CORRELATIONS))
    ap.add_argument("--learning-rates", type=float, nargs="+", default=list(LEARNING_RATES))
    ap.add_argument("--bad-factor", type=float, default=1.5)
    ap.add_argument("--seed0", type=int, default=0)
    ap.add_argument("--load-note", default="", help="machine load during the run, for the record")
    ap.add_argument("--quick", action="store_true", help="a tiny run for tests (seconds)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.pilot_seeds, args.steps, args.eval_every = 3, 0, 6, 3
        args.eval_rows, args.dim, args.batch_size = 64, 12, 32

    from mtkit_experts.mmoe_synthetic import variance_parts

    from mtkit import rundir

    t0 = time.perf_counter()
    load_before = os.getloadavg()[0]
    seeds = list(range(args.seed0, args.seed0 + args.seeds))
    selection = None
    pilot_seconds = 0.0
    if args.pilot_seeds:
        pilot = [10_000 + args.seed0 + i for i in range(args.pilot_seeds)]
        groups = make_groups(args, len(pilot), None)
        out = train_runs(args, make_data(args, pilot), pilot, groups, "lr search")
        chosen, selection = select_learning_rates(args, groups, out)
        pilot_seconds = out["seconds"]
        groups = make_groups(args, len(seeds), chosen)
        out = train_runs(args, make_data(args, seeds), seeds, groups, "main")
    else:
        groups = make_groups(args, len(seeds), None)
        out = train_runs(args, make_data(args, seeds), seeds, groups, "main")
        chosen, selection = select_learning_rates(args, groups, out)
    summary = summarise(args, groups, out, chosen)
    parts = variance_parts(data_params(args, 0.0))
    runs = out["runs"] + (args.pilot_seeds * len(MODELS) * len(args.correlations) * len(args.learning_rates))
    load = {"loadavg_1min_before": round(load_before, 2), "loadavg_1min_after": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(), "note": args.load_note}
    report = {
        "what": "MMoE synthetic experiment (Ma et al. 2018): distribution over seeds of the final test "
                "MSE (mean of the 2 tasks) per model and task correlation; learning rate chosen per model "
                "and p from the paper's grid on validation loss",
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
        "load": load,
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "load_note")},
        "assumptions": assumptions(args),
        "target_variance": parts,
        "models": {m: trunk_config(m) for m in MODELS},
        "tower": {"head": "regression", "hidden": [TOWER_UNITS]},
        "learning_rate_search": selection,
        "summary": summary,
        "loss_ratio_lowest_p_over_p1": degradation(args, summary),
        "runs_trained": runs,
        "search_seconds": round(pilot_seconds, 1),
        "main_seconds": round(out["seconds"], 1),
        "total_seconds": round(time.perf_counter() - t0, 1),
        "cpu_seconds": round(time.process_time(), 1),
    }
    note = (f"{runs} runs trained side by side in one graph ({args.steps} steps of batch {args.batch_size}), "
            f"d={args.dim}, non-linear share of the target {parts['nonlinear_share']:.0%}; "
            f"{report['total_seconds']:.0f} s wall, load {load['loadavg_1min_before']}-"
            f"{load['loadavg_1min_after']} on {load['cpus']} cores")
    args.out.mkdir(parents=True, exist_ok=True)
    rundir.write_json(args.out / "mmoe_synthetic.json", report)
    rundir.atomic_write(args.out / "mmoe_synthetic.png", lambda p: plot(args, groups, out, summary, p, note))
    for p in args.correlations:
        print(f"p={p}: " + "; ".join(
            f"{m} lr {r['learning_rate']:g} mean {r['mean']:.3f} median {r['median']:.3f} "
            f"p90 {r['p90']:.3f} bad {r['bad_share']:.0%} conv {r['converged_share']:.0%}"
            for m in MODELS for r in [summary[m][str(p)]]), flush=True)
    print(note, "→", args.out / "mmoe_synthetic.json")
    return report


if __name__ == "__main__":
    main()
