"""Every case of the safety corpus (``corpus_safety.py``) through the real CLI: exit code,
message, no traceback, and every file that existed before is byte-identical afterwards
unless changing it is the command's purpose."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.conftest import assert_clean_error, run_cli
from tests.hardening.corpus_safety import CASES, SAFETY_CONFIG


@pytest.fixture(scope="session")
def safety_run(tmp_path_factory) -> Path:
    """SAFETY_CONFIG trained (2 epochs) and exported to ONNX, once for the whole corpus."""
    run = tmp_path_factory.mktemp("safety") / "run"
    proc = run_cli("train", "-q", "--out", str(run), "--set", "train.epochs=2",
                   str(_config(run.parent)))
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("export", str(run))
    assert proc.returncode == 0, proc.stderr
    return run


def _config(folder: Path) -> Path:
    import yaml

    path = folder / "safety.yaml"
    path.write_text(yaml.safe_dump(SAFETY_CONFIG))
    return path


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def test_safety_corpus_is_large_enough():
    assert len(CASES) >= 50


@pytest.mark.parametrize("name", list(CASES))
def test_nothing_the_user_owns_is_lost(name, tmp_path, request):
    case = CASES[name]
    if case.uses_run:
        shutil.copytree(request.getfixturevalue("safety_run"), tmp_path / "run", symlinks=True)
    args = case.make(tmp_path)
    before = _snapshot(tmp_path)
    proc = case.drive(tmp_path, args) if case.drive else run_cli(*args, cwd=tmp_path)
    assert_clean_error(proc, *(n.replace("{t}", str(tmp_path)) for n in case.needles),
                       code=case.code)
    out = proc.stdout + proc.stderr
    for word in case.lacks:
        assert word not in out, f"{word!r} should not be in: {out}"
    after = _snapshot(tmp_path)
    changed = [rel for rel, digest in before.items() if after.get(rel) != digest
               and not any(Path(rel).match(g) for g in case.may_change)]
    assert not changed, f"files changed or lost: {changed}\n{out}"
    for pattern in case.absent:
        left = list(tmp_path.glob(pattern))
        assert not left, f"{left} left behind"
    litter = [p for p in tmp_path.rglob(".*.tmp*") if "l1ve" not in p.name]
    assert not litter, f"temporary files left behind: {litter}"
