"""Activation names accepted by the built-in trunks."""

from typing import Literal

Activation = Literal["relu", "elu", "selu", "tanh", "sigmoid", "swish", "gelu", "linear"]
