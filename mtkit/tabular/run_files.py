"""What a tabular run stores and prints: the resolved schema, ready to copy into a config.

``features.yaml`` holds a ``features:`` section that reproduces the run's schema, then
(as comments-free data under ``fitted:``) the train statistics the model was built with.
The same fitted schema goes into ``run.json`` (key ``tabular``), which export reads.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from mtkit import rundir
from mtkit.tabular.schema import FittedSchema

FEATURES_FILE = "features.yaml"


def summary(schema: FittedSchema) -> str:
    """A few lines: each column's type and what the model does with it."""
    lines = [f"feature schema ({'inferred' if schema.inferred else 'declared'}):"]
    for name, f in schema.features.items():
        if f.is_string:
            how = (f"{len(f.vocabulary)} values, {f.encoding.replace('_', '-')}"
                   + (f" {f.embedding_dim}" if f.encoding == "embedding" else ""))
        elif f.type == "numeric":
            how = f"mean {f.mean:.4g}, std {f.std:.4g}" + (", missing flag" if f.missing_indicator
                                                           else "")
        else:
            how = "as is"
        miss = f", {f.missing_rows} missing" if f.missing_rows else ""
        lines.append(f"  {name}: {f.type} ({how}{miss})")
    for task, t in schema.targets.items():
        if t.kind == "classes":
            lines.append(f"  target {task} <- {t.column}: labels {t.labels}"
                         + (" (learned)" if t.learned else ""))
        elif t.kind == "regression":
            lines.append(f"  target {task} <- {t.column}: standardised (mean {t.mean[0]:.4g}, "
                         f"std {t.std[0]:.4g}), outputs in the column's units")
    return "\n".join(lines)


def record(run: Path, schema: FittedSchema, quiet: bool) -> dict[str, Any]:
    """Write features.yaml (and a DataFrame's copy), print the summary; returns the schema
    as stored in run.json (key ``tabular``)."""
    text = ("# The feature schema of this run; paste `features:` into a config to reuse it.\n"
            + yaml.safe_dump({"features": schema.as_config()}, sort_keys=False)
            + yaml.safe_dump({"fitted": schema.as_json()}, sort_keys=False))
    rundir.write_text(run / FEATURES_FILE, text)
    if schema.frame is not None:  # mtkit.train(config, data=frame): export re-reads this copy
        rundir.atomic_write(run / "data.parquet", lambda p: schema.frame.to_parquet(p))
    if not quiet:
        sys.stderr.write(summary(schema) + f"\n  (written to {run / FEATURES_FILE})\n")
    return schema.as_json()
