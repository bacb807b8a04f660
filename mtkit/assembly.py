"""Plan + input specs → a Keras functional model: shared trunk, one head per task.

The model's outputs are a dict keyed by task name, and each head's last layer is named
after its task, so every later stage (losses, metrics, ONNX export, runtime) matches
outputs by name. ``Assembled.features_model`` additionally exposes the shared
representation, which feature-gradient weighting methods need.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mtkit.dataprep import InputSpecs
from mtkit.errors import ConfigError, MtkitError, PluginError
from mtkit.planning import Plan


@dataclass
class Assembled:
    model: Any  # keras.Model: inputs dict -> {task: output}
    features_model: Any  # keras.Model: inputs dict -> {"features": ..., "outputs": {...}}
    shared_variables: list[Any]  # the trunk's trainable variables
    head_variables: dict[str, list[Any]] = field(default_factory=dict)  # per task: its head's


@contextmanager
def _plugin_call(what: str, plugin: object) -> Iterator[None]:
    """Turn an unexpected exception of a plugin's ``build`` into a PluginError naming it.

    Keras reports impossible shapes and bad layer arguments as ValueError/TypeError deep in
    its own code; the user needs to know which plugin and which config section to fix.
    """
    try:
        yield
    except MtkitError:
        raise
    except Exception as exc:
        detail = (str(exc).strip().splitlines() or [""])[0][:300]
        raise PluginError(f"{what}: {type(exc).__name__}: {detail} (plugin code in module "
                          f"'{type(plugin).__module__}'). Check that section's parameters against "
                          "the data's shapes (MTKIT_DEBUG=1 shows the traceback).") from exc


def assemble(plan: Plan, specs: InputSpecs) -> Assembled:
    """Assemble the multitask model described by ``plan`` (model, features model, shared
    variables). The public ``mtkit.build_model(config)`` wraps this for a config."""
    taken = {**{k: f"model input '{k}'" for k in specs.shapes}, "trunk": "the shared trunk"}
    for name in plan.tasks:
        if name in taken:  # Keras (and the exported ONNX graph) need unique names
            raise ConfigError(f"{plan.source}: field 'tasks.{name}': the task name '{name}' is "
                              f"also the name of {taken[name]}; tasks name the model's outputs, "
                              "so rename the task.")
    import keras

    tab = specs.tabular  # a table: raw columns in, preprocessing in the model (mtkit.tabular)
    if tab is not None:
        from mtkit.tabular import keras_model as tabular
    inputs = {
        name: keras.Input(shape=shape, name=name,
                          dtype=tabular.core_dtype(tab, name) if tab else specs.dtypes[name])
        for name, shape in specs.shapes.items()
    }
    trunk_name = plan.config.trunk.type
    shapes = ", ".join(f"'{k}' {tuple(v)}" for k, v in specs.shapes.items())
    with _plugin_call(f"trunk '{trunk_name}' (field 'trunk') cannot be built on the inputs "
                      f"{shapes}", plan.trunk):
        features = plan.trunk.build(tabular.encode(tab, inputs) if tab else dict(inputs),
                                    plan.task_infos)
    per_task = isinstance(features, dict)
    if per_task != bool(plan.trunk.per_task_features):
        got = "a dict of per-task features" if per_task else "one shared tensor"
        raise PluginError(
            f"trunk '{trunk_name}' returned {got} but declares per_task_features = "
            f"{not per_task}; set the class attribute to match what build() returns (other "
            "plugins, e.g. mixture-of-experts trunks, read it without building)."
        )
    if per_task:
        if set(features) != set(plan.tasks):
            raise PluginError(
                f"trunk '{trunk_name}' returned features for {sorted(features)}, but the "
                f"tasks are {sorted(plan.tasks)}; a per-task trunk must return one entry per task."
            )
    elif not keras.utils.is_keras_tensor(features):
        raise PluginError(
            f"trunk '{trunk_name}' returned {type(features).__name__}; build() must return a "
            "Keras tensor or a dict {task: tensor}."
        )
    trunk = keras.Model(inputs, features, name="trunk")
    trunk.trainable = plan.config.trunk.trainable  # frozen: BatchNormalization in inference mode
    if plan.config.trunk.freeze:  # some layers only (Keras' layer.trainable, as above)
        from mtkit.freezing import freeze_layers

        freeze_layers(trunk, plan.config.trunk.freeze, plan.source)
    shared = trunk(inputs)
    outputs = {}
    for name, task in plan.tasks.items():
        with _plugin_call(f"head '{task.info.head}' (field 'tasks.{name}') cannot be built",
                          task.head):
            out = task.head.build(shared[name] if per_task else shared, name)
        if not keras.utils.is_keras_tensor(out):
            raise PluginError(f"head '{task.info.head}' (task '{name}') returned "
                              f"{type(out).__name__}, not a Keras tensor.")
        if keras.backend.standardize_dtype(out.dtype) != "float32":  # mixed precision
            out = keras.layers.Activation("linear", dtype="float32", name=f"{name}_float32")(out)
        outputs[name] = tabular.target_output(tab, name, out) if tab else out
    model = keras.Model(inputs, outputs, name=tabular.CORE if tab else "mtkit_model")
    features_model = keras.Model(inputs, {"features": shared, "outputs": outputs},
                                 name="mtkit_features")
    heads = {name: keras.Model(shared[name] if per_task else shared, out).trainable_variables
             for name, out in outputs.items()}
    if tab:
        model, features_model = tabular.with_lookups(tab, model, features_model)
    return Assembled(model=model, features_model=features_model,
                     shared_variables=list(trunk.trainable_variables), head_variables=heads)


build_model = assemble
"""Older name of :func:`assemble` (kept so existing imports work; ``mtkit.build_model`` is
the public config → Keras model call)."""
