"""Written for another plugin API version than the installed mtkit's."""

import mtkit

MTKIT_PLUGIN_API = 99


class OldLoss(mtkit.Loss):
    """A loss from the future."""

    name = "oldapi_loss"


@mtkit.hookimpl
def register_losses(register):
    register(OldLoss)
