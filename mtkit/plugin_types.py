"""Base classes for the five plugin kinds.

These import no TensorFlow, so listing plugins (``mtkit plugins``) stays fast: a plugin
imports TensorFlow/Keras inside its methods, which only run when a model is built,
trained or fed. Each plugin class declares ``name`` (what configs refer to) and a
pydantic ``Params`` model that validates its own config keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    import numpy as np

    from mtkit.data import Splits


class NoParams(BaseModel):
    """Parameters of a plugin that takes none (unknown keys are rejected)."""

    model_config = ConfigDict(extra="forbid")


class Plugin:
    """Common shape: a ``name``, a ``Params`` schema, and the validated params."""

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    Params: ClassVar[type[BaseModel]] = NoParams
    keras_modules: ClassVar[tuple[str, ...]] = ()
    """Modules defining custom Keras objects (registered with
    ``keras.saving.register_keras_serializable``) that this plugin's layers use: mtkit
    imports them before it loads a saved model in Keras safe mode (export, evaluate)."""
    example: ClassVar[dict[str, Any]] = {}
    """Small valid parameters for a working example: the plugin's docs page shows them, and
    the live-registry tests build, train and export every plugin with them (give the
    required ones; the defaults fill the rest)."""

    def __init__(self, params: BaseModel | None = None) -> None:
        self.params = params if params is not None else self.Params()

    @classmethod
    def summary(cls) -> str:
        """First line of the class docstring, shown by ``mtkit plugins``."""
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


@dataclass(frozen=True)
class TaskInfo:
    """What plugins may know about one task: its name, head, head params and weight."""

    name: str
    head: str
    head_params: dict[str, Any] = field(default_factory=dict)
    weight: float = 1.0
    output_type: str = ""
    continuous: bool = False
    """The head's ``continuous``: a regression-like output (Gaussian-likelihood loss)."""


@dataclass(frozen=True)
class Gate:
    """One softmax gate of a gated trunk, as ``Trunk.gates`` declares it.

    ``layer`` names the layer inside the trunk whose output is the gate's weights,
    shape ``(batch, len(experts))``, rows summing to 1; ``experts`` names what each column
    weighs; ``task`` is the task whose features the gate mixes (None for a gate that feeds
    a shared path, e.g. PLE's shared gate). Several tasks may name the same layer (OMoE's
    one gate). Diagnostics average the weights over sampled rows: expert utilisation.
    """

    task: str | None
    layer: str
    experts: tuple[str, ...]


class Trunk(Plugin):
    """Shared layers. ``build`` maps the model's symbolic inputs to features.

    Return one feature tensor (hard parameter sharing), or a dict ``{task: tensor}``
    with one entry per task (gated architectures such as MMoE); set
    ``per_task_features = True`` in the latter case. mtkit checks the declaration against
    what ``build`` returns, and plugins read it without building (an expert of a
    mixture-of-experts trunk must return one shared tensor).

    A gated trunk also implements ``gates``, so diagnostics (``train.diagnostics_rows``,
    ``mtkit compare``) can report how much each task uses each expert.
    """

    kind = "trunk"
    per_task_features: ClassVar[bool] = False

    def build(self, inputs: dict[str, Any], tasks: list[TaskInfo]) -> Any:
        raise NotImplementedError

    def gates(self, tasks: list[TaskInfo]) -> list[Gate]:
        """The softmax gates ``build`` creates for these tasks (no TensorFlow needed);
        default none. mtkit reads each gate's layer from the built trunk by name and refuses
        a declared layer that is missing or whose output is not ``(batch, experts)``."""
        return []


