"""Every case of the bad-input corpus (``corpus.py``) through the real CLI: the documented
exit code, no traceback, a message naming the culprit, nothing left behind."""

from __future__ import annotations

import pytest

from tests.conftest import assert_clean_error, run_cli
from tests.hardening.corpus import CASES


def test_corpus_is_large_enough():
    assert len(CASES) >= 30
    assert len({c.family for c in CASES.values()}) >= 20


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_a_clear_error(name, tmp_path, request):
    case = CASES[name]
    env = request.getfixturevalue(case.env) if case.env else None
    args = case.make(tmp_path)
    proc = run_cli(*args, env=env, cwd=tmp_path)
    assert_clean_error(proc, *(n.replace("{t}", str(tmp_path)) for n in case.needles),
                       code=case.code)
    for rel in case.absent:
        assert not (tmp_path / rel).exists(), f"{rel} was left behind"
    litter = [p for p in tmp_path.rglob(".*.tmp*")]
    assert not litter, f"temporary files left behind: {litter}"
