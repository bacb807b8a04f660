"""The feature schema: what each table column is, and what was learned about it on train.

``FeatureSpec`` is what a user writes under ``features:``; ``FittedFeature`` adds the
statistics (mean/std for numbers, the vocabulary for categories) and is what the run
stores and the model is built from. Numpy/pydantic only, so the runtime can read it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FeatureType = Literal["auto", "numeric", "categorical", "binary", "passthrough"]
STRING_TYPES = ("categorical", "binary")
DEFAULT_MAX_CATEGORIES = 1000
ONE_HOT_MAX = 16
"""A categorical column with at most this many values (plus the missing and unseen
buckets) is one-hot encoded; a larger one gets an embedding (``encoding: auto``)."""


def embedding_size(values: int) -> int:
    """The default embedding width for ``values`` categories: ``min(32, round(1.6·n^0.56))``
    (the rule of thumb fast.ai uses), at least 2."""
    return max(2, min(32, round(1.6 * values ** 0.56)))


class FeatureSpec(BaseModel):
    """One column under ``features:``: its type and how it is encoded."""

    model_config = ConfigDict(extra="forbid")
    type: FeatureType = Field("auto", description="numeric, categorical, binary, passthrough "
                              "or auto (inferred from the data).")
    missing_indicator: bool = Field(False, description="numeric: add a 0/1 input that says the "
                                    "cell was missing (it is imputed with the train mean).")
    max_categories: int = Field(DEFAULT_MAX_CATEGORIES, ge=2, description="categorical: refuse "
                                "a column with more distinct values than this.")
    top: int | None = Field(None, ge=1, description="categorical: keep only the N most frequent "
                            "values; the rest share the unseen bucket.")
    encoding: Literal["auto", "one_hot", "embedding"] = Field(
        "auto", description=f"categorical: auto = one-hot up to {ONE_HOT_MAX} values, else an "
        "embedding.")
    embedding_dim: int | None = Field(None, ge=1, description="categorical: embedding width "
                                      "(default min(32, round(1.6·n^0.56))).")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"type": v} if isinstance(v, str) else v


@dataclass
class FittedFeature:
    """A column as the model sees it: type, encoding and train statistics."""

    name: str
    type: str
    mean: float = 0.0
    std: float = 1.0
    missing_indicator: bool = False
    vocabulary: list[str] = field(default_factory=list)
    encoding: str = "one_hot"
    embedding_dim: int = 0
    missing_rows: int = 0

    @property
    def is_string(self) -> bool:
        return self.type in STRING_TYPES

    @property
    def ids(self) -> int:
        """Number of category ids: 0 = unseen, 1 = missing, 2.. = the vocabulary."""
        return len(self.vocabulary) + 2

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("name")
        if not self.is_string:
            for k in ("vocabulary", "encoding", "embedding_dim"):
                out.pop(k)
        else:
            for k in ("mean", "std", "missing_indicator"):
                out.pop(k)
        return out


@dataclass
class FittedTarget:
    """A task's label column: class names (classification/binary) or standardisation."""

    task: str
    column: str
    kind: str  # "classes", "regression" or "values"
    labels: list[str] | None = None
    learned: bool = False
    mean: list[float] | None = None
    std: list[float] | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and k != "task"}


@dataclass
class FittedSchema:
    """Every feature column (in model-input order) and every target, as stored in the run."""

    features: dict[str, FittedFeature]
    targets: dict[str, FittedTarget]
    inferred: bool = False
    frame: Any = None  # a DataFrame trained on (saved in the run), not part of the schema

    def dtype(self, name: str) -> str:
        """The raw input dtype: ``string`` for categories, ``float32`` for numbers."""
        return "string" if self.features[name].is_string else "float32"

    def as_json(self) -> dict[str, Any]:
        return {"features": {k: f.as_json() for k, f in self.features.items()},
                "targets": {k: t.as_json() for k, t in self.targets.items()},
                "inferred": self.inferred}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FittedSchema:
        feats = {k: FittedFeature(name=k, **v) for k, v in data["features"].items()}
        targets = {k: FittedTarget(task=k, **v) for k, v in data.get("targets", {}).items()}
        return cls(features=feats, targets=targets, inferred=bool(data.get("inferred")))

    def as_config(self) -> dict[str, Any]:
        """The ``features:`` section that reproduces this schema (for the user to edit)."""
        out: dict[str, Any] = {}
        for k, f in self.features.items():
            entry: dict[str, Any] = {"type": f.type}
            if f.missing_indicator:
                entry["missing_indicator"] = True
            if f.is_string and f.encoding == "embedding":
                entry.update(encoding="embedding", embedding_dim=f.embedding_dim)
            out[k] = entry if len(entry) > 1 else f.type
        return out
