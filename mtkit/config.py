"""The config schema (pydantic), YAML loading, ``--set`` overrides and error locations.

The schema covers mtkit's own fields; keys it does not know inside ``data``, ``trunk``,
``tasks.<name>`` and ``weighting`` are that plugin's parameters and are validated by the
plugin's own ``Params`` model (see ``mtkit.planning``). Every error names the file and the
dotted field path.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mtkit.errors import ConfigError
from mtkit.tabular.schema import FeatureSpec


def _did_you_mean(name: str, known: Any) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``known``, or nothing."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _unknown(what: str, name: str, known: tuple[str, ...]) -> str:
    """The message for a name that is not one of ``known``, with the closest one."""
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown {what} '{name}'; {hint}known: {', '.join(known)}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _WithParams(BaseModel):
    """A section whose unknown keys are the plugin's parameters."""

    model_config = ConfigDict(extra="allow")

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class SourceConfig(_WithParams):
    """One source of a task mixture: a dataset plugin, its params, the tasks it labels."""

    dataset: str = Field(description="Dataset plugin name of this source.")
    tasks: list[str] = Field(description="Tasks this source labels; every other task is "
                             "missing (masked) for its rows.")


SAMPLING_MODES = ("proportional", "temperature", "equal", "weights")


class SamplingConfig(_Strict):
    """How a task mixture draws training rows from its sources (docs/mixtures.md)."""

    mode: str = Field("proportional", description="proportional (by train size), temperature "
                      "(size^(1/T)), equal, or weights (explicit `weights`).")
    temperature: float = Field(2.0, gt=0.0, description="temperature: T of size^(1/T); 1 is "
                               "proportional, large T tends to equal.")
    weights: dict[str, float] | None = Field(
        None, description="weights: source → relative weight (0 or more, not all 0).")
    per: Literal["batch", "step"] = Field(
        "batch", description="batch: each row of a batch picks its source (mixed batches); "
        "step: each step picks one source for its whole batch.")
    steps_per_epoch: int | None = Field(
        None, ge=1, description="Steps in one epoch (default: total train rows of all sources "
        "/ batch size, rounded up); train.steps_per_epoch caps it.")

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, v: str) -> str:
        if v not in SAMPLING_MODES:
            raise ValueError(_unknown("sampling mode", v, SAMPLING_MODES))
        return v

    @model_validator(mode="after")
    def _weights(self) -> SamplingConfig:
        if self.mode == "weights" and not self.weights:
            raise ValueError("mode 'weights' needs `weights: {source: weight, ...}`")
        if self.weights is not None and self.mode != "weights":
            raise ValueError(f"weights apply to mode 'weights', not '{self.mode}'; set "
                             "mode: weights or remove weights")
        if self.weights:
            bad = {k: w for k, w in self.weights.items() if not math.isfinite(w) or w < 0}
            if bad:
                raise ValueError(f"source weights must be finite and 0 or more; got {bad}")
            if not any(self.weights.values()):
                raise ValueError("source weights are all 0, so no source would ever be drawn; "
                                 "give at least one a positive weight")
        return self


class DataConfig(_WithParams):
    dataset: str | None = Field(None, description="Dataset plugin name (e.g. npz, csv, "
                                "multidigit); or give `sources` for a task mixture.")
    sources: dict[str, SourceConfig] | None = Field(
        None, description="Task mixture: source name → {dataset, its params, tasks it labels} "
        "(instead of `dataset`; docs/mixtures.md).")
    sampling: SamplingConfig | None = Field(
        None, description="Task mixture: how training batches draw from the sources.")

    @model_validator(mode="after")
    def _one_form(self) -> DataConfig:
        if self.sources is None:
            if self.dataset is None:
                raise ValueError("give `dataset` (one dataset plugin) or `sources` (a task "
                                 "mixture of several)")
            if self.sampling is not None:
                raise ValueError("`sampling` applies to a task mixture (`sources`), and this "
                                 "config names one `dataset`; remove `sampling`")
            return self
        if self.dataset is not None or self.params:
            extra = ["dataset"] * (self.dataset is not None) + sorted(self.params)
            raise ValueError(f"with `sources`, every dataset parameter belongs to its source; "
                             f"move {', '.join(extra)} into data.sources.<name>")
        if len(self.sources) < 1:
            raise ValueError("`sources` is empty; name at least one source")
        for name, src in self.sources.items():
            if not src.tasks:
                raise ValueError(f"source '{name}' labels no task; list them in "
                                 f"data.sources.{name}.tasks")
        if self.sampling and self.sampling.weights:
            unknown = [k for k in self.sampling.weights if k not in self.sources]
            if unknown:
                hint = _did_you_mean(unknown[0], self.sources)
                raise ValueError(f"sampling.weights names source '{unknown[0]}'{hint}, which "
                                 f"is not in data.sources ({', '.join(self.sources)})")
        return self

    @property
    def dataset_name(self) -> str:
        """The dataset plugin (a mixture: its first source's, which decodes predictions)."""
        if self.sources:
            return next(iter(self.sources.values())).dataset
        return str(self.dataset)


