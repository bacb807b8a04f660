"""Run every variant × seed as an ordinary run directory, one after another or as
parallel processes; a finished run is kept, an interrupted one is resumed."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mtkit import rundir
from mtkit.comparison.report import build_report, write_report
from mtkit.comparison.variants import Variant, make_variants, variant_config
from mtkit.config import apply_overrides, read_yaml
from mtkit.errors import ConfigError, MtkitError

STATE = "compare.json"


@dataclass
class CompareResult:
    out: Path
    report: dict[str, Any]


def _state(run: Path) -> str:
    """``done``, ``resume`` (an epoch finished: continue from its checkpoint), ``restart``
    (an mtkit run killed during its first epoch: nothing to keep, train it again) or
    ``fresh``; anything else in the folder is refused rather than replaced."""
    from mtkit.run_guard import foreign_entries, has_checkpoint, is_run

    if (run / rundir.METRICS).is_file():
        return "done"
    if (run / rundir.HISTORY).is_file():
        return "resume"
    if not run.exists() or not any(run.iterdir()):
        return "fresh"
    if is_run(run) and not has_checkpoint(run) and not foreign_entries(run):
        return "restart"
    raise MtkitError(f"'{run}' exists but holds no finished or resumable run; it is not one "
                     "of mtkit compare's runs (or it was damaged): move it away and rerun.")


def compare(config: str | Path | dict[str, Any], weightings: list[str], seeds: list[int],
            out: str | Path, overrides: list[str] | None = None, jobs: int = 1,
            quiet: bool = True) -> CompareResult:
    """Train (or continue) every variant and seed into ``out/runs``; write the report."""
    from mtkit import api

    source = str(config) if not isinstance(config, dict) else "<config>"
    raw = read_yaml(config) if not isinstance(config, dict) else dict(config)
    raw = apply_overrides(raw, list(overrides or []))
    variants = make_variants(raw, weightings, source)
    if not seeds:
        raise ConfigError("--seeds: give at least one seed (e.g. 0,1,2).")
    out = Path(out)
    plans = {}
    for v in variants:  # every variant is validated (plugins found) before anything trains
        try:
            plans[v] = api.plan(variant_config(raw, v, seeds[0]))
        except MtkitError as exc:
            raise type(exc)(f"{source}, variant {v.name}: {exc}") from None
    from mtkit.comparison.report import check_directions

    check_directions(next(iter(plans.values())), source)
    todo = [(v, s) for v in variants for s in seeds]
    if any(_state(out / "runs" / v.run_name(s)) != "done" for v, s in todo):
        from mtkit.comparison.budget import check_budget

        check_budget({v.name: variant_config(raw, v, seeds[0]) for v in variants
                      if v.task is None}, source)
    configs = out / "configs"
    configs.mkdir(parents=True, exist_ok=True)
    for v, s in todo:
        rundir.write_text(configs / f"{v.run_name(s)}.yaml",
                          yaml.safe_dump(variant_config(raw, v, s), sort_keys=False))
    pending = [(v, s) for v, s in todo if _state(out / "runs" / v.run_name(s)) != "done"]
    if jobs <= 1:
        for v, s in pending:
            _train_here(out, v, s, quiet)
    else:
        _train_processes(out, pending, jobs, quiet)
    report = build_report(out, variants, seeds, plans[variants[0]])
    write_report(out, report)
    return CompareResult(out=out, report=report)


def _train_here(out: Path, v: Variant, seed: int, quiet: bool) -> None:
    from mtkit import api

    run = out / "runs" / v.run_name(seed)
    state = _state(run)
    # restart: the run's own guard replaces it (staged beside it, swapped in when done)
    api.train(out / "configs" / f"{v.run_name(seed)}.yaml", run, resume=state == "resume",
              overwrite=state == "restart", quiet=quiet)


def _train_processes(out: Path, pending: list[tuple[Variant, int]], jobs: int,
                     quiet: bool) -> None:
    """Up to ``jobs`` ``mtkit train`` processes at once (one run each)."""
    procs: list[tuple[str, subprocess.Popen]] = []
    queue = list(pending)
    failed: list[str] = []
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    while queue or procs:
        while queue and len(procs) < jobs:
            v, s = queue.pop(0)
            run = out / "runs" / v.run_name(s)
            cmd = [sys.executable, "-m", "mtkit.cli", "train",
                   str(out / "configs" / f"{v.run_name(s)}.yaml"), "--out", str(run), "--quiet"]
            state = _state(run)
            if state in ("resume", "restart"):
                cmd.append("--resume" if state == "resume" else "--overwrite")
            procs.append((v.run_name(s), subprocess.Popen(
                cmd, env=env, stdout=subprocess.DEVNULL if quiet else None,
                stderr=subprocess.PIPE, text=True)))
        name, proc = procs.pop(0)
        _, err = proc.communicate()
        if proc.returncode:
            failed.append(f"{name}: {(err or '').strip().splitlines()[-1:] or ['?']}")
    if failed:
        raise MtkitError(f"{len(failed)} run(s) failed: {'; '.join(failed)}. Fix the cause and "
                         "rerun the same command: finished runs are kept.")


def parse_list(text: str, what: str, cast: Any = str) -> list[Any]:
    try:
        return [cast(x.strip()) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"{what}: '{text}' is not a comma-separated list of "
                          f"{'integers' if cast is int else 'names'}.") from None
