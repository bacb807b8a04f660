"""Offers a head named 'classification', colliding with mtkit's built-in one."""

import mtkit
from mtkit.builtin.heads.classification import ClassificationHead


class OtherClassification(ClassificationHead):
    """Another classification head under the same name."""


@mtkit.hookimpl
def register_heads(register):
    register(OtherClassification)