class InputSpec(_Strict):
    shape: list[int] = Field(description="Per-example shape, without the batch dimension.")
    dtype: Literal["float32", "int32", "int64"] = Field("float32", description="Element type.")

    @field_validator("shape")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if not v or any(d <= 0 for d in v):
            raise ValueError("every dimension must be a positive integer")
        return v


OPTIMIZERS: dict[str, str] = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD",
                              "rmsprop": "RMSprop"}
"""Optimizer names a config may use → the ``keras.optimizers`` class each one builds."""


class TrunkConfig(_WithParams):
    type: str = Field(description="Trunk plugin name (e.g. mlp, conv).")
    trainable: bool = Field(
        True, description="false freezes the trunk: its weights stay as built or as loaded by "
        "--init-from, and its BatchNormalization layers run in inference mode.")
    freeze: list[str] | None = Field(
        None, description="Freeze only the trunk layers whose names match one of these glob "
        "patterns (e.g. [mlp_dense0, 'block1_*']); a frozen BatchNormalization runs in "
        "inference mode. A pattern matching no layer is an error that lists the names.")
    learning_rate: float | None = Field(
        None, gt=0.0, description="Learning rate of the trunk's weights (default: "
        "train.learning_rate); its own optimizer (of type trunk.optimizer, default train.optimizer).")
    optimizer: Literal[tuple(OPTIMIZERS)] | None = Field(  # type: ignore[valid-type]
        None, description="Optimizer of the trunk's weights (default: train.optimizer), with "
        "train's clipping, weight decay and schedule.")


class LossConfig(_WithParams):
    type: str = Field(description="Loss plugin name.")


class TaskConfig(_WithParams):
    head: str = Field(description="Head plugin name (classification, binary, ...).")
    loss: LossConfig | None = Field(None, description="Loss; default: the head's own.")
    weight: float = Field(1.0, ge=0.0, description="Fixed weight used by `sum`.")
    metrics: list[str] | None = Field(None, description="Metrics; default: the head's.")
    class_weight: (list[float] | list[list[float]] | dict[int, float] | Literal["balanced"]
                   | None) = Field(
        None, description="Per-class weights of the training loss. classification, binary: a "
        "list (one per class) or {class: weight} (others 1); multilabel: [[negative weight per "
        "label], [positive weight per label]]; or 'balanced' (n_labelled / (2 or classes × "
        "count of the class), from the train split; per label for multilabel).")
    learning_rate: float | None = Field(
        None, gt=0.0, description="Learning rate of this task's head weights (default: "
        "train.learning_rate).")
    optimizer: Literal[tuple(OPTIMIZERS)] | None = Field(  # type: ignore[valid-type]
        None, description="Optimizer of this task's head weights (default: train.optimizer), "
        "with train's clipping, weight decay and schedule.")

    @field_validator("class_weight")
    @classmethod
    def _class_weights(cls, v: Any) -> Any:
        values = v if isinstance(v, list) else list(v.values()) if isinstance(v, dict) else []
        if isinstance(v, list) and not v:
            raise ValueError("the list of class weights is empty; give one weight per class")
        if values and isinstance(values[0], list):  # multilabel: (2, labels)
            values = [w for row in values for w in row]
        if isinstance(v, dict) and any(k < 0 for k in v):
            raise ValueError("class indices must be 0 or more")
        if any(not math.isfinite(w) or w < 0 for w in values):
            raise ValueError("class weights must be finite and 0 or more")
        return v

    @field_validator("loss", mode="before")
    @classmethod
    def _loss_shorthand(cls, v: Any) -> Any:
        return {"type": v} if isinstance(v, str) else v


class WeightingConfig(_WithParams):
    type: str = Field("sum", description="Weighting plugin name.")


