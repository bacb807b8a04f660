"""Each bad input of the core: exit code 2, one clear message naming the culprit, no
traceback, and no run directory left behind."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from tests.conftest import assert_clean_error, run_cli


def _npz(path, n=40, labels=None, x=None):
    x = np.random.default_rng(0).normal(size=(n, 3)).astype(np.float32) if x is None else x
    labels = labels if labels is not None else {"kind": np.arange(n) % 11}
    np.savez(path, x=x, **labels)
    return path


def _cfg(tmp_path, data: str, tasks: str = "kind: {head: classification, classes: 11}",
         extra: str = "") -> str:
    p = tmp_path / "cfg.yaml"
    p.write_text(textwrap.dedent(f"""\
        data: {data}
        trunk: {{type: mlp, units: [4]}}
        tasks:
          {tasks}
        train: {{epochs: 1}}
        """) + extra)
    return str(p)


def _npz_cfg(t, **kw) -> str:
    return _cfg(t, f"{{dataset: npz, path: {_npz(t / 'd.npz', **kw)}}}")


def _train(tmp_path, cfg):
    out = tmp_path / "run"
    proc = run_cli("train", cfg, "--out", str(out), "-q")
    return proc, out


CASES = {
    "unknown plugin": (lambda t: _cfg(t, "{dataset: synthetic}", "kind: {head: clasification}"),
                       ["unknown head 'clasification'", "did you mean 'classification'",
                        "tasks.kind.head"]),
    "missing field": (lambda t: _cfg(t, "{dataset: synthetic}", "kind: {classes: 3}"),
                      ["cfg.yaml", "field 'tasks.kind.head': required field is missing"]),
    "mistyped field": (lambda t: _cfg(t, "{dataset: synthetic}", extra="weighting: {type: 3}\n"),
                       ["field 'weighting.type'"]),
    "unknown key": (lambda t: _cfg(t, "{dataset: synthetic}", extra="trainn: {epochs: 2}\n"),
                    ["field 'trainn': unknown key"]),
    "label length": (lambda t: _npz_cfg(t, labels={"kind": np.zeros(39, int)}),
                     ["different lengths", "labels of task 'kind' has 3"]),
    "label out of range": (lambda t: _npz_cfg(t, labels={"kind": np.arange(40) % 13}),
                           ["task 'kind'", "class index 11 is out of range for 11 classes"]),
    "empty dataset": (lambda t: _npz_cfg(t, n=0, labels={"kind": np.zeros(0, int)}),
                      ["split is empty"]),
    "missing file": (lambda t: _cfg(t, "{dataset: npz, path: /nonexistent/d.npz}"),
                     ["npz file '/nonexistent/d.npz' does not exist"]),
    "all labels absent": (lambda t: _npz_cfg(t, labels={"kind": np.full(40, -1)}),
                          ["task 'kind' has no label at all"]),
    "output does not fit loss": (lambda t: _cfg(t, "{dataset: synthetic}",
                                                "kind: {head: regression, loss: binary_crossentropy}"),
                                 ["loss 'binary_crossentropy' does not fit head 'regression'"]),
    "npz not a zip": (lambda t: (t / "d.npz").write_text("nope")
                      and _cfg(t, f"{{dataset: npz, path: {t / 'd.npz'}}}"),
                      ["cannot be read"]),
    "NaN inputs": (lambda t: _npz_cfg(t, x=np.full((40, 3), np.nan, np.float32)),
                   ["input 'x'", "NaN or infinite"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gives_a_clear_error(case, tmp_path):
    make, needles = CASES[case]
    proc, out = _train(tmp_path, make(tmp_path))
    assert_clean_error(proc, *needles)
    assert not out.exists(), "a failed run must not leave a run directory behind"


def test_bad_override_and_missing_config(tmp_path):
    assert_clean_error(run_cli("train", str(tmp_path / "nope.yaml")), "does not exist")
    cfg = _cfg(tmp_path, "{dataset: synthetic}")
    assert_clean_error(run_cli("train", cfg, "--set", "train.epochs"), "expected KEY.PATH=VALUE")


def test_existing_run_directory_is_not_clobbered(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    proc = run_cli("train", _cfg(tmp_path, "{dataset: synthetic}"), "--out", str(out))
    assert_clean_error(proc, "already exists", "--resume", "--overwrite")
    assert (out / "keep.txt").read_text() == "precious"
