"""TensorFlow vs onnxruntime on real data: per-task errors at several batch sizes.

A sample of the run's own data goes through the Keras model (inference mode) and the
ONNX session at each batch size; a task passes when every output element satisfies
``|onnx - tf| <= atol + rtol * |tf|`` (numpy's ``allclose`` rule). Running two batch sizes
catches graphs that only work at the batch size they were traced with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mtkit.runtime.session import run_batched


@dataclass
class TaskParity:
    task: str
    batch_size: int
    max_abs: float
    max_rel: float
    agreement: float | None  # share of rows with the same argmax / thresholded decision
    ok: bool


def cast_inputs(inputs: dict[str, np.ndarray], specs: dict[str, dict[str, Any]]) -> dict[str, np.ndarray]:
    """Arrays in the dtypes the model declares (data files may hold float64 or int64)."""
    return {k: np.ascontiguousarray(inputs[k].astype(specs[k]["dtype"], copy=False)) for k in specs}


def keras_outputs(model: Any, inputs: dict[str, np.ndarray], batch_size: int) -> dict[str, np.ndarray]:
    """The Keras model's outputs in inference mode, in batches of ``batch_size``."""
    n = len(next(iter(inputs.values())))
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, n, batch_size):
        out = model({k: v[start:start + batch_size] for k, v in inputs.items()}, training=False)
        for k, v in out.items():
            parts.setdefault(k, []).append(np.asarray(v))
    return {k: np.concatenate(v) for k, v in parts.items()}


def compare(task: str, head: Any, ref: np.ndarray, got: np.ndarray, batch_size: int,
            rtol: float, atol: float) -> TaskParity:
    """Errors of ``got`` (onnxruntime) against ``ref`` (TensorFlow) for one task; the
    ``agreement`` column compares ``head.decisions`` (None for a head without decisions)."""
    ref64 = ref.astype(np.float64).reshape(got.shape) if ref.size == got.size else None
    if ref64 is None or not np.isfinite(got).all():
        return TaskParity(task, batch_size, float("inf"), float("inf"), None, False)
    got64 = got.astype(np.float64)
    err = np.abs(got64 - ref64)
    scale = np.abs(ref64)
    big = scale >= atol  # relative error only means something away from zero
    max_rel = float((err[big] / scale[big]).max()) if big.any() else 0.0
    agreement = None
    ref_dec = head.decisions(ref64) if head is not None else None
    if ref_dec is not None:
        same = (ref_dec == head.decisions(got64)).reshape(len(ref_dec), -1).all(axis=1)
        agreement = float(same.mean())
    ok = bool(np.all(err <= atol + rtol * scale))
    return TaskParity(task, batch_size, float(err.max()) if err.size else 0.0, max_rel, agreement, ok)


def check(model: Any, session: Any, inputs: dict[str, np.ndarray], heads: dict[str, Any],
          batch_sizes: tuple[int, ...], rtol: float, atol: float) -> list[TaskParity]:
    """Compare every task (``{task: its Head plugin}``) at every batch size; outputs are
    matched by task name."""
    rows = []
    for bs in batch_sizes:
        ref = keras_outputs(model, inputs, bs)
        got = run_batched(session, inputs, bs)
        for name, head in heads.items():
            rows.append(compare(name, head, ref[name], got[name], bs, rtol, atol))
    return rows


def as_json(rows: list[TaskParity]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]


def table(rows: list[TaskParity], rtol: float, atol: float) -> str:
    """Plain-text per-task table (fits a terminal and a log file)."""
    lines = [f"parity TensorFlow vs onnxruntime (rtol={rtol:g}, atol={atol:g})",
             f"{'task':<16} {'batch':>5} {'max abs err':>12} {'max rel err':>12} "
             f"{'agreement':>9}  result"]
    for r in rows:
        agree = "-" if r.agreement is None else f"{r.agreement:.4f}"
        lines.append(f"{r.task:<16} {r.batch_size:>5} {r.max_abs:>12.3g} {r.max_rel:>12.3g} "
                     f"{agree:>9}  {'ok' if r.ok else 'FAIL'}")
    return "\n".join(lines)