class Head(Plugin):
    """Task-specific top layers producing the task's output; a head owns its output type.

    ``output_type`` names what the head outputs (``categorical``, ``binary``,
    ``multilabel``, ``regression``, or a plugin's own); everything mtkit does with the
    output asks the head, so a new output type is the head's file and nothing else:

    * loss compatibility: ``fits_loss`` (a loss's ``accepts`` or the head's ``extra_losses``);
    * metrics and their direction: ``metric_functions`` / ``metric_direction``;
    * the export parity check: ``decisions`` (argmax, thresholds) for the agreement column;
    * the TensorFlow-free runtime: ``decoder``, the dotted path (``"package.module:function"``)
      of a numpy-only function ``fn(spec, raw) -> [one dict per row]``, which
      ``decode_spec`` stores in exported models; the runtime imports that module (so it
      must not import TensorFlow, Keras or pydantic) from an installed plugin package;
    * generated data and likelihood-based weightings: ``synthetic_labels``, ``continuous``;
    * per-class loss weights (``class_weight``): ``class_count`` (one class index per row)
      or, for a multilabel output, ``label_shape`` (one 0/1 per label; the loss must
      implement ``Loss.per_element``).

    ``label_dtype`` is ``int32`` (missing label = -1) or ``float32`` (missing = NaN).
    """

    kind = "head"
    output_type: ClassVar[str] = ""
    default_loss: ClassVar[str] = ""
    default_metrics: ClassVar[tuple[str, ...]] = ()
    label_dtype: ClassVar[str] = "float32"
    extra_losses: ClassVar[tuple[str, ...]] = ()
    """Losses that fit this head although their ``accepts`` does not list its output type."""
    decoder: ClassVar[str] = ""
    """``"module:function"`` of this head's TensorFlow-free decoder; "" = raw passthrough."""
    continuous: ClassVar[bool] = False
    """True when the output is a continuous value whose loss is a Gaussian-style likelihood
    (regression); uncertainty weighting then uses Kendall et al.'s factor 1/2."""

    def build(self, features: Any, task_name: str) -> Any:
        """Return the output tensor; its last layer must be named ``task_name``."""
        raise NotImplementedError

    def label_shape(self) -> tuple[int, ...]:
        """Shape of one example's label (``()`` for a class index or a scalar)."""
        return ()

    def check_labels(self, labels: np.ndarray) -> str | None:
        """Return why the present labels are invalid for this head, or None."""
        return None

    def class_count(self) -> int | None:
        """Number of classes when a label is one class index per row (``class_weight`` can
        then weigh each class), else None (the default)."""
        return None

    def fits_loss(self, loss: Loss) -> bool:
        """Whether ``loss`` can train this head (a loss with no ``accepts`` fits every head)."""
        return not loss.accepts or self.output_type in loss.accepts or loss.name in self.extra_losses

    def metric_functions(self) -> dict[str, Any]:
        """``{metric name: fn(y_true, y_pred) -> float}`` over labelled rows (numpy)."""
        return {}

    def metric_direction(self, metric: str) -> int:
        """+1 if higher is better, -1 if lower is, 0 if unknown; from the function's
        ``mtkit.metrics.higher_is_better`` / ``lower_is_better`` mark, else its name."""
        from mtkit.metrics import direction

        return direction(metric, self.metric_functions().get(metric))

    def decisions(self, y: np.ndarray) -> np.ndarray | None:
        """Per-row decisions ``(N, ...)`` the parity check compares between TensorFlow and
        onnxruntime (share of identical rows = ``agreement``); None = not a decision head."""
        return None

    def synthetic_labels(self, latent: np.ndarray, rng: np.random.Generator,
                         noise: float) -> np.ndarray:
        """Labels for generated data (the ``synthetic`` dataset): a fixed random function of
        the shared latent factors ``latent`` (rows, 4). Default: continuous targets."""
        import numpy as np

        k = int(np.prod(self.label_shape())) if self.label_shape() else 1
        rows = len(latent)
        y = np.sin(latent @ rng.normal(size=(latent.shape[1], k))) + noise * rng.normal(size=(rows, k))
        return y[:, 0] if k == 1 and not self.label_shape() else y

    def decode_spec(self) -> dict[str, Any]:
        """How a runtime turns this head's raw output into a prediction (JSON-able).

        Overrides should extend ``super().decode_spec()``: it carries ``type`` and the
        head's ``decoder``. The runtime calls ``decoder(spec, raw)`` with this dict (plus
        ``labels`` when the task has them).
        """
        spec: dict[str, Any] = {"type": self.output_type}
        if self.decoder:
            spec["decoder"] = self.decoder
        return spec


class Loss(Plugin):
    """A per-example loss: ``per_example(y_true, y_pred)`` returns shape ``(batch,)``.

    Masking of missing labels is done by mtkit around it; ``y_true`` rows without a
    label are replaced by a harmless placeholder before the call, and their losses
    are discarded.
    """

    kind = "loss"
    accepts: ClassVar[frozenset[str]] = frozenset()

    def per_example(self, y_true: Any, y_pred: Any) -> Any:
        raise NotImplementedError

    def per_element(self, y_true: Any, y_pred: Any) -> Any:
        """Optional: the loss of each label of a row, shape ``(batch, labels)``, before the
        row's reduction (``per_example`` is then its mean over the labels).

        Needed only for a multilabel ``class_weight``, which weighs each label's negative
        and positive examples before that reduction; a loss without it (the default,
        ``None``) is refused there with a clear error.
        """
        return None


class WeightingMode(StrEnum):
    """The four weighting families; a step function exists for each (training/step.py).

    A string enum, so a plugin may still write ``mode = "loss"``.
    """

    LOSS = "loss"
    SHARED_GRADIENTS = "shared_gradients"
    FEATURE_GRADIENTS = "feature_gradients"
    FEATURE_SURGERY = "feature_surgery"


