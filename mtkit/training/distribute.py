"""tf.distribute strategies for mtkit's own loop: none, mirrored (local devices) and
multi-worker (``TF_CONFIG``), with the checks that turn cluster mistakes into clear errors.

Why not Keras ``fit``: it fails under ``MultiWorkerMirroredStrategy`` (keras#20585). mtkit's
step (``training/step.py``) runs under any strategy: every worker runs the same program on
its slice of each *global* batch, and per-task losses are normalised by global label counts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from mtkit.errors import ConfigError

STRATEGIES = ("auto", "none", "mirrored", "multi-worker")


@dataclass
class Role:
    """This process's place in the cluster."""

    is_chief: bool = True
    worker_index: int = 0
    num_workers: int = 1


def parse_tf_config(raw: str | None = None) -> dict[str, Any] | None:
    """Validate ``TF_CONFIG`` (the standard cluster spec); None when unset."""
    raw = os.environ.get("TF_CONFIG") if raw is None else raw
    if not raw:
        return None
    try:
        spec = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"TF_CONFIG is not valid JSON ({exc.msg} at char {exc.pos}); expected e.g. "
                          '{"cluster": {"worker": ["host1:port", "host2:port"]}, '
                          '"task": {"type": "worker", "index": 0}}.') from None
    cluster = spec.get("cluster") if isinstance(spec, dict) else None
    task = spec.get("task") if isinstance(spec, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise ConfigError("TF_CONFIG needs a 'cluster' object and a 'task' object; see "
                          "docs/distributed.md for one per worker.")
    workers = list(cluster.get("chief", [])) + list(cluster.get("worker", []))
    if not workers or not all(isinstance(w, str) and ":" in w for w in workers):
        raise ConfigError("TF_CONFIG 'cluster' must list workers as \"host:port\" strings under "
                          f"'worker' (and optionally one 'chief'); got {cluster!r}.")
    kind, index = task.get("type"), task.get("index")
    if kind not in ("worker", "chief") or not isinstance(index, int):
        raise ConfigError("TF_CONFIG 'task' must be {\"type\": \"worker\" or \"chief\", \"index\": N}; "
                          f"got {task!r}.")
    if not 0 <= index < len(cluster.get(kind, [])):
        raise ConfigError(f"TF_CONFIG task index {index} is out of range: the cluster has "
                          f"{len(cluster.get(kind, []))} {kind}(s).")
    return spec


def expected_role(name: str) -> Role:
    """This process's role from TF_CONFIG alone (no TensorFlow), to check the run directory
    before anything slow happens."""
    spec = parse_tf_config()
    if spec is None or name not in ("auto", "multi-worker"):
        return Role()
    cluster, task = spec["cluster"], spec["task"]
    has_chief = "chief" in cluster
    n = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    if n < 2 and name == "auto":
        return Role()
    is_chief = task["type"] == "chief" or (not has_chief and task["index"] == 0)
    index = task["index"] + (1 if has_chief and task["type"] == "worker" else 0)
    return Role(is_chief=is_chief, worker_index=index, num_workers=n)


def resolve_name(name: str, tf_config: dict[str, Any] | None, gpus: int) -> str:
    """``auto`` → multi-worker with a multi-worker TF_CONFIG, mirrored with > 1 GPU, else none."""
    if name != "auto":
        return name
    if tf_config is not None:
        c = tf_config["cluster"]
        if len(c.get("chief", [])) + len(c.get("worker", [])) > 1:
            return "multi-worker"
    return "mirrored" if gpus > 1 else "none"


def make_strategy(name: str, devices: list[str] | None, timeout_s: float) -> tuple[Any, Role]:
    """Create the strategy (first thing after TensorFlow is imported) and this process's role."""
    from mtkit.tf_import import import_tensorflow

    tf = import_tensorflow()
    tf_config = parse_tf_config()
    name = resolve_name(name, tf_config, len(tf.config.list_physical_devices("GPU")))
    if name == "none":
        return tf.distribute.get_strategy(), Role()
    if name == "mirrored":
        if devices is None:
            gpus = tf.config.list_logical_devices("GPU")
            devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        check_devices(devices, [d.name for d in tf.config.list_logical_devices()])
        return tf.distribute.MirroredStrategy(devices=devices), Role()
    if tf_config is None:
        raise ConfigError("strategy 'multi-worker' needs the TF_CONFIG environment variable "
                          "(one per worker); see docs/distributed.md.")
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout_s)
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    return strategy, expected_role("multi-worker")


def check_devices(wanted: list[str], present: list[str]) -> None:
    """Every device of ``train.devices`` exists on this machine (TensorFlow would accept a
    missing GPU and fail later, or place its replica elsewhere)."""
    import tensorflow as tf

    def key(name: str) -> tuple[str, int]:
        try:
            spec = tf.DeviceSpec.from_string(name if name.startswith("/") else f"/{name}")
        except ValueError:
            return ("?" + name, -1)
        return ((spec.device_type or "").upper(), spec.device_index or 0)

    have = {key(n) for n in present}
    missing = [w for w in wanted if key(w) not in have]
    if missing:
        raise ConfigError(
            f"field 'train.devices': {', '.join(map(repr, missing))} does not exist on this "
            f"machine; its devices are {', '.join(present)}. Name existing devices "
            "(e.g. '/gpu:0'), or remove train.devices to use every GPU.")


def check_batch(batch_size: int, replicas: int, source: str) -> None:
    if batch_size % replicas:
        raise ConfigError(
            f"{source}: field 'train.batch_size': {batch_size} is not divisible by the "
            f"{replicas} replicas in sync; train.batch_size is the GLOBAL batch, so pick a "
            f"multiple of {replicas} (e.g. {batch_size - batch_size % replicas or replicas})."
        )


def distribute(strategy: Any, make_global_batches: Any, role: Role,
               make_local_batches: Any = None) -> Any:
    """Each input pipeline takes a strided slice of every global batch.

    Every worker builds the same stream of global batches (same seed), so replicas together
    see exactly the rows a single device would see, in the same steps. Streamed shards
    (``make_local_batches(pipeline, replicas_per_pipeline)``) are the exception under
    multi-worker: each worker reads only its own shards and yields its share of every
    global batch itself (one per-replica batch per local replica).
    """
    import tensorflow as tf

    replicas = strategy.num_replicas_in_sync
    if make_local_batches is not None and role.num_workers > 1:
        def own(ctx: tf.distribute.InputContext) -> Any:
            per = max(1, replicas // ctx.num_input_pipelines)
            return make_local_batches(ctx.input_pipeline_id, per)

        return strategy.distribute_datasets_from_function(own)

    def global_batches() -> Any:
        # A last batch smaller than the replica count would leave a replica with no rows.
        ds = make_global_batches()
        if replicas == 1:
            return ds
        return ds.filter(lambda *b: tf.shape(tf.nest.flatten(b)[0])[0] >= replicas)

    if role.num_workers == 1:
        return strategy.experimental_distribute_dataset(global_batches())

    def fn(ctx: tf.distribute.InputContext) -> Any:
        n, i = ctx.num_input_pipelines, ctx.input_pipeline_id
        return global_batches().map(lambda *b: tf.nest.map_structure(lambda t: t[i::n], b))

    return strategy.distribute_datasets_from_function(fn)
