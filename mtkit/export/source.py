"""Open a run directory for export: its run.json, its config and its Keras model.

Each missing or broken piece is reported by file name with what would fix it, before
anything is converted or written.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mtkit import rundir
from mtkit.errors import MtkitError
from mtkit.run_info import RunInfo


@dataclass
class RunSource:
    """A run directory's parts needed for export (the model is loaded on demand)."""

    run: Path
    info: dict[str, Any]

    @property
    def model_path(self) -> Path:
        return self.run / rundir.MODEL

    @property
    def config_path(self) -> Path:
        return self.run / rundir.CONFIG

    @property
    def tasks(self) -> list[str]:
        return list(self.info["tasks"])


def open_run(run: str | Path) -> RunSource:
    """Check that ``run`` is a finished mtkit run directory; read its run.json."""
    run = Path(run)
    if not run.is_dir():
        raise MtkitError(f"run directory '{run}' does not exist; train one with "
                         f"`mtkit train --out {run}`.")
    info_path = run / rundir.INFO
    if not info_path.is_file():
        raise MtkitError(f"'{run}' is not an mtkit run directory (it has no {rundir.INFO}); "
                         "pass the --out directory of `mtkit train`.")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MtkitError(f"'{info_path}' is not valid JSON ({exc}); the run directory is "
                         "damaged: retrain with `mtkit train --out RUN --overwrite`.") from None
    try:
        RunInfo.from_json(info)
    except ValueError as exc:
        raise MtkitError(f"'{info_path}' cannot be used: {exc}; it was not written by this "
                         "mtkit version, or it was edited. Retrain the run.") from None
    if not (run / rundir.MODEL).is_file():
        raise MtkitError(f"run directory '{run}' has no model ({rundir.MODEL} is missing): "
                         "training did not finish an epoch. Finish it with `mtkit train --out "
                         f"{run} --resume`, or train again.")
    return RunSource(run=run, info=info)


def load_keras(path: Path) -> Any:
    """Load a ``.keras`` file in safe mode (no arbitrary code), with a clear error if broken."""
    if not zipfile.is_zipfile(path):  # checked first: no need to start TensorFlow to say so
        raise MtkitError(f"'{path}' is not a Keras model archive (a .keras file is a zip); it is "
                         "corrupt or truncated. Retrain the run, or restore the file.")
    from mtkit.tf_import import import_tensorflow

    import_tensorflow()
    import keras

    from mtkit.registry import import_keras_modules

    import_keras_modules()  # plugins' registered custom layers, which the file may name
    import mtkit.tabular.layers  # noqa: F401  (registers the preprocessing layers)

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # keras raises ValueError, TypeError, KeyError, OSError, ...
        chain, cause = [], exc  # keras wraps the root cause in "could not be deserialized"
        while cause is not None and len(chain) < 10:
            chain.append(cause)
            cause = cause.__cause__ or cause.__context__
        if any("safe_mode" in str(c) for c in chain):
            raise MtkitError(f"'{path}' holds Python code (e.g. a Lambda layer) that would run "
                             "while loading it; mtkit loads models in Keras safe mode and refuses "
                             "such files. Models trained by mtkit never contain code: retrain the "
                             "run, and write layers as trunk or head plugins, not Lambda.") from None
        root = chain[-1]
        first = (str(root).strip().splitlines() or [type(root).__name__])[0][:300]
        raise MtkitError(f"'{path}' cannot be loaded as a Keras model ({type(root).__name__}: "
                         f"{first}). The file may be corrupt, or a plugin that defines one of its "
                         "layers is not installed (`mtkit plugins` lists them).") from None
