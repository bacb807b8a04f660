"""``mtkit report RUN``: one run's diagnostics (see ``train.diagnostics_rows``) as a PNG:
gradient norms, cosines, task weights and, for a gated trunk, expert utilisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mtkit import rundir
from mtkit.errors import MtkitError


def plot_run(run: Path) -> Path:
    path = run / rundir.HISTORY
    if not path.is_file():
        raise MtkitError(f"'{run}' has no {rundir.HISTORY}: it is not a run directory that "
                         "finished an epoch (pass the --out folder of `mtkit train`).")
    history = rundir.read_json(path)["epochs"]
    diag = [(e["epoch"], e["diagnostics"]) for e in history if "diagnostics" in e]
    if not diag:
        raise MtkitError(f"run '{run}' recorded no diagnostics; train it with "
                         "--set train.diagnostics_rows=256 (mtkit compare turns them on).")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [e for e, _ in diag]
    gates = diag[-1][1].get("experts")
    fig, axes = plt.subplots(1, 4 if gates else 3, figsize=(20 if gates else 15, 4))
    tasks = list(diag[0][1]["grad_norm"])
    for t in tasks:
        axes[0].plot(epochs, [d["grad_norm"].get(t, np.nan) for _, d in diag], label=t)
    axes[0].set_yscale("log")
    axes[0].set_title("trunk gradient norm per task")
    for pair in diag[0][1]["cosine"]:
        axes[1].plot(epochs, [d["cosine"].get(pair, np.nan) for _, d in diag], label=pair)
    axes[1].axhline(0, color="k", lw=0.8)
    axes[1].set_title("gradient cosine per task pair (<0: conflict)")
    if "task_weight" in diag[0][1]:
        for t in diag[0][1]["task_weight"]:
            axes[2].plot(epochs, [d["task_weight"].get(t, np.nan) for _, d in diag], label=t)
    axes[2].set_title("effective task weight (loss weightings)")
    for ax in axes[:3]:
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    if gates:
        from mtkit.comparison.report import draw_experts

        draw_experts(axes[3], gates, f"expert utilisation, epoch {epochs[-1]}")
    fig.tight_layout()
    out = run / "diagnostics.png"
    rundir.atomic_write(out, lambda p: fig.savefig(p, dpi=90, format="png"))
    plt.close(fig)
    return out