class Weighting(Plugin):
    """How per-task losses become one objective.

    ``mode`` picks the family (a class attribute; a plugin whose params pick the family,
    e.g. MGDA and MGDA-UB, sets ``self.mode`` in ``__init__``):

    * ``"loss"``: ``combine(losses, present)`` returns the scalar objective.
    * ``"shared_gradients"``: ``combine_gradients(grads, losses, present)`` gets, per
      task, the gradients of its loss w.r.t. the shared (trunk) variables and returns
      one gradient list for them; task-specific variables get their own task's gradient
      (unweighted, as in MGDA). ``grads`` are global: summed over all replicas.
    * ``"feature_gradients"``: ``task_weights(feature_grads, losses, present)`` gets,
      per task, the gradient of its loss w.r.t. the shared representation (cheap,
      MGDA-UB style; the rows of all replicas, gathered along the batch axis) and returns
      one scalar weight per task. The step multiplies the task losses by these weights as
      constants, so the whole model (heads included) follows the weighted sum.
    * ``"feature_surgery"``: ``feature_gradient(feature_grads, features, present)`` gets,
      per task, this replica's gradient w.r.t. the shared representation (one tensor the
      shape of ``features``) and returns the one gradient to back-propagate through the
      trunk (GradDrop); each head gets its own task's gradient. A plugin that needs
      sums over the global batch all-reduces them itself (the call runs in a replica
      context). Trunks with a representation per task (MMoE, PLE) are refused.

    A model whose trunk has no trainable variables is refused in both gradient modes.

    ``losses`` are scalar tensors (the masked mean over the global batch); ``present``
    holds a boolean scalar per task that is False when the batch has no label for it:
    such a task must drop out of that step (its loss and gradients are then exactly zero).
    State (``tf.Variable``) created in ``setup`` and returned by ``variables()`` is
    checkpointed, so ``--resume`` continues it. In ``loss`` mode, trainable ones are
    optimised with the model (through ``combine``'s output); in the gradient modes no
    gradient reaches them, so the plugin updates its own state (``assign``) inside
    ``combine_gradients`` / ``task_weights``. Everything runs inside ``tf.function`` on
    every replica with identical inputs: state assigned in the step should be created
    with ``aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA``, and randomness must
    come from stateless ops seeded from that state, so all replicas agree.
    """

    kind = "weighting"
    mode: ClassVar[str] = WeightingMode.LOSS
    every: int = 1
    """Steps per solve (``shared_gradients`` / ``feature_gradients`` methods whose update is
    ``sum_t w_t g_t``). Above 1 the step runs the full method on every ``every``-th step
    only, and in between one backward pass of ``sum_t w_t L_t`` with the weights of the last
    solve (``held_weights``; in ``shared_gradients`` mode the heads keep their own
    unweighted gradient). Such a plugin stores each solve's weights in a checkpointed
    variable and returns a checkpointed int64 step count from ``period_counter`` that the
    step advances, so ``--resume`` continues the period exactly."""

    def validate(self, tasks: list[TaskInfo]) -> None:
        """Check params against the tasks (no TensorFlow); raise ConfigError if unusable."""

    def setup(self, tasks: list[TaskInfo]) -> None:
        """Create state (tf.Variables); called once, inside the distribution scope."""
        self.tasks = tasks

    def setup_shared(self, shapes: list[tuple[int, ...]]) -> None:
        """Optional: create state shaped like the shared parameters (``shared_gradients`` mode).

        Called once after ``setup`` (inside the distribution scope, before the checkpoint is
        read) with the shapes of the shared variables, in the order of the gradient lists
        ``combine_gradients`` receives. Methods that keep a running copy of each task's
        gradient (MoCo, DB-MTL, ExcessMTL) allocate it here; the rest ignore it.
        """

    def variables(self) -> dict[str, Any]:
        return {}

    def combine(self, losses: dict[str, Any], present: dict[str, Any]) -> Any:
        raise NotImplementedError

    def combine_gradients(
        self, grads: dict[str, list[Any]], losses: dict[str, Any], present: dict[str, Any]
    ) -> list[Any]:
        raise NotImplementedError

    def task_weights(
        self, feature_grads: dict[str, Any], losses: dict[str, Any], present: dict[str, Any]
    ) -> dict[str, Any]:
        raise NotImplementedError

    def feature_gradient(
        self, feature_grads: dict[str, Any], features: Any, present: dict[str, Any]
    ) -> Any:
        raise NotImplementedError

    samples: ClassVar[int] = 1
    """Independent gradient samples per step (``shared_gradients`` mode). Above 1 the step
    splits each batch into that many interleaved sub-batches (global rows ``i::samples``)
    and calls ``combine_gradient_samples`` instead of ``combine_gradients``; the heads get
    the mean of their samples' gradients (``mtkit.training.sampled_step``)."""

    def combine_gradient_samples(
        self, grads: list[dict[str, list[Any]]], losses: list[dict[str, Any]],
        present: list[dict[str, Any]]
    ) -> list[Any]:
        """With ``samples > 1``: per sample, what ``combine_gradients`` gets (each sample's
        per-task global trunk gradients, masked-mean losses and labelled flags over the
        sample's rows); returns one gradient list for the trunk."""
        raise NotImplementedError

    def held_weights(self) -> dict[str, Any]:
        """With ``every > 1``: the task weights of the last solve (scalar tensors)."""
        raise NotImplementedError

    def period_counter(self) -> Any:
        """With ``every > 1``: the checkpointed int64 ``tf.Variable`` counting steps taken."""
        raise NotImplementedError

    def end_epoch(self, epoch: int, train_losses: dict[str, float]) -> None:
        """Called after each epoch with the mean per-task training losses."""


