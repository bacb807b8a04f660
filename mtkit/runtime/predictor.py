"""``Predictor``: an exported model in onnxruntime, without TensorFlow.

It reads the mtkit metadata stored in the ONNX file, so inputs are checked by name,
shape and dtype, outputs are matched to tasks by name, and predictions come back decoded
(class, label and probability; values; numbers read by a multi-digit model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mtkit.errors import MtkitError
from mtkit.runtime import providers
from mtkit.runtime.decode import decode
from mtkit.runtime.inputs import check_inputs
from mtkit.runtime.metadata import ModelMeta, parse


def _session_options(ort: Any, threads: int | None) -> Any:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.intra_op_num_threads = threads if threads else 0  # 0: one per physical core
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # errors only; onnxruntime warns about harmless things
    return opts


class Predictor:
    """Run an mtkit ONNX model. ``provider``: ``auto`` (GPU if it really works), ``cpu``,
    ``cuda`` or ``tensorrt``; ``batch_size``: rows per onnxruntime call; ``threads``:
    intra-op threads (None: one per core)."""

    def __init__(self, path: str | Path, provider: str = "auto", batch_size: int = 256,
                 threads: int | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        if batch_size < 1:
            raise MtkitError(f"batch_size must be at least 1 (got {batch_size}).")
        self.batch_size = batch_size
        if self.path.is_dir():
            raise MtkitError(f"'{self.path}' is a folder; pass the .onnx file itself (an exported "
                             f"run has {self.path / 'model.onnx'}).")
        if not self.path.is_file():
            raise MtkitError(f"ONNX model '{self.path}' does not exist; export one with "
                             "`mtkit export RUN --onnx`.")
        wanted = providers.requested(provider, ort)
        opts = _session_options(ort, threads)
        try:
            if provider.lower() == "auto" and wanted[0] != providers.CPU:
                with providers.quiet_stdio():  # a failing GPU falls back to CPU silently
                    self.session = ort.InferenceSession(str(self.path), opts, providers=wanted)
            else:
                self.session = ort.InferenceSession(str(self.path), opts, providers=wanted)
        except Exception as exc:  # onnxruntime raises its own (pybind) exception types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MtkitError(f"'{self.path}' cannot be loaded as an ONNX model ({first[:300]}); "
                             "is it a file written by `mtkit export RUN --onnx`?") from None
        providers.confirm(provider, wanted, self.session)
        self.meta: ModelMeta = parse(self.session.get_modelmeta().custom_metadata_map,
                                     str(self.path))
        outputs = {o.name for o in self.session.get_outputs()}
        missing = [t for t in self.meta.tasks if t not in outputs]
        if missing:
            raise MtkitError(f"ONNX model '{self.path}' has no output for task(s) "
                             f"{', '.join(missing)} (outputs: {', '.join(sorted(outputs))}); "
                             "its metadata does not match the graph. Re-export the model.")

    @property
    def provider(self) -> str:
        """The execution provider actually running the model."""
        return self.session.get_providers()[0]

    @property
    def tasks(self) -> list[str]:
        return list(self.meta.tasks)

    @property
    def inputs(self) -> dict[str, dict[str, Any]]:
        return dict(self.meta.inputs)

    def run(self, inputs: Any) -> dict[str, np.ndarray]:
        """Raw outputs ``{task: array (N, ...)}``; large inputs go through in batches.

        A table model takes raw rows: a DataFrame, a dict of columns or a list of row dicts.
        """
        if self.meta.tabular is not None:
            from mtkit.tabular.rows import model_inputs

            arrays = model_inputs(inputs, self.meta.tabular, str(self.path))
        else:
            arrays = check_inputs(inputs, self.meta.inputs, str(self.path))
        n = len(next(iter(arrays.values())))
        names = list(self.meta.tasks)
        if n == 0:
            shapes = {o.name: o.shape[1:] for o in self.session.get_outputs()}
            return {t: np.zeros((0, *[d if isinstance(d, int) else 1 for d in shapes[t]]),
                                np.float32) for t in names}
        parts: dict[str, list[np.ndarray]] = {t: [] for t in names}
        for start in range(0, n, self.batch_size):
            feed = {k: v[start:start + self.batch_size] for k, v in arrays.items()}
            for name, value in zip(names, self.session.run(names, feed), strict=True):
                parts[name].append(value)
        return {t: np.concatenate(v) for t, v in parts.items()}

    def predict(self, inputs: Any) -> list[dict[str, Any]]:
        """Decoded predictions, one dict per example: ``{task: {...}, [sequence: {...}]}``."""
        return decode(self.meta, self.run(inputs))

    def __repr__(self) -> str:
        return (f"Predictor('{self.path}', provider={self.provider}, precision="
                f"{self.meta.precision}, tasks={self.tasks})")

