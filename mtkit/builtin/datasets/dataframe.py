"""Built-in dataset: a pandas DataFrame handed to ``mtkit.train(config, data=frame)``."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mtkit.errors import ConfigError
from mtkit.hookspecs import hookimpl
from mtkit.tabular.dataset import TableDataset, TableOptions
from mtkit.tabular.readers import RawTable, from_frame, read_table

SAVED = "data.parquet"
"""The frame a run was trained on, saved in the run directory (export re-reads it)."""


class DataFrameParams(TableOptions):
    path: str | None = Field(None, description="Set by mtkit: the run's copy of the frame "
                             f"(RUN/{SAVED}), so `mtkit export` can check parity.")


class DataFrameDataset(TableDataset):
    """A pandas DataFrame passed to mtkit.train(config, data=df): one column per feature or task."""

    name = "dataframe"
    Params = DataFrameParams
    frame: Any = None

    def tables(self) -> tuple[RawTable, RawTable | None, RawTable | None]:
        if self.frame is not None:
            return from_frame(self.frame, "DataFrame"), None, None
        if self.params.path:
            return read_table(self.params.path, fmt="parquet"), None, None
        raise ConfigError("dataset 'dataframe' has no data: pass the frame to "
                          "mtkit.train(config, data=frame) (or use dataset: csv / parquet with a "
                          "path).")


def attach(plan: Any, frame: Any, out: str) -> None:
    """Give ``plan``'s dataframe dataset its frame; the run will keep a copy (RUN/data.parquet)."""
    from pathlib import Path

    if not isinstance(plan.dataset, DataFrameDataset):
        raise ConfigError(f"{plan.source}: mtkit.train(..., data=frame) needs `data: {{dataset: "
                          f"dataframe}}` in the config, not dataset '{plan.config.data.dataset_name}'.")
    if not (hasattr(frame, "columns") and hasattr(frame, "iloc")):
        raise ConfigError(f"mtkit.train(..., data=...): expected a pandas DataFrame, got "
                          f"{type(frame).__name__}.")
    plan.dataset.frame = frame
    saved = str((Path(out) / SAVED).resolve())
    plan.dataset.params.path = saved
    plan.config.data.path = saved  # the run's config.yaml then points at the saved copy


@hookimpl
def register_datasets(register):
    register(DataFrameDataset)