class EarlyStopping(_Strict):
    patience: int = Field(3, ge=1, description="Epochs without improvement before stopping.")
    min_delta: float = Field(0.0, ge=0.0, description="Smallest decrease of val_loss that counts.")
    restore_best: bool = Field(True, description="Keep the weights of the best epoch.")


SCHEDULES = ("constant", "cosine", "cosine_restarts", "linear", "exponential", "step",
             "plateau", "one_cycle")

_SCHEDULE_FIELDS = {
    "constant": set(),
    "cosine": {"decay_epochs", "alpha"},
    "cosine_restarts": {"decay_epochs", "alpha", "t_mul", "m_mul"},
    "linear": {"decay_epochs", "end_factor"},
    "exponential": {"decay_epochs", "decay_rate"},
    "step": {"boundaries", "decay_rate"},
    "plateau": {"decay_rate", "patience", "min_factor"},
    "one_cycle": {"pct_start", "div_factor", "final_div_factor"},
}


_NOT_OVER_TIME = {
    "plateau": "it lowers the rate when val_loss stalls, which is not a function of time",
    "step": "its boundaries are epochs",
    "cosine_restarts": "its periods are epochs",
}
"""Schedules that ``over: time`` refuses, and why."""


class ScheduleConfig(_Strict):
    """The learning rate over training, from ``train.learning_rate`` (the peak)."""

    type: str = Field("constant", description=f"One of {', '.join(SCHEDULES)}.")
    over: Literal["steps", "time"] = Field(
        "steps", description="What the schedule runs over: the run's steps (train.epochs), or "
        "time: progress = seconds used / train.time_budget (cosine, linear, exponential, "
        "one_cycle, constant; warmup in steps).")
    warmup_steps: int = Field(0, ge=0, description="Linear warmup from 0 over this many steps.")
    warmup_epochs: float = Field(0.0, ge=0.0, description="Warmup in epochs (instead of steps).")
    decay_epochs: float | None = Field(
        None, gt=0.0, description="cosine/linear/exponential: epochs of one decay period "
        "(cosine_restarts: the first period); default: the whole run after warmup.")
    alpha: float = Field(0.0, ge=0.0, le=1.0, description="cosine: final rate as a fraction.")
    t_mul: float = Field(2.0, gt=0.0, description="cosine_restarts: period growth per restart.")
    m_mul: float = Field(1.0, gt=0.0, description="cosine_restarts: peak factor per restart.")
    end_factor: float = Field(0.0, ge=0.0, description="linear: final rate as a fraction.")
    decay_rate: float = Field(
        0.1, gt=0.0, description="exponential: factor per decay period; step: factor at each "
        "boundary; plateau: factor when val_loss stalls.")
    boundaries: list[float] = Field(default_factory=list,
                                    description="step: epochs at which the rate is multiplied.")
    patience: int = Field(2, ge=1, description="plateau: epochs without improvement.")
    min_factor: float = Field(0.0, ge=0.0, description="plateau: lowest rate as a fraction.")
    pct_start: float = Field(0.3, gt=0.0, lt=1.0, description="one_cycle: share of rising steps.")
    div_factor: float = Field(25.0, gt=1.0, description="one_cycle: start rate = peak / this.")
    final_div_factor: float = Field(1e4, gt=1.0,
                                    description="one_cycle: final rate = start / this.")

    @field_validator("type")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in SCHEDULES:
            raise ValueError(_unknown("schedule", v, SCHEDULES))
        return v

    @model_validator(mode="after")
    def _fields_fit_type(self) -> ScheduleConfig:
        # A field counts as given only when it differs from its default: a run's saved
        # config.yaml lists every field, and must load again (resume, export, evaluate).
        given = {f for f in self.model_fields_set - {"type", "over", "warmup_steps",
                                                     "warmup_epochs"}
                 if getattr(self, f) != type(self).model_fields[f].get_default(
                     call_default_factory=True)}
        extra = sorted(given - _SCHEDULE_FIELDS[self.type])
        if extra:
            raise ValueError(f"{', '.join(extra)} does not apply to schedule '{self.type}' "
                             f"(it takes: {', '.join(sorted(_SCHEDULE_FIELDS[self.type])) or 'nothing'})")
        if self.warmup_steps and self.warmup_epochs:
            raise ValueError("give warmup_steps or warmup_epochs, not both")
        if self.boundaries != sorted(self.boundaries) or any(b <= 0 for b in self.boundaries):
            raise ValueError("step boundaries must be positive epochs in increasing order")
        if self.over == "time":
            if self.type in _NOT_OVER_TIME:
                raise ValueError(f"schedule '{self.type}' cannot run over time: "
                                 f"{_NOT_OVER_TIME[self.type]}; use over: steps, or one of "
                                 f"{', '.join(s for s in SCHEDULES if s not in _NOT_OVER_TIME)}")
            if self.warmup_epochs or self.decay_epochs is not None:
                field = "warmup_epochs" if self.warmup_epochs else "decay_epochs"
                raise ValueError(f"{field} counts epochs, and a schedule over time spans "
                                 "train.time_budget; drop it (warmup_steps still counts steps), "
                                 "or use over: steps")
        return self


