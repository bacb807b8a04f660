"""The one place mtkit opens and runs onnxruntime sessions (``Predictor``, export checks).

Defaults are what measured fastest on shared CPUs (see docs/export.md, "Why onnxruntime
was slow, and what changed"):

* **threads** = the physical cores *this process may use* (CPU affinity and a cgroup CPU
  quota), not onnxruntime's default of every physical core of the machine: inside a
  container limited to 2 CPUs on a 64-core host, the default starts 64 workers; and **one
  thread for a small model** (file under ``SMALL_MODEL_BYTES``): its ops take a few
  microseconds, less than waking a second worker (measured on the tabular MLP and the MMoE
  trunk: 1 thread was as fast or faster at every batch size, up to 2.5x at batch 256);
* **no spinning**: onnxruntime's workers busy-wait for new work after each op by default,
  which takes CPU from the threads doing the work when other processes share the cores
  (measured: batch 32 of the demo CNN 34 ms spinning vs 20 ms not, under load);
* **full graph optimisation** (``all``: fusions and the x86 NCHWc convolution layout,
  twice as fast as ``extended`` on convolutions), sequential execution, quiet logging.

``SessionConfig`` exposes each of them, plus an optional saved pre-optimised model.
Imports no TensorFlow.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mtkit.errors import MtkitError, first_line
from mtkit.runtime import providers

OPTIMIZATION_LEVELS = ("all", "extended", "basic", "none")
SMALL_MODEL_BYTES = 512 * 1024
"""Below this file size (about 128k fp32 weights) a model runs on one thread by default."""


@dataclass(frozen=True)
class SessionConfig:
    """How onnxruntime runs a model; every field has a measured default (module docstring).

    ``threads``: intra-op threads (None: the physical cores this process may use, or 1 for
    a model file under ``SMALL_MODEL_BYTES``);
    ``spinning``: let idle workers busy-wait (faster by a few µs per op on a quiet,
    dedicated machine, much slower when the CPU is shared); ``optimization``: graph
    optimisation level (``all``, ``extended``, ``basic``, ``none``); ``optimized_model``:
    a file to keep the optimised graph in — written on first use (and whenever the source
    model is newer), loaded with optimisation off afterwards, which skips graph
    optimisation at start-up. The optimised file is specific to this machine's CPU
    features and onnxruntime version: do not copy it elsewhere.
    """

    threads: int | None = None
    spinning: bool = False
    optimization: str = "all"
    optimized_model: str | Path | None = None

    def __post_init__(self) -> None:
        if self.threads is not None and self.threads < 1:
            raise MtkitError(f"threads must be at least 1, or None for the cores available "
                             f"(got {self.threads}).")
        if self.optimization not in OPTIMIZATION_LEVELS:
            raise MtkitError(f"optimization '{self.optimization}' is unknown; use one of "
                             f"{', '.join(OPTIMIZATION_LEVELS)}.")


def _cgroup_cpus() -> float | None:
    """CPUs allowed by a cgroup v2 quota (``cpu.max``), None when unlimited or unknown."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None


def available_cores() -> int:
    """Physical cores this process may run on: its CPU affinity, counted once per core
    (hyper-threads share a core's arithmetic units), capped by a cgroup CPU quota."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return max(1, (os.cpu_count() or 2) // 2)
    cores = set()
    for cpu in cpus:
        topo = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            cores.add((topo.joinpath("physical_package_id").read_text().strip(),
                       topo.joinpath("core_id").read_text().strip()))
        except OSError:
            cores.add(("cpu", str(cpu)))
    count = len(cores) or len(cpus) or 1
    quota = _cgroup_cpus()
    if quota is not None:
        count = min(count, max(1, math.ceil(quota)))
    return count


def default_threads(path: Path | None) -> int:
    """Intra-op threads when none are given: 1 for a small model file, else the cores."""
    try:
        if path is not None and path.stat().st_size < SMALL_MODEL_BYTES:
            return 1
    except OSError:
        pass
    return available_cores()


def session_options(ort: Any, config: SessionConfig, path: Path | None = None) -> Any:
    """``onnxruntime.SessionOptions`` for ``config`` (``path``: the model, for the default
    thread count)."""
    levels = {"all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
              "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
              "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
              "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL}
    opts = ort.SessionOptions()
    opts.graph_optimization_level = levels[config.optimization]
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.intra_op_num_threads = config.threads or default_threads(path)
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning",
                                  "1" if config.spinning else "0")
    opts.log_severity_level = 3  # errors only; onnxruntime warns about harmless things
    return opts


class SessionOpenError(MtkitError):
    """onnxruntime refused the file; ``reason`` is its first line (callers add context)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"'{path}' cannot be loaded as an ONNX model ({reason}); is it a file "
                         "written by `mtkit export RUN --onnx`?")
        self.reason = reason


