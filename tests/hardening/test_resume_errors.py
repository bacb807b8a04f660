"""``--resume`` on a damaged or mismatched run directory: a clear error through the CLI,
and the run directory is left exactly as it was (nothing rewritten before the run's state
was read), so fixing the cause and resuming again still works."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mtkit import rundir
from tests.conftest import assert_clean_error, run_cli


def _damage_history(run: Path) -> list[str]:
    (run / rundir.HISTORY).write_text('{"epochs": [{"epoch": 1, ')
    return ["--set", "train.epochs=5"]  # the run finished 4: ask for more, or it is refused


def _no_checkpoints_kept(run: Path) -> list[str]:
    cfg = run / rundir.CONFIG
    cfg.write_text(cfg.read_text().replace("checkpoint: true", "checkpoint: false"))
    return ["--set", "train.epochs=5"]


def _damage_checkpoint(run: Path) -> list[str]:
    index = run / rundir.CHECKPOINTS / "ckpt-4.index"
    index.write_bytes(index.read_bytes()[:40])
    return ["--set", "train.epochs=5"]


def _change_the_model(run: Path) -> list[str]:
    return ["--set", "trunk.units=[7]", "--set", "train.epochs=5"]


CASES = {
    "damaged history.json": (_damage_history, ("cannot resume", "history.json' is damaged")),
    "run trained without checkpoints": (_no_checkpoints_kept,
                                        ("cannot resume", "train.checkpoint: false")),
    "damaged checkpoint": (_damage_checkpoint, ("cannot resume from checkpoint", "ckpt-4",
                                                "damaged")),
    "trunk changed since the run started": (_change_the_model, (
        "cannot resume from checkpoint", "does not match the model", "start a new run")),
}


def _snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", list(CASES))
def test_resume_of_a_damaged_run_is_refused_and_changes_nothing(case, reference_run, tmp_path):
    damage, needles = CASES[case]
    run = shutil.copytree(reference_run, tmp_path / "run")
    extra = damage(run)
    before = _snapshot(run)
    proc = run_cli("train", "--out", str(run), "--resume", "-q", *extra)
    assert_clean_error(proc, *needles)
    assert _snapshot(run) == before
