"""Pieces shared by the gated trunks: expert specs, expert sub-models, gates and mixtures.

An *expert* is any registered trunk that returns one tensor (``mlp``, ``conv``, a plugin's
own). It is looked up through the registry and its parameters are validated by its own
``Params`` model when the config is planned, so a bad expert field is reported as
``trunk.expert.<field>`` before TensorFlow is imported. Each expert instance is built inside
its own ``keras.Model`` (named after its role), so the layer names of identical experts
never clash and the saved model needs no custom objects. Gates are softmax ``Dense`` layers
and mixtures ``keras.ops.einsum``: both convert to ONNX.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, model_validator

from mtkit.errors import ConfigError, MtkitError, PluginError
from mtkit.plugin_types import TaskInfo, Trunk

GateActivation = Literal["relu", "elu", "selu", "tanh", "sigmoid", "swish", "linear"]
"""Hidden-layer activations for gates (no ``gelu``: Keras' exact GELU breaks ONNX export)."""

DEFAULT_EXPERT: dict[str, Any] = {"type": "mlp", "units": [32]}

UPPER_INPUT = "features"
"""Input name that experts above the first level receive (the previous level's features)."""


class GateParams(BaseModel):
    """Per-task gate settings (``trunk.gates.<task>``)."""

    model_config = ConfigDict(extra="forbid")
    hidden: list[PositiveInt] = Field(default_factory=list, description="Hidden units of this gate.")


class ExpertParams(BaseModel):
    """Parameters naming expert trunks; each spec is checked against the registry when validated."""

    model_config = ConfigDict(extra="forbid")
    expert_fields: ClassVar[tuple[str, ...]] = ("expert",)

    expert: dict[str, Any] = Field(
        default_factory=lambda: dict(DEFAULT_EXPERT),
        description="The trunk each expert is built from: {type: <trunk>, <its params>}.",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _check_experts(cls, data: Any, handler: Any) -> Any:
        params = handler(data)
        for name in cls.expert_fields:
            spec = getattr(params, name)
            if spec is not None:
                resolve_expert(spec, name)
        return params


class GatedParams(ExpertParams):
    """Parameters every gated trunk shares: the experts' trunk and the gates' shape."""

    gate_hidden: list[PositiveInt] = Field(default_factory=list,
                                           description="Hidden units of every gate (default: none).")
    gate_activation: GateActivation = "relu"
    gates: dict[str, GateParams] = Field(default_factory=dict,
                                         description="Per-task gate overrides: {task: {hidden: [..]}}.")

    def gate_hidden_for(self, task: str) -> list[int]:
        """The hidden units of ``task``'s gate (its override, else ``gate_hidden``)."""
        gate = self.gates.get(task)
        return list(gate.hidden) if gate is not None else list(self.gate_hidden)


@dataclass(frozen=True)
class Expert:
    """A resolved expert spec: the trunk class, its validated params and where it was named."""

    cls: type[Trunk]
    params: BaseModel
    field: str

    @property
    def type(self) -> str:
        return self.cls.name


def _relocated(exc: ValidationError, prefix: tuple[str, ...]) -> ValidationError:
    """The same errors with ``prefix`` put in front of each location."""
    errors = []
    for err in exc.errors():
        item = {"type": err["type"], "loc": prefix + tuple(err["loc"]), "input": err["input"]}
        if "ctx" in err:
            item["ctx"] = err["ctx"]
        errors.append(item)
    return ValidationError.from_exception_data(exc.title, errors)


def resolve_expert(spec: Any, field: str) -> Expert:
    """Look up ``spec['type']`` in the registry and validate the rest with its Params.

    Errors name ``trunk.<field>.<key>``: a pydantic ValidationError (located under ``field``)
    for bad parameters, a PluginError for an unknown or per-task trunk.
    """
    from mtkit.registry import get_registry

    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise ValidationError.from_exception_data("expert", [{
            "type": "missing", "loc": (field, "type"), "input": spec}])
    ref = spec["type"]
    cls = get_registry().get("trunk", ref, where=f"trunk.{field}.type")
    if getattr(cls, "per_task_features", False):
        raise PluginError(
            f"field 'trunk.{field}.type': trunk '{ref}' returns one feature tensor per task, so it "
            "cannot serve as an expert (experts must return one shared tensor); use a trunk such "
            "as 'mlp' or 'conv' for the expert."
        )
    try:
        params = cls.Params.model_validate({k: v for k, v in spec.items() if k != "type"})
    except ValidationError as exc:
        raise _relocated(exc, (field,)) from None
    return Expert(cls=cls, params=params, field=field)


def check_gate_tasks(gates: dict[str, Any], tasks: list[TaskInfo]) -> None:
    """Refuse per-task gate settings for a task the config does not have."""
    names = [t.name for t in tasks]
    unknown = sorted(set(gates) - set(names))
    if unknown:
        raise ConfigError(
            f"field 'trunk.gates': no task named {', '.join(map(repr, unknown))}; the tasks are "
            f"{', '.join(names)}. Key each gate override by a task name (or remove it)."
        )


def flat_features(inputs: dict[str, Any], name: str) -> Any:
    """All inputs flattened, cast to float and concatenated: what a gate looks at."""
    import keras

    parts = []
    for key, x in inputs.items():
        if len(x.shape) > 2:
            x = keras.layers.Flatten(name=f"{name}_flatten_{key}")(x)
        if "int" in str(x.dtype):
            x = keras.ops.cast(x, "float32")
        parts.append(x)
    if len(parts) == 1:
        return parts[0]
    return keras.layers.Concatenate(name=f"{name}_concat")(parts)


def build_expert(expert: Expert, inputs: dict[str, Any], tasks: list[TaskInfo], name: str) -> Any:
    """Build one expert as its own sub-model named ``name`` and apply it to ``inputs``.

    Returns a ``(batch, units)`` tensor (higher-rank expert outputs are flattened).
    """
    import keras

    fresh = {k: keras.Input(shape=tuple(v.shape[1:]), dtype=v.dtype, name=k) for k, v in inputs.items()}
    try:
        out = expert.cls(expert.params).build(dict(fresh), tasks)
    except MtkitError as exc:
        raise type(exc)(f"{exc} (raised while building the expert '{name}' from trunk."
                        f"{expert.field}, a '{expert.type}' trunk)") from None
    if isinstance(out, dict) or not keras.utils.is_keras_tensor(out):
        raise PluginError(
            f"field 'trunk.{expert.field}.type': trunk '{expert.type}' returned "
            f"{type(out).__name__} instead of one Keras tensor, so it cannot serve as an expert."
        )
    if len(out.shape) > 2:
        out = keras.layers.Flatten(name="flatten_output")(out)
    return keras.Model(fresh, out, name=name)(inputs)


def gate(x: Any, experts: int, hidden: list[int], activation: str, name: str) -> Any:
    """Softmax weights ``(batch, experts)`` over the experts, from features ``x``.

    The last (softmax) layer is named ``name``, so tests and users can read a gate's output.
    """
    import keras

    for i, units in enumerate(hidden):
        x = keras.layers.Dense(units, activation=activation, name=f"{name}_hidden{i}")(x)
    return keras.layers.Dense(experts, activation="softmax", name=name)(x)


def mix(weights: Any, outputs: list[Any]) -> Any:
    """The gate-weighted sum of expert outputs: ``sum_e weights[:, e] * outputs[e]``."""
    import keras

    if len({tuple(o.shape[1:]) for o in outputs}) != 1:
        raise PluginError(
            "experts returned features of different shapes "
            f"({', '.join(str(tuple(o.shape[1:])) for o in outputs)}); a gate can only mix "
            "experts whose outputs have the same shape."
        )
    stacked = keras.ops.stack(outputs, axis=1)  # (batch, experts, units)
    return keras.ops.einsum("be,beu->bu", weights, stacked)
