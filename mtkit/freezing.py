"""``trunk.freeze``: freeze only the trunk layers whose names match glob patterns.

Keras' own switch does the work (``layer.trainable = False``): the layer's weights leave
``trainable_variables``, so no optimizer touches them, and a frozen BatchNormalization runs
in inference mode with its moving statistics kept, as Keras documents. Names are the trunk's
layer names (``mlp_dense0``; a nested model's layers as ``block/conv``, the nested model
itself by its own name), the same names ``init_from.json`` lists after ``trunk/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

from mtkit.config import _did_you_mean
from mtkit.errors import ConfigError


def _weighted_layers(model: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for layer in getattr(model, "layers", []):
        if not layer.weights:
            continue
        path = f"{prefix}{layer.name}"
        yield path, layer
        yield from _weighted_layers(layer, f"{path}/")


def freeze_layers(trunk: Any, patterns: list[str], source: str) -> list[str]:
    """Freeze every weight-carrying trunk layer matching a pattern; the names frozen.
    A pattern that matches nothing is an error (a typo would silently train everything)."""
    layers = list(_weighted_layers(trunk))
    frozen: list[str] = []
    for pattern in patterns:
        hits = [(path, layer) for path, layer in layers if fnmatchcase(path, pattern)]
        if not hits:
            names = [path for path, _ in layers]
            raise ConfigError(
                f"{source}: field 'trunk.freeze': pattern '{pattern}' matches no layer of the "
                f"trunk{_did_you_mean(pattern, names)}; its layers with weights are "
                f"{', '.join(names) or '(none)'}. Use one of these names or a glob pattern "
                "(mlp_dense*).")
        for path, layer in hits:
            layer.trainable = False
            frozen.append(path)
    return sorted(set(frozen))