def _source_for(path: Path, config: SessionConfig, ort: Any, wanted: list[str]) -> tuple[Path, SessionConfig]:
    """The file to load and the config to load it with, writing the optimised copy if due."""
    if config.optimized_model is None:
        return path, config
    cached = Path(config.optimized_model)
    if cached.is_file() and cached.stat().st_mtime >= path.stat().st_mtime:
        return cached, SessionConfig(config.threads or default_threads(path), config.spinning, "none")
    if cached.is_dir():
        raise MtkitError(f"optimized_model '{cached}' is a folder; give a file name such as "
                         f"{cached / 'model.optimized.onnx'}.")
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
    opts = session_options(ort, config, path)
    opts.optimized_model_filepath = str(tmp)
    try:
        ort.InferenceSession(str(path), opts, providers=wanted)
        os.replace(tmp, cached)  # written whole, then renamed: never a half-written cache
    except Exception as exc:  # onnxruntime raises its own (pybind) exception types
        tmp.unlink(missing_ok=True)
        raise SessionOpenError(path, first_line(exc, 300)) from None
    return cached, SessionConfig(config.threads or default_threads(path), config.spinning, "none")


def open_session(path: str | Path, provider: str = "auto",
                 config: SessionConfig | None = None) -> Any:
    """An ``onnxruntime.InferenceSession`` on ``path`` for ``provider`` (``auto``, ``cpu``,
    ``cuda``, ``tensorrt``; see ``providers``) with ``config``. Raises SessionOpenError when
    onnxruntime refuses the file, MtkitError when an explicitly requested GPU cannot run."""
    import onnxruntime as ort

    path = Path(path)
    config = config or SessionConfig()
    wanted = providers.requested(provider, ort)
    source, load_config = _source_for(path, config, ort, wanted)
    opts = session_options(ort, load_config, path)
    try:
        if provider.lower() == "auto" and wanted[0] != providers.CPU:
            with providers.quiet_stdio():  # a failing GPU falls back to CPU silently
                session = ort.InferenceSession(str(source), opts, providers=wanted)
        else:
            session = ort.InferenceSession(str(source), opts, providers=wanted)
    except Exception as exc:  # onnxruntime raises its own (pybind) exception types
        raise SessionOpenError(path, first_line(exc, 300)) from None
    providers.confirm(provider, wanted, session)
    return session


def run_batched(session: Any, inputs: dict[str, np.ndarray], batch_size: int,
                names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Outputs ``{name: array}`` over ``inputs`` in slices of ``batch_size`` rows, matched by
    output name (``names``: the outputs wanted, default all). Needs at least one row."""
    names = names or [o.name for o in session.get_outputs()]
    n = len(next(iter(inputs.values())))
    if n <= batch_size:  # one call, no slicing or concatenation copies
        return dict(zip(names, session.run(names, inputs), strict=True))
    parts: dict[str, list[np.ndarray]] = {k: [] for k in names}
    for start in range(0, n, batch_size):
        feed = {k: v[start:start + batch_size] for k, v in inputs.items()}
        for name, value in zip(names, session.run(names, feed), strict=True):
            parts[name].append(value)
    return {k: np.concatenate(v) for k, v in parts.items()}
