"""Check and convert user arrays into exactly what the model's inputs expect.

Every problem names the input, what was given and what the model wants, because a wrong
shape or dtype would otherwise surface as an opaque onnxruntime error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mtkit.errors import DataError


def _one(name: str, value: Any, spec: dict[str, Any], source: str) -> np.ndarray:
    arr = np.asarray(value)
    want = tuple(spec["shape"])
    dtype = spec["dtype"]
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{source}: input '{name}' has dtype {arr.dtype}; the model wants "
                        f"numbers ({dtype}). Convert the data to numeric arrays.")
    if dtype.startswith("float"):
        arr = arr.astype(np.float32, copy=False)
        if not np.isfinite(arr).all():  # NaN in, NaN out: refuse rather than predict nonsense
            bad = int((~np.isfinite(arr)).reshape(len(arr), -1).any(axis=1).sum()) if arr.ndim else 1
            raise DataError(f"{source}: input '{name}' has NaN or infinite values in {bad} rows; "
                            "the model cannot predict from them: clean or impute them first.")
    else:
        if arr.dtype.kind == "f":
            raise DataError(f"{source}: input '{name}' has dtype {arr.dtype}, but the model wants "
                            f"integers ({dtype}); cast it with .astype('{dtype}').")
        arr = arr.astype(dtype, copy=False)
    if arr.shape[1:] != want:
        hint = ""
        if arr.shape == want:
            hint = " It looks like one example without the batch axis: add one (x[None])."
        raise DataError(f"{source}: input '{name}' has shape {arr.shape}, but the model wants "
                        f"(batch, {', '.join(map(str, want))}).{hint}")
    return np.ascontiguousarray(arr)


def check_inputs(inputs: Any, specs: dict[str, dict[str, Any]],
                 source: str = "predict") -> dict[str, np.ndarray]:
    """``{name: array}`` (or one array for a one-input model) → checked float32/int arrays."""
    if not isinstance(inputs, dict):
        if len(specs) != 1:
            raise DataError(f"{source}: the model has {len(specs)} inputs "
                            f"({', '.join(specs)}); pass a dict {{name: array}}.")
        inputs = {next(iter(specs)): inputs}
    missing = [n for n in specs if n not in inputs]
    extra = [n for n in inputs if n not in specs]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(map(repr, missing))}")
        if extra:
            parts.append(f"unknown {', '.join(map(repr, extra))}")
        raise DataError(f"{source}: inputs do not match the model ({'; '.join(parts)}); the "
                        f"model's inputs are {', '.join(map(repr, specs))}.")
    out = {name: _one(name, inputs[name], spec, source) for name, spec in specs.items()}
    lengths = {len(v) for v in out.values()}
    if len(lengths) > 1:
        detail = ", ".join(f"'{k}' has {len(v)}" for k, v in out.items())
        raise DataError(f"{source}: inputs have different numbers of rows ({detail}).")
    return out
