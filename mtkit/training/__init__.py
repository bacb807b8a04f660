"""Training: the owned, strategy-aware loop with masked losses, checkpoints and history."""
