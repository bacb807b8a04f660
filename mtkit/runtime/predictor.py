"""``Predictor``: an exported model in onnxruntime, without TensorFlow.

It reads the mtkit metadata stored in the ONNX file, so inputs are checked by name,
shape and dtype, outputs are matched to tasks by name, and predictions come back decoded
(class, label and probability; values; numbers read by a multi-digit model).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from mtkit.errors import MtkitError
from mtkit.runtime.decode import decode
from mtkit.runtime.inputs import check_inputs
from mtkit.runtime.metadata import ModelMeta, parse
from mtkit.runtime.session import SessionConfig, open_session, run_batched


class Predictor:
    """Run an mtkit ONNX model. ``provider``: ``auto`` (GPU if it really works), ``cpu``,
    ``cuda`` or ``tensorrt``; ``batch_size``: rows per onnxruntime call; ``threads``:
    intra-op threads (None: the physical cores this process may use); ``session``: a
    ``SessionConfig`` with the other onnxruntime knobs (spinning, optimisation level, a
    saved pre-optimised model). The defaults are the fastest measured on shared CPUs."""

    def __init__(self, path: str | Path, provider: str = "auto", batch_size: int = 256,
                 threads: int | None = None, session: SessionConfig | None = None) -> None:
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
        config = session or SessionConfig()
        if threads:  # 0 or None: the default (the cores available)
            config = replace(config, threads=threads)
        self.config = config
        self.session = open_session(self.path, provider, config)
        self.meta: ModelMeta = parse(self.session.get_modelmeta().custom_metadata_map,
                                     str(self.path))
        graph_inputs = {i.name for i in self.session.get_inputs()}
        absent = [n for n in self.meta.inputs if n not in graph_inputs]
        if absent:
            raise MtkitError(f"ONNX model '{self.path}': its metadata names input(s) "
                             f"{', '.join(map(repr, absent))} that the graph lacks (graph inputs: "
                             f"{', '.join(sorted(graph_inputs))}); the metadata does not match the "
                             "graph. Re-export the model with `mtkit export RUN --onnx`.")
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

    def prepare(self, inputs: Any, source: str | None = None) -> dict[str, np.ndarray]:
        """User inputs → the checked arrays the model takes (``DataError`` naming the input
        otherwise). The one place inputs are parsed: ``run`` starts here, and ``mtkit serve``
        checks each request with it before batching, so both accept the same forms. A table
        model takes raw rows (a DataFrame, a dict of columns, a list of row dicts)."""
        if self.meta.tabular is not None:
            from mtkit.tabular.rows import model_inputs

            return model_inputs(inputs, self.meta.tabular, source or str(self.path))
        return check_inputs(inputs, self.meta.inputs, source or str(self.path))

    def run(self, inputs: Any) -> dict[str, np.ndarray]:
        """Raw outputs ``{task: array (N, ...)}``; large inputs go through in batches.

        A table model takes raw rows: a DataFrame, a dict of columns or a list of row dicts.
        """
        arrays = self.prepare(inputs)
        n = len(next(iter(arrays.values())))
        names = list(self.meta.tasks)
        if n == 0:
            shapes = {o.name: o.shape[1:] for o in self.session.get_outputs()}
            return {t: np.zeros((0, *[d if isinstance(d, int) else 1 for d in shapes[t]]),
                                np.float32) for t in names}
        return run_batched(self.session, arrays, self.batch_size, names)

    def predict(self, inputs: Any) -> list[dict[str, Any]]:
        """Decoded predictions, one dict per example: ``{task: {...}, [sequence: {...}]}``."""
        return decode(self.meta, self.run(inputs))

    def __repr__(self) -> str:
        return (f"Predictor('{self.path}', provider={self.provider}, precision="
                f"{self.meta.precision}, tasks={self.tasks})")

