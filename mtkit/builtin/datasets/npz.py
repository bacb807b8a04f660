"""Built-in dataset: numpy ``.npz`` files holding input arrays and one label array per task."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from mtkit.builtin.datasets._labels import label_keys
from mtkit.data import Arrays, Splits
from mtkit.errors import DataError
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Dataset, TaskInfo


class NpzParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(description="The .npz file (train, or everything).")
    val_path: str | None = Field(None, description="Optional separate validation file.")
    test_path: str | None = Field(None, description="Optional separate test file.")
    inputs: list[str] | None = Field(
        None, description="Arrays used as model inputs; default: every non-label array."
    )
    labels: dict[str, str] | None = Field(
        None, description="Task → array name; default: the array named like the task."
    )


def read_npz(path: str, inputs: list[str] | None, keys: dict[str, str]) -> Arrays:
    p = Path(path)
    if p.is_dir():
        raise DataError(f"npz file '{p}' is a folder; data.path must name the .npz file itself.")
    if not p.is_file():
        raise DataError(f"npz file '{p}' does not exist; check data.path.")
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise DataError(f"npz file '{p}' cannot be read ({exc}); is it truncated or not "
                        "an .npz written by numpy.savez?") from None
    missing = [f"{a} (task {t})" for t, a in keys.items() if a not in arrays]
    if missing:
        raise DataError(f"npz file '{p}' has no label array {', '.join(missing)}; it holds "
                        f"{', '.join(sorted(arrays)) or 'nothing'}. Set data.labels to map "
                        "tasks to arrays.")
    names = inputs if inputs is not None else [k for k in arrays if k not in keys.values()]
    absent = [n for n in names if n not in arrays]
    if absent or not names:
        raise DataError(f"npz file '{p}' has no input array {', '.join(absent) or '(none left)'}"
                        f"; it holds {', '.join(sorted(arrays))}. Set data.inputs.")
    for n in names:
        if arrays[n].dtype.kind not in "fiub":
            raise DataError(f"npz file '{p}': input '{n}' has dtype {arrays[n].dtype}; inputs "
                            "must be numeric.")
    return Arrays(
        inputs={n: arrays[n] for n in names},
        labels={t: arrays[a] for t, a in keys.items()},
    )


class Npz(Dataset):
    """Arrays from .npz files: inputs plus one label array per task (NaN / -1 = missing)."""

    name = "npz"
    Params = NpzParams
    example: ClassVar[dict[str, Any]] = {"path": "data/train.npz"}

    def load(self, tasks: list[TaskInfo], seed: int) -> Splits:
        p = self.params
        keys = label_keys(tasks, p.labels)
        return Splits(
            train=read_npz(p.path, p.inputs, keys),
            val=read_npz(p.val_path, p.inputs, keys) if p.val_path else None,
            test=read_npz(p.test_path, p.inputs, keys) if p.test_path else None,
        )


@hookimpl
def register_datasets(register):
    register(Npz)
