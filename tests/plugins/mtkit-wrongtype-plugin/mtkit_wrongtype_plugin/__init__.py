"""Registers something that is not a plugin class."""

import mtkit


@mtkit.hookimpl
def register_losses(register):
    register(lambda y_true, y_pred: 0.0)
