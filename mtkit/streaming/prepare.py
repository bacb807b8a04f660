"""Plan → streamed splits and input specs, checked before anything is written.

Order (each step can refuse the data with a message naming the file): the shard footers
(``shards``), the feature types (from the first chunk), the carve (``splits``), the one
statistics pass (``stats``), then the fitted schema. Nothing here holds more than a chunk
of rows (plus the small train-metrics sample).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mtkit.builtin.datasets._labels import label_keys
from mtkit.dataprep import InputSpecs
from mtkit.errors import ConfigError, DataError
from mtkit.planning import Plan
from mtkit.streaming.data import StreamSplit, StreamSplits
from mtkit.streaming.reader import Converter
from mtkit.streaming.shards import Shard, open_shards
from mtkit.streaming.splits import carve
from mtkit.streaming.stats import DistinctTable, sample_arrays, settle_types, stream_pass
from mtkit.tabular.columns import label_arrays, resolve_features, resolve_targets
from mtkit.tabular.readers import RawTable


def streams(plan: Plan) -> bool:
    """True when the plan's dataset reads shards in chunks (``data.path`` a folder/glob)."""
    fn = getattr(plan.dataset, "streams", None)
    return bool(fn()) if callable(fn) else False


def _first_chunk(shard: Shard, rows: int) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mtkit.streaming.reader import shard_source
    from mtkit.tabular.readers import _columns

    try:
        batch = next(pq.ParquetFile(shard.path).iter_batches(batch_size=rows), None)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{shard_source(shard.path)} cannot be read ({exc}); the file is "
                        "truncated or damaged. Rewrite it.") from None
    table = pa.Table.from_batches([batch]) if batch is not None else pa.table({})
    return RawTable(_columns(table), shard_source(shard.path), None)


def readers_for(plan: Plan, asked: int | None) -> int:
    """One reader per worker; ``data.readers`` may only repeat that number (or set it on
    one process, to reproduce a multi-worker run's batches)."""
    from mtkit.training.distribute import expected_role

    workers = expected_role(plan.config.train.strategy).num_workers
    if asked is not None and workers > 1 and asked != workers:
        raise ConfigError(f"{plan.source}: field 'data.readers': {asked}, but this run has "
                          f"{workers} workers, and each worker is one reader; remove "
                          "data.readers (it defaults to the number of workers).")
    return asked or workers


def prepare_stream(plan: Plan) -> tuple[StreamSplits, InputSpecs]:
    from mtkit.dataprep import _check_declared
    from mtkit.tabular.prepare import fit_from, fitted_feature

    cfg, ds = plan.config, plan.dataset
    p = ds.params
    source = f"dataset '{cfg.data.dataset_name}' ({p.path})"
    balanced = [t for t, tc in cfg.tasks.items() if tc.class_weight == "balanced"]
    if balanced:
        raise ConfigError(f"{plan.source}: field 'tasks.{balanced[0]}.class_weight': 'balanced' "
                          "is not available for streamed data yet (it would need a pass over "
                          "the labels before the statistics); give the weights as a list.")
    keys = label_keys(plan.task_infos, p.labels)
    needed = {c: f"label column of task '{t}'" for t, c in keys.items()}
    needed.update({c: "a feature under `features:`" for c in (ds.declared or {})})
    train_shards, ref = open_shards(p.path, "data.path", needed)
    val_shards = open_shards(p.val_path, "data.val_path", needed, ref)[0] if p.val_path else None
    test_shards = open_shards(p.test_path, "data.test_path", needed, ref)[0] \
        if p.test_path else None
    first = _first_chunk(train_shards[0], p.chunk_rows)
    resolved = resolve_features(first, list(keys.values()), ds.declared, p.exclude)
    for shard in [*train_shards, *(val_shards or []), *(test_shards or [])]:
        absent = [c for c in resolved.features if c not in shard.columns]
        if absent:
            raise DataError(f"shard '{shard.path}' has no column {', '.join(map(repr, absent))} "
                            f"(a feature of '{train_shards[0].path}'); every shard needs the "
                            "same columns. Fix the shard, or list the columns to leave out "
                            "under data.exclude.")
    t = cfg.train
    train, val, test = carve(train_shards, val_shards, test_shards, t.validation_fraction,
                             t.test_fraction, p.carve, t.seed, source)
    readers = readers_for(plan, p.readers)
    if len(train.parts) < readers:
        raise DataError(f"{source}: {len(train.parts)} train shard(s) for {readers} readers "
                        "(one per worker): every worker reads its own shards, so there must be "
                        "at least as many shards as workers. Split the data into more files "
                        f"(a multiple of {readers} keeps the workers even).")
    carved = [s for s, given in ((val, val_shards), (test, test_shards))
              if s is not None and given is None and not all(q.whole for q in s.parts)]
    res = stream_pass(plan, resolved, train, carved, p.chunk_rows, t.train_metrics_rows, keys)
    settle_types(resolved, res, source)
    for task, n in res.labelled.items():
        if n == 0:
            raise DataError(f"{source}: task '{task}' has no label at all in the training split "
                            "(every value is missing), so its head cannot learn; label some "
                            "rows or remove the task.")
    distinct = DistinctTable({c: np.array(sorted(v), dtype=object)
                              for c, v in res.distinct.items()}, f"the shards of '{p.path}'")
    resolved.targets = resolve_targets(plan.task_infos, keys, [distinct], p.standardise_targets)
    resolved.standardise_targets = p.standardise_targets
    label_arrays(distinct, {k: v for k, v in resolved.targets.items()
                            if v.column in res.distinct and res.distinct[v.column]})
    ds.resolved = resolved
    features = {k: fitted_feature(k, s, res.features[k]) for k, s in resolved.features.items()}
    fitted = fit_from(plan, resolved, features, res.target_moments)
    conv = Converter(plan, resolved)

    def split(files: Any) -> StreamSplit | None:
        return None if files is None else StreamSplit(files, conv, p.chunk_rows, t.seed)

    out = StreamSplits(train=split(train), val=split(val), test=split(test), readers=readers,
                       options={"chunk_rows": p.chunk_rows, "shuffle_buffer": p.shuffle_buffer,
                                "interleave": p.interleave, "carve": p.carve,
                                "statistics": "one streaming pass over the train rows"})
    out.train.kept_sample = sample_arrays(conv, res)
    specs = InputSpecs(shapes={k: (1,) for k in resolved.features},
                       dtypes={k: fitted.dtype(k) for k in resolved.features}, tabular=fitted)
    if cfg.inputs is not None:
        _check_declared(cfg.inputs, specs, plan.source)
    return out, specs
