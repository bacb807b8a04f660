"""``run.json``: what a run's model takes and gives, typed, written by training and read
by export (and, through the ONNX metadata built from it, by the runtime).

TensorFlow-free. The JSON layout is unchanged from earlier versions; ``from_json`` checks
the sections export relies on, so a damaged file is named instead of failing later.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class InputInfo:
    shape: list[int]
    dtype: str


@dataclass
class TaskRecord:
    head: str
    output_type: str
    loss: str
    metrics: list[str]
    decode: dict[str, Any]


@dataclass
class RunInfo:
    inputs: dict[str, InputInfo]
    tasks: dict[str, TaskRecord]
    dataset: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    distribution: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)  # per-task/group options in force
    tabular: dict[str, Any] | None = None  # table runs: the fitted schema (mtkit.tabular)

    @classmethod
    def describe(cls, plan: Any, specs: Any, splits: Any) -> RunInfo:
        """The run info of ``plan`` trained on ``splits`` with input specs ``specs``."""
        return cls(
            inputs={k: InputInfo(shape=list(v), dtype=specs.dtypes[k])
                    for k, v in specs.shapes.items()},
            tasks={name: TaskRecord(head=t.info.head, output_type=t.head.output_type,
                                    loss=type(t.loss).name, metrics=list(t.metrics),
                                    decode=t.head.decode_spec())
                   for name, t in plan.tasks.items()},
            dataset={"name": plan.config.data.dataset_name, "decode": plan.dataset.decode_spec()},
            sizes={s: len(a) for s, a in (("train", splits.train), ("val", splits.val),
                                          ("test", splits.test)) if a is not None},
        )

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        if out["tabular"] is None:  # only table runs carry the key
            del out["tabular"]
        return out

    @classmethod
    def from_json(cls, raw: Any) -> RunInfo:
        """Parse run.json content; ValueError naming the first section that is wrong."""
        if not isinstance(raw, dict):
            raise ValueError("the file does not hold a JSON object")
        for key in ("inputs", "tasks"):
            if not isinstance(raw.get(key), dict) or not raw[key]:
                raise ValueError(f"it has no '{key}' section")
        try:
            inputs = {k: InputInfo(shape=[int(d) for d in v["shape"]], dtype=str(v["dtype"]))
                      for k, v in raw["inputs"].items()}
            tasks = {k: TaskRecord(head=str(v.get("head", "")), output_type=str(v["output_type"]),
                                   loss=str(v.get("loss", "")), metrics=list(v.get("metrics", [])),
                                   decode=dict(v.get("decode") or {}))
                     for k, v in raw["tasks"].items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"an input or task entry is malformed ({type(exc).__name__}: "
                             f"{exc})") from None
        return cls(inputs=inputs, tasks=tasks, dataset=dict(raw.get("dataset") or {}),
                   sizes=dict(raw.get("sizes") or {}),
                   distribution=dict(raw.get("distribution") or {}),
                   training=dict(raw.get("training") or {}),
                   tabular=raw.get("tabular") if isinstance(raw.get("tabular"), dict) else None)
