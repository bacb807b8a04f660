"""Open onnxruntime sessions for the export checks, on the CPU, as the runtime would run them.

The exporter may not import ``mtkit.runtime`` (data flows export → runtime), so it opens
its own sessions with the same settings: full graph optimisation, quiet logging.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mtkit.errors import MtkitError


def cpu_session(path: Path) -> Any:
    """An onnxruntime CPU session on ``path``; MtkitError if onnxruntime refuses the file."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's pybind exceptions have no common public base
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise MtkitError(f"onnxruntime cannot open the exported model ({first}); nothing was "
                         "written. This is a converter problem: please report it with the "
                         "model's config.") from None


def run_session(session: Any, inputs: dict[str, np.ndarray], batch_size: int) -> dict[str, np.ndarray]:
    """Outputs ``{name: array}`` over ``inputs`` in batches of ``batch_size``, matched by name."""
    names = [o.name for o in session.get_outputs()]
    n = len(next(iter(inputs.values())))
    parts: dict[str, list[np.ndarray]] = {k: [] for k in names}
    for start in range(0, n, batch_size):
        feed = {k: v[start:start + batch_size] for k, v in inputs.items()}
        for name, value in zip(names, session.run(names, feed), strict=True):
            parts[name].append(value)
    return {k: np.concatenate(v) for k, v in parts.items()}