TASK_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RESERVED_TASK_NAMES = {
    "source": "every row of `mtkit predict` output names its input in the field 'source'",
    "sequence": "a multi-digit model's predictions carry the read number in the field 'sequence'",
}
"""Names that output formats use for their own fields beside the tasks' predictions."""


class TrainConfig(_Strict):
    epochs: int = Field(10, ge=1, description="Passes over the training split.")
    batch_size: int = Field(64, ge=1, description="Global batch size (all replicas).")
    optimizer: Literal[tuple(OPTIMIZERS)] = Field(  # type: ignore[valid-type]
        "adam", description="Keras optimizer.")
    learning_rate: float = Field(
        1e-3, gt=0.0, description="Optimizer learning rate (never rescaled); the schedule's peak.")
    schedule: ScheduleConfig | None = Field(
        None, description="Learning-rate schedule (keras.optimizers.schedules); default constant.")
    clip_norm: float | None = Field(None, gt=0.0, description="Clip the global gradient norm.")
    clip_value: float | None = Field(None, gt=0.0, description="Clip each gradient element.")
    weight_decay: float | None = Field(
        None, ge=0.0, description="Decoupled weight decay (every optimizer: Keras applies it).")
    ema: float | None = Field(
        None, gt=0.0, lt=1.0, description="Keep an exponential moving average of the weights "
        "with this momentum (e.g. 0.999); the final model, its metrics and exports use it.")
    time_budget: float | None = Field(
        None, gt=0.0, description="Seconds of training (wall clock, evaluation included): "
        "training stops at the first step that starts once they are spent, even mid-epoch.")
    diagnostics_rows: int = Field(
        0, ge=0, description="After each epoch, record per-task gradient norms and pairwise "
        "cosines on the trunk (and loss-mode task weights; a gated trunk's mean gate weight "
        "per expert) on this many fixed train rows; 0: off.")
    seed: int = Field(0, ge=0, le=2**32 - 1,
                      description="Seeds data splits, shuffling, initialisation, dropout.")
    early_stopping: EarlyStopping | None = Field(None, description="Stop when val_loss stalls.")
    validation_fraction: float = Field(
        0.1, ge=0.0, lt=1.0, description="Share of train carved out for validation if the dataset has none.")
    test_fraction: float = Field(
        0.1, ge=0.0, lt=1.0, description="Share of train carved out for test if the dataset has none.")
    jit_compile: bool = Field(False, description="Compile the train step with XLA.")
    mixed_precision: bool = Field(
        False, description="float16 compute with float32 variables and outputs (GPU only).")
    tensorboard: bool = Field(False, description="Write TensorBoard logs to RUN/tensorboard.")
    steps_per_epoch: int | None = Field(None, ge=1, description="Cap on steps per epoch.")
    train_metrics_rows: int = Field(2048, ge=0, description="Rows used for train metrics.")
    deterministic: bool = Field(True, description="Deterministic TF ops (seeded runs repeat).")
    strategy: Literal["auto", "none", "mirrored", "multi-worker"] = Field(
        "none", description="tf.distribute strategy; multi-worker reads TF_CONFIG.")
    devices: list[str] | None = Field(
        None, description="Devices for `mirrored` (default: all GPUs, else all CPUs).")
    worker_timeout: float = Field(
        300.0, gt=0.0, description="Seconds a collective may wait for a peer before failing.")
    checkpoint: bool = Field(True, description="Checkpoint every epoch (needed by --resume).")

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule_shorthand(cls, v: Any) -> Any:
        return {"type": v} if isinstance(v, str) else v

    @model_validator(mode="after")
    def _ema_and_best(self) -> TrainConfig:
        if self.schedule is not None and self.schedule.over == "time" and self.time_budget is None:
            raise ValueError("schedule.over: time runs the schedule over train.time_budget, "
                             "and none is set; set train.time_budget (seconds), or use "
                             "schedule.over: steps")
        if self.ema is not None and self.early_stopping and self.early_stopping.restore_best:
            raise ValueError("ema and early_stopping.restore_best both choose the final weights; "
                             "set early_stopping.restore_best: false to keep the averaged ones, "
                             "or drop ema")
        return self


