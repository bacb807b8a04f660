"""Implements a hook that mtkit's contract does not define (a typo of register_heads)."""

import mtkit


@mtkit.hookimpl
def register_hedas(register):
    pass
