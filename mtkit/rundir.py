"""Run-directory files, each written atomically (temp file in the same folder, then rename).

Numpy/JSON only, so export and the runtime can read runs without importing training code.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

CONFIG = "config.yaml"
MODEL = "model.keras"
HISTORY = "history.json"
METRICS = "metrics.json"
CURVES = "curves.png"
INFO = "run.json"
CHECKPOINTS = "checkpoints"


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then rename onto ``path``; no partial file is ever visible."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix,
                               dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return path


def remove_partial_files(folder: str | Path) -> list[Path]:
    """Delete temp files that ``atomic_write`` left in ``folder`` when its process was killed."""
    stale = [p for p in Path(folder).glob(".*.tmp*") if p.is_file()]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def _clean(obj: Any) -> Any:
    """JSON-safe: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str):
        obj = obj.item()
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    return obj


def write_json(path: str | Path, data: Any) -> Path:
    return write_text(path, json.dumps(_clean(data), indent=2) + "\n")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def plot_curves(path: str | Path, history: list[dict[str, Any]]) -> Path:
    """Per-task train/validation loss curves, one panel per task (a task mixture adds
    each source's own validation loss, dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(history[0]["train"]) if history else []
    cols = min(3, max(1, len(tasks)))
    rows = (len(tasks) + cols - 1) // cols or 1
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    epochs = [h["epoch"] for h in history]
    for ax, task in zip(axes.flat, tasks, strict=False):
        ax.plot(epochs, [h["train"][task]["loss"] for h in history], marker="o", label="train")
        if history and history[0].get("val"):
            ax.plot(epochs, [h["val"][task]["loss"] for h in history], marker="o", label="val")
        for name, scores in (history[0].get("val_sources") or {}).items() if history else ():
            if task in scores["tasks"] and len(history[0]["val_sources"]) > 1:  # a mixture
                ax.plot(epochs, [h["val_sources"][name]["tasks"][task]["loss"] for h in history],
                        linestyle="--", marker=".", label=f"val ({name})")
        ax.set_title(task)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend()
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    fig.tight_layout()

    def save(p: Path) -> None:
        fig.savefig(p, format="png", dpi=80)

    atomic_write(path, save)
    plt.close(fig)
    return Path(path)