class Config(_Strict):
    data: DataConfig = Field(description="Where the data comes from: a dataset plugin and its params.")
    inputs: dict[str, InputSpec] | None = Field(
        None, description="Optional declared inputs, checked against the data (default: from the data).")
    features: dict[str, FeatureSpec] | None = Field(
        None, description="Table datasets: column → type (numeric, categorical, binary, "
        "passthrough, auto); default: every non-label column, types inferred (docs/tabular.md).")
    trunk: TrunkConfig = Field(description="The shared layers: a trunk plugin and its params.")
    tasks: dict[str, TaskConfig] = Field(
        min_length=1, description="Task name → head, loss, weight, metrics and head params.")
    weighting: WeightingConfig = Field(
        default_factory=WeightingConfig, description="How task losses become one objective.")
    train: TrainConfig = Field(default_factory=TrainConfig, description="Optimisation settings.")

    @field_validator("weighting", mode="before")
    @classmethod
    def _weighting_shorthand(cls, v: Any) -> Any:
        return {"type": v} if isinstance(v, str) else v

    @model_validator(mode="after")
    def _mixture_tasks(self) -> Config:
        """Every source labels configured tasks, and every task is labelled by a source."""
        if not self.data.sources:
            return self
        labelled: set[str] = set()
        for name, src in self.data.sources.items():
            for t in src.tasks:
                if t not in self.tasks:
                    hint = _did_you_mean(t, self.tasks)
                    raise ValueError(f"data.sources.{name}.tasks names task '{t}'{hint}, which "
                                     f"is not in tasks ({', '.join(self.tasks)})")
            labelled |= set(src.tasks)
        orphan = [t for t in self.tasks if t not in labelled]
        if orphan:
            raise ValueError(f"task(s) {', '.join(orphan)} are labelled by no source, so their "
                             "heads could never learn; add them to a source's `tasks` or remove "
                             "them")
        sampling = self.data.sampling
        if sampling is not None and sampling.mode == "weights" and sampling.weights:
            drawn = {t for name, src in self.data.sources.items()
                     if sampling.weights.get(name, 0.0) > 0 for t in src.tasks}
            starved = [t for t in self.tasks if t not in drawn]
            if starved:
                raise ValueError(f"task(s) {', '.join(starved)} are labelled only by sources of "
                                 "weight 0 (or not in data.sampling.weights), so training never "
                                 "draws a row that labels them; give such a source a positive "
                                 "weight")
        return self

    @field_validator("tasks", mode="before")
    @classmethod
    def _misspelt_task(cls, v: Any) -> Any:
        """A headless section named like a task (``knd: {learning_rate: 0.1}`` beside
        ``kind``) is a typo, not a new task: say so before 'head is missing'."""
        if not isinstance(v, dict):
            return v
        named = [str(k) for k, t in v.items() if isinstance(t, dict) and "head" in t]
        for name, task in v.items():
            if isinstance(task, dict) and "head" not in task:
                hint = _did_you_mean(str(name), named)
                if hint:
                    keys = ", ".join(map(str, task)) or "nothing"
                    raise ValueError(
                        f"task '{name}' has no head{hint}; it sets {keys}. To set them for that "
                        f"task, put them under its own name; a new task needs a head (head: ...)")
        return v

    @field_validator("tasks")
    @classmethod
    def _task_names(cls, v: dict[str, TaskConfig]) -> dict[str, TaskConfig]:
        for name in v:
            if not TASK_NAME.fullmatch(name):
                raise ValueError(
                    f"task name '{name}' must be an identifier (ASCII letters, digits, _, not "
                    "starting with a digit), since it names the model output in TensorFlow, "
                    "ONNX and every output format"
                )
            if name in RESERVED_TASK_NAMES:
                raise ValueError(
                    f"task name '{name}' is reserved: {RESERVED_TASK_NAMES[name]}, so a task of "
                    "that name would be overwritten there; rename the task"
                )
        return v


