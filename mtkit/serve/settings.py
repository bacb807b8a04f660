"""The server's knobs in one place, so the CLI, the app and the tests agree on defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServeSettings:
    """Limits and batching behaviour of one server process.

    ``max_batch_size`` rows go to one onnxruntime call; the batcher waits at most
    ``max_delay_ms`` after the oldest waiting request for more to arrive. ``max_queue``
    requests may wait; one more gets 503 with ``Retry-After``. A request not answered within
    ``timeout_ms`` gets 504. ``max_rows`` and ``max_body_bytes`` bound one request.
    ``batching=False`` runs every request alone (the benchmark's baseline).
    """

    max_batch_size: int = 64
    max_delay_ms: float = 2.0
    max_queue: int = 256
    timeout_ms: float = 5000.0
    max_rows: int = 1024
    max_body_bytes: int = 16 * 1024 * 1024
    batching: bool = True
    drain_timeout_s: float = 30.0
    canned: bool = False  # benchmark only: answer without parsing or inference (the stack's ceiling)

    def problems(self) -> list[str]:
        """What is out of range, as ``--option: why`` strings (empty when all is well)."""
        out = []
        for name in ("max_batch_size", "max_queue", "max_rows", "max_body_bytes"):
            if getattr(self, name) < 1:
                out.append(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(self, name)})")
        if self.max_delay_ms < 0:
            out.append(f"--max-delay-ms must not be negative (got {self.max_delay_ms})")
        if self.timeout_ms <= 0:
            out.append(f"--timeout-ms must be positive (got {self.timeout_ms})")
        if self.drain_timeout_s < 0:
            out.append(f"--drain-timeout must not be negative (got {self.drain_timeout_s})")
        return out