class Dataset(Plugin):
    """A data source: ``load`` returns numpy arrays for train (and optionally val/test).

    Inputs are a dict ``{input name: array}``; labels ``{task name: array}`` with one
    entry per configured task. Splits that ``load`` leaves as None are carved out of
    train by mtkit (``train.validation_fraction``, ``train.test_fraction``).
    """

    kind = "dataset"
    demo_config: ClassVar[str | None] = None
    """Path of a complete example config shipped with the plugin (used by the demo)."""

    def load(self, tasks: list[TaskInfo], seed: int) -> Splits:
        raise NotImplementedError

    def augment(self, inputs: dict[str, Any], seed: Any) -> dict[str, Any] | None:
        """Optional train-time augmentation on a batch of tf tensors; None = none.

        ``seed`` is a stateless-random seed tensor of shape (2,), different per batch
        and deterministic for a given run seed, epoch and step.
        """
        return None

    def evaluate(
        self, labels: dict[str, np.ndarray], predictions: dict[str, np.ndarray]
    ) -> dict[str, float]:
        """Optional metrics spanning several tasks (e.g. whole-sequence accuracy)."""
        return {}

    def metric_direction(self, metric: str) -> int:
        """+1 if higher is better for one of ``evaluate``'s metrics, -1 if lower, 0 if
        unknown; the default goes by the name (``*accuracy`` up, ``mae``/``rmse`` down)."""
        from mtkit.metrics import direction

        return direction(metric)

    decoder: ClassVar[str] = ""
    """``"module:function"`` of a numpy-only ``fn(spec, raw: {task: array}) -> [dict per
    example]`` decoding across tasks; the runtime stores its rows under ``spec["name"]``."""

    def decode_spec(self) -> dict[str, Any]:
        """Optional decoding that spans several tasks, stored in exported models.

        Extend ``super().decode_spec()`` (it carries ``decoder``) with ``type``, ``name``
        (the key of the decoded entry beside the tasks) and what the decoder needs.
        """
        return {"decoder": self.decoder} if self.decoder else {}


@dataclass(frozen=True)
class PluginKind:
    """One row of the kind table: everything mtkit derives from a plugin kind.

    The hook spec (``register_<plural>``), the built-in folder (``mtkit/builtin/<plural>/``),
    the base class a registered class must subclass and the scaffold's file order all come
    from :data:`KIND_TABLE`, so a kind is spelled exactly once.
    """

    name: str
    """Singular, as configs and ``mtkit plugins`` write it (``trunk``)."""
    plural: str
    """Plural: the hook's suffix and the built-in folder (``trunks``)."""
    base: type[Plugin]
    """The class a registered plugin must subclass."""
    role: str
    """What plugins of this kind do (the hook spec's docstring)."""

    @property
    def hook(self) -> str:
        """The hook name plugins implement (``register_trunks``)."""
        return f"register_{self.plural}"


KIND_TABLE: tuple[PluginKind, ...] = (
    PluginKind("trunk", "trunks", Trunk, "shared-layer builders"),
    PluginKind("head", "heads", Head, "task-specific top layers"),
    PluginKind("loss", "losses", Loss, "per-example losses"),
    PluginKind("weighting", "weightings", Weighting,
               "ways to combine per-task losses or gradients"),
    PluginKind("dataset", "datasets", Dataset, "data sources yielding inputs and one label per task"),
)
"""The five plugin kinds, in canonical order (listing, scaffolding, hook calls)."""

KINDS: dict[str, type[Plugin]] = {k.name: k.base for k in KIND_TABLE}
"""Kind name → base class (derived from :data:`KIND_TABLE`)."""