def format_validation_error(exc: ValidationError, source: str, prefix: str = "") -> str:
    """One paragraph: ``source: field 'a.b': message (got x); field ...``."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in (prefix.split(".") if prefix else []) + list(err["loc"]))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (remove it, or check its spelling)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "value_error":  # our own validators' sentences, without pydantic's tag
            msg = msg.removeprefix("Value error, ")
        got = err.get("input")
        tail = f" (got {got!r})" if err["type"] not in ("missing", "extra_forbidden") and (
            isinstance(got, str | int | float | bool) or got is None) else ""
        parts.append(f"field '{loc}': {msg}{tail}")
    return f"{source}: invalid config — " + "; ".join(parts) + "."


def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b=c`` → (['a', 'b'], yaml value of c)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set '{text}': expected KEY.PATH=VALUE, e.g. train.epochs=5.")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set '{text}': the value is not valid YAML ({exc}).") from exc
    return key.strip().split("."), value


def _short_form(path: list[str]) -> bool:
    """Sections a config may write as just a plugin name (``weighting: geometric``,
    ``tasks.<name>.loss: huber``): short for ``{type: name}``."""
    return path == ["weighting"] or (len(path) == 3 and path[0] == "tasks" and path[2] == "loss")


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """``--set a.b=v`` values laid over ``raw``; a short-form section (``weighting:
    geometric``) keeps its plugin name when one of its params is set."""
    out = copy.deepcopy(raw)
    for text in overrides:
        path, value = parse_override(text)
        tasks = out.get("tasks")
        if len(path) > 2 and path[0] == "tasks" and path[2] != "head" \
                and isinstance(tasks, dict) and path[1] not in tasks:  # a typo: a task, no head
            hint = _did_you_mean(path[1], [str(k) for k in tasks])
            raise ConfigError(f"--set {text}: the config has no task '{path[1]}'{hint}; tasks: "
                              f"{', '.join(map(str, tasks))}. To add a task, give its head too "
                              f"(--set tasks.{path[1]}.head=...).")
        node = out
        for i, part in enumerate(path[:-1]):
            if isinstance(node.get(part), str) and _short_form(path[:i + 1]):
                node[part] = {"type": node[part]}
            elif not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[path[-1]] = value
    return out


def _duplicate_key(node: Any, path: str = "", seen_nodes: set[int] | None = None
                   ) -> tuple[str, int, int] | None:
    """(dotted path, first line, second line) of the first key a mapping repeats, or None.

    ``yaml.safe_load`` keeps the last of two equal keys without a word, so a config that
    sets ``train:`` twice would silently lose half of its settings.
    """
    seen_nodes = set() if seen_nodes is None else seen_nodes
    if id(node) in seen_nodes:  # an alias (possibly recursive): checked where it was defined
        return None
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            where = f"{path}.{name}" if path else str(name)
            if name is not None and name in seen:
                return where, seen[name], key.start_mark.line + 1
            if name is not None:
                seen[name] = key.start_mark.line + 1
            found = _duplicate_key(value, where, seen_nodes)
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found = _duplicate_key(item, f"{path}.{i}", seen_nodes)
            if found:
                return found
    return None


def read_yaml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"config file '{p}' is a folder; give the YAML file itself.")
    if not p.is_file():
        raise ConfigError(f"config file '{p}' does not exist; check the path.")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file '{p}' is not UTF-8 text ({exc.reason}).") from exc
    try:
        raw = yaml.safe_load(text)
        twice = _duplicate_key(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"config file '{p}' is not valid YAML{where}: {problem}.") from exc
    if twice:
        raise ConfigError(f"config file '{p}': field '{twice[0]}' is given twice (lines {twice[1]} "
                          f"and {twice[2]}); YAML would silently keep only the last one. Merge "
                          "the two into one entry.")
    if raw is None:
        raise ConfigError(f"config file '{p}' is empty; see configs/ for complete examples.")
    if not isinstance(raw, dict):
        raise ConfigError(
            f"config file '{p}' must be a YAML mapping with keys data, trunk, tasks, ...; "
            f"it holds a {type(raw).__name__}."
        )
    return raw


def validate(raw: dict[str, Any], source: str) -> Config:
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from None


def load_config(
    source: str | Path | dict[str, Any], overrides: list[str] | None = None
) -> Config:
    """Load and validate a config from a YAML path or a dict, with ``--set`` overrides."""
    if isinstance(source, dict):
        raw, name = source, "<config>"
    else:
        raw, name = read_yaml(source), str(source)
    return validate(apply_overrides(raw, overrides or []), name)


def dump_config(config: Config) -> str:
    """The resolved config as YAML (plugin params included)."""
    return yaml.safe_dump(config.model_dump(mode="json", exclude_none=True), sort_keys=False)
