"""The Keras side of a tabular model: encoders before the trunk, lookups before everything.

The model is built in two parts so that each converts faithfully:

* the *core* (``mtkit_core``) takes numbers (float32, NaN = missing) and category **ids**
  (int64), standardises and encodes them, runs trunk and heads, and de-standardises the
  regression outputs — only arithmetic, which tf2onnx converts;
* the full model (``mtkit_model``, saved as model.keras) puts a Keras ``StringLookup``
  per category column in front of the core, so it takes the raw strings.

At export the core is converted with tf2onnx and the lookups are rebuilt as ONNX-ML
``LabelEncoder`` nodes from the same vocabulary (``mtkit.tabular.onnx_lookup``): tf2onnx
cannot convert ``StringLookup`` itself.
"""

from __future__ import annotations

from typing import Any

from mtkit.tabular.schema import FittedSchema

CORE = "mtkit_core"


def lookup_vocabulary(vocabulary: list[str]) -> list[str]:
    """StringLookup's vocabulary: "" (missing) first, so ids are 0 unseen, 1 missing, 2.."""
    return ["", *vocabulary]


def core_dtype(schema: FittedSchema, name: str) -> str:
    return "int64" if schema.features[name].is_string else "float32"


def encode(schema: FittedSchema, inputs: dict[str, Any]) -> dict[str, Any]:
    """Core inputs → ``{"features": (N, width)}``, the one vector the trunk sees."""
    import keras

    from mtkit.tabular.layers import CategoryOneHot, NumericEncode

    parts = []
    for name, f in schema.features.items():
        x = inputs[name]
        if f.type == "numeric":
            parts.append(NumericEncode(f.mean, f.std, f.missing_indicator,
                                       name=f"encode_{name}")(x))
        elif f.type == "passthrough":
            parts.append(keras.layers.Activation("linear", dtype="float32",
                                                 name=f"encode_{name}")(x))
        elif f.encoding == "embedding":
            e = keras.layers.Embedding(f.ids, f.embedding_dim, name=f"embed_{name}")(x)
            parts.append(keras.layers.Flatten(name=f"encode_{name}")(e))
        else:
            parts.append(CategoryOneHot(f.ids, name=f"encode_{name}")(x))
    vec = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="encoded_features")(parts)
    return {"features": vec}


def target_output(schema: FittedSchema, task: str, out: Any) -> Any:
    """A regression head's standardised output → the user's units (``Rescaling``)."""
    tgt = schema.targets.get(task)
    if tgt is None or tgt.kind != "regression" or tgt.mean is None:
        return out
    import keras

    scale = tgt.std[0] if len(tgt.std) == 1 else list(tgt.std)
    offset = tgt.mean[0] if len(tgt.mean) == 1 else list(tgt.mean)
    return keras.layers.Rescaling(scale, offset, dtype="float32", name=f"{task}_units")(out)


def with_lookups(schema: FittedSchema, core: Any, features_core: Any) -> tuple[Any, Any]:
    """Raw-column models: StringLookup per category column, then the core models."""
    import keras

    raw = {name: keras.Input(shape=(1,), dtype="string" if f.is_string else "float32", name=name)
           for name, f in schema.features.items()}
    ids = {}
    for name, f in schema.features.items():
        if f.is_string:
            ids[name] = keras.layers.StringLookup(
                vocabulary=lookup_vocabulary(f.vocabulary), num_oov_indices=1, mask_token=None,
                output_mode="int", name=f"lookup_{name}")(raw[name])
        else:
            ids[name] = raw[name]
    model = keras.Model(raw, core(ids), name="mtkit_model")
    features_model = keras.Model(raw, features_core(ids), name="mtkit_features")
    return model, features_model


def core_inputs(model: Any, raw: dict[str, Any]) -> dict[str, Any]:
    """What the core receives inside the full model for raw inputs ``raw``: each category
    column through its ``lookup_<name>`` layer, numbers as they are (diagnostics probe the
    core's trunk with these)."""
    names = {layer.name for layer in model.layers}
    return {k: model.get_layer(f"lookup_{k}")(v) if f"lookup_{k}" in names else v
            for k, v in raw.items()}
