"""The safety corpus: run-directory states, names, numbers, shapes, concurrency, signals,
lying metadata and truncated files, each through the real CLI.

Unlike ``corpus.py`` (bad input → clean error), every case here also proves that nothing the
user owns was lost: the runner (``test_corpus_safety.py``) hashes every file under the case
folder ``t`` after ``make`` and checks afterwards that each one still exists with the same
bytes, except the paths in ``may_change`` (globs, relative to ``t``) that are the command's
purpose to change. ``uses_run``: ``t/run`` starts as a copy of one small trained and
exported run (``safety_run`` fixture). ``drive``: for concurrency and signals, a function
that runs the CLI itself (the runner passes it the argument list ``make`` returned).
``family``: the words of the message that ``docs/errors.md`` explains.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tests.conftest import MTKIT
from tests.hardening.corpus import BASE, RUN_INFO, BaseCase, changed, npz_config, onnx_model, write

SAFETY_CONFIG: dict[str, Any] = {
    "data": {"dataset": "synthetic", "rows": 80, "features": 3},
    "trunk": {"type": "mlp", "units": [4]},
    "tasks": {"kind": {"head": "classification", "classes": 3}},
    "train": {"epochs": 2, "steps_per_epoch": 2, "seed": 3},
}
"""The trained run every ``uses_run`` case starts from (2 epochs, exported to ONNX)."""

# A long first epoch (3000 steps), so a signal surely lands before the first checkpoint.
SLOW_CONFIG: dict[str, Any] = {
    "data": {"dataset": "synthetic", "rows": 24000, "features": 4},
    "trunk": {"type": "mlp", "units": [8]},
    "tasks": {"kind": {"head": "classification", "classes": 3}},
    "train": {"epochs": 2, "batch_size": 8},
}


@dataclass(frozen=True)
class Case(BaseCase):
    """A corpus case that may start from a trained run and check what it left alone."""

    uses_run: bool = False
    may_change: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    drive: Callable[[Path, list[str]], subprocess.CompletedProcess] | None = None
    lacks: tuple[str, ...] = ()  # words the message must not contain


# ----------------------------------------------------------------------------- helpers

def train(t: Path, content: dict[str, Any] | str, *extra: str, out: str = "run") -> list[str]:
    return ["train", write(t, content), "--out", str(t / out), "-q", *extra]


def bad_npz_config(t: Path) -> dict[str, Any]:
    """Valid YAML whose data fails only when loaded (a fractional class label)."""
    return npz_config(t, kind=(np.arange(40) % 3) + 0.5)


def surrogate(t: Path, name: str) -> str:
    """``t/name`` with an undecodable byte, as Python passes it on (surrogateescape)."""
    return os.fsdecode(os.fsencode(str(t)) + b"/" + name.encode() + b"\xff")


def lock(folder: Path, pid: int, host: str | None = None, since: float | None = None) -> None:
    (folder / ".mtkit-lock").write_text(json.dumps(
        {"pid": pid, "host": host or socket.gethostname(), "since": since or time.time()}))


def staging(t: Path, pid: int) -> None:
    """The staging folder an ``--overwrite`` by process ``pid`` builds beside t/run."""
    folder = t / f".run.mtkit-new-{pid}"
    folder.mkdir()
    (folder / ".mtkit-run").write_text("{}")
    (folder / "model.keras").write_bytes(b"half a model")


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def edit_json(path: Path, **fields: Any) -> None:
    data = json.loads(path.read_text())
    data.update(fields)
    path.write_text(json.dumps(data))


def x_npz(t: Path, x: Any, name: str = "x.npz") -> str:
    np.savez(t / name, features=np.asarray(x))
    return str(t / name)


def predict(t: Path, model: Path, *inputs: str, out: str = "preds.jsonl") -> list[str]:
    return ["predict", str(model), *inputs, "--out", str(t / out)]


def image_model(path: Path, size: int = 4) -> Path:
    """A real ONNX model taking (size, size) gray images, with mtkit metadata."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from mtkit.export.metadata import attach

    w = numpy_helper.from_array(np.ones((size * size, 3), np.float32) / 10, "w")
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["image"], ["flat"]),
         helper.make_node("MatMul", ["flat", "w"], ["logits"]),
         helper.make_node("Softmax", ["logits"], ["kind"], axis=-1)], "img",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", size, size])],
        [helper.make_tensor_value_info("kind", TensorProto.FLOAT, ["batch", 3])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    info = dict(RUN_INFO, inputs={"image": {"shape": [size, size], "dtype": "float32"}})
    attach(model, info)
    onnx.save(model, str(path))
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width`` x ``height`` (the pixel data is a stub)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))
    return path


def _popen(args: list[str], cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([*MTKIT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=cwd)


def _wait_for(cond: Callable[[], bool], proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.time() + timeout
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"exited early ({proc.returncode}): {proc.communicate()}")
        if time.time() > end:
            proc.kill()
            raise AssertionError("timed out waiting for the process to reach the stage")
        time.sleep(0.05)


def _finish(proc: subprocess.Popen, args: list[str]) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def signal_when(sig: int, cond: Callable[[Path], bool], delay: float = 0.0
                ) -> Callable[[Path, list[str]], subprocess.CompletedProcess]:
    """Run the CLI, send ``sig`` once ``cond(t)`` holds (plus ``delay`` s), collect it."""
    def drive(t: Path, args: list[str]) -> subprocess.CompletedProcess:
        proc = _popen(args)
        _wait_for(lambda: cond(t), proc)
        time.sleep(delay)
        proc.send_signal(sig)
        return _finish(proc, args)

    return drive


def _export_temp(t: Path) -> list[Path]:
    return list((t / "run").glob(".*mtkit-export-*.tmp.onnx"))


def _planted_temps(t: Path) -> None:
    """What SIGKILL leaves of an export (no cleanup can run): its temp file beside the
    target, named with its dead pid; and one of a live export, which must be kept."""
    (t / "run" / f".model.onnx.mtkit-export-{dead_pid()}.k1ll.tmp.onnx").write_bytes(b"half")
    (t / "run" / f".model.onnx.mtkit-export-{os.getpid()}.l1ve.tmp.onnx").write_bytes(b"busy")


def _has_lock(t: Path, name: str = "run") -> bool:
    return (t / name / ".mtkit-lock").is_file()


def _training(t: Path) -> bool:
    """The run wrote run.json: TensorFlow is imported, the model built, epoch 1 starting
    (a signal during TensorFlow's own import would test TensorFlow, not mtkit)."""
    return (t / "run" / "run.json").is_file()


def _staging(t: Path) -> bool:
    """An --overwrite's staging folder beside t/run got its run.json (training starts)."""
    return any(p.joinpath("run.json").is_file() for p in t.glob(".run.mtkit-new-*"))


def _two_writers(t: Path, args: list[str]) -> subprocess.CompletedProcess:
    """Two `mtkit train` into one --out at the same time: exactly one may write it."""
    first = _popen(args)
    _wait_for(lambda: _has_lock(t), first)
    second = subprocess.run([*MTKIT, *args], capture_output=True, text=True, timeout=300)
    _wait_for(lambda: _training(t), first)
    first.send_signal(signal.SIGINT)
    done = _finish(first, args)
    assert done.returncode == 130, (done.returncode, done.stderr)
    return second


# ------------------------------------------------------------------------------ the table

CASES: dict[str, Case] = {
    # ---- file-system and run-directory states
    "overwrite a data folder (the issue's first case)": Case(
        "--overwrite refused",
        lambda t: (t / "data").mkdir() or (t / "data" / "d.csv").write_text(
            "a,kind\n" + "".join(f"{i},{i % 2}\n" for i in range(30))) and train(
            t, changed("tasks", {"kind": {"head": "binary"}}, changed(
                "data", {"dataset": "csv", "path": str(t / "data" / "d.csv")})),
            "--overwrite", out="data"),
        ("--overwrite refused", "'{t}/data' is not an mtkit run directory", "'d.csv'",
         "Nothing was changed")),
    "overwrite a folder of unrelated files": Case(
        "--overwrite refused",
        lambda t: (t / "run").mkdir() or (t / "run" / "notes.txt").write_text("mine") and
        (t / "run" / "sub").mkdir() or train(t, BASE, "--overwrite"),
        ("is not an mtkit run directory", "'notes.txt', 'sub'", "deletes only runs it made")),
    "overwrite a run holding a foreign file": Case(
        "--overwrite refused",
        lambda t: (t / "run" / "notes.txt").write_text("mine") and train(t, BASE, "--overwrite"),
        ("--overwrite refused", "also holds 'notes.txt'", "which mtkit did not write"),
        uses_run=True),
    "overwrite a good run with broken data": Case(
        "hold values such as",
        lambda t: train(t, bad_npz_config(t), "--overwrite"),
        ("task 'kind'", "values such as 0.5", "the previous run in '{t}/run' is unchanged"),
        uses_run=True, absent=(".run.mtkit-new-*",)),
    "overwrite a good run, model cannot be built": Case(
        "cannot be built",
        lambda t: train(t, npz_config(t, x=np.zeros(40, np.float32)), "--overwrite"),
        ("trunk 'mlp'", "cannot be built", "is unchanged"), uses_run=True,
        absent=(".run.mtkit-new-*",)),
    "overwrite a good run with a config error": Case(
        "invalid config —", lambda t: train(t, changed("train.epochs", 0), "--overwrite"),
        ("field 'train.epochs'",), uses_run=True),
    "new run into a plain non-empty folder": Case(
        "already exists and is",
        lambda t: (t / "run").mkdir() or (t / "run" / "a.txt").write_text("x") and train(t, BASE),
        ("'{t}/run' already exists and is not empty", "--overwrite")),
    "new run into an existing run": Case(
        "already exists and is", lambda t: train(t, BASE),
        ("already exists and is an mtkit run", "--resume"), uses_run=True),
    "resume a finished run": Case(
        "already finished",
        lambda t: ["train", "--out", str(t / "run"), "--resume", "-q"],
        ("cannot resume", "already finished all 2 epochs", "Nothing was changed",
         "train.epochs=3"), uses_run=True),
    "resume a run that early stopping ended": Case(
        "already finished",
        lambda t: edit_json(t / "run" / "metrics.json", stopped_early=True) or [
            "train", "--out", str(t / "run"), "--resume", "-q", "--set", "train.epochs=9"],
        ("early stopping ended it after epoch 2", "best epoch's", "Nothing was changed"),
        uses_run=True),
    "resume a finished run without checkpoints": Case(
        "holds no checkpoint",
        lambda t: [p.unlink() for p in (t / "run" / "checkpoints").iterdir()] and
        (t / "run" / "checkpoints").rmdir() or [
            "train", "--out", str(t / "run"), "--resume", "-q", "--set", "train.epochs=3"],
        ("cannot resume", "holds no checkpoint"), uses_run=True),
    "resume a run whose metrics.json is damaged": Case(
        "is damaged, so whether the run finished",
        lambda t: (t / "run" / "metrics.json").write_text('{"split": ') and [
            "train", "--out", str(t / "run"), "--resume", "-q"],
        ("metrics.json' is damaged", "Nothing was changed"), uses_run=True),
    "resume and overwrite together": Case(
        "exclude each other",
        lambda t: ["train", "--out", str(t / "run"), "--resume", "--overwrite", "-q"],
        ("--resume and --overwrite exclude each other",), uses_run=True),
    "overwrite a symlink to a plain folder": Case(
        "--overwrite refused",
        lambda t: (t / "real").mkdir() or (t / "real" / "keep.bin").write_bytes(b"\0\1") and
        (t / "run").symlink_to(t / "real") or train(t, BASE, "--overwrite"),
        ("is not an mtkit run directory", "'keep.bin'")),
    "stale staging of a killed overwrite is removed": Case(
        "hold values such as",
        lambda t: staging(t, dead_pid()) or train(t, bad_npz_config(t), "--overwrite"),
        ("values such as 0.5",), uses_run=True,
        may_change=(".run.mtkit-new-*", ".run.mtkit-new-*/*"), absent=(".run.mtkit-new-*",)),
    "staging of a live process is kept": Case(
        "hold values such as",
        lambda t: staging(t, os.getpid()) or train(t, bad_npz_config(t), "--overwrite"),
        ("values such as 0.5",), uses_run=True),
    # ---- concurrency (locks)
    "run locked by a live process": Case(
        "is locked",
        lambda t: lock(t / "run", os.getpid()) or [
            "train", "--out", str(t / "run"), "--resume", "-q", "--set", "train.epochs=3"],
        ("'{t}/run' is locked", "is writing it", "choose another --out"), uses_run=True),
    "run locked from another host": Case(
        "is locked",
        lambda t: lock(t / "run", 1, host="elsewhere.example") or train(t, BASE, "--overwrite"),
        ("is locked", "host 'elsewhere.example'", "delete '{t}/run/.mtkit-lock'"), uses_run=True),
    "lock file still being written": Case(
        "is locked",
        lambda t: (t / "run" / ".mtkit-lock").write_text("") or train(t, BASE, "--overwrite"),
        ("is locked", "another process"), uses_run=True),
    "stale lock of a crashed run is taken over": Case(
        "already finished",
        lambda t: lock(t / "run", dead_pid()) or ["train", "--out", str(t / "run"), "--resume", "-q"],
        ("already finished all 2 epochs",), uses_run=True, may_change=("run/.mtkit-lock",),
        absent=("run/.mtkit-lock",)),
    "empty stale lock in an empty folder": Case(
        "hold values such as",
        lambda t: (t / "run").mkdir() or (t / "run" / ".mtkit-lock").write_text("") or
        os.utime(t / "run" / ".mtkit-lock", (1, 1)) or train(t, bad_npz_config(t)),
        ("values such as 0.5",), may_change=("run/.mtkit-lock",), absent=("run/.mtkit-lock",)),
    "two writers at once": Case(
        "is locked", lambda t: train(t, SLOW_CONFIG), ("is locked", "is writing it"),
        drive=_two_writers, may_change=("run", "run/*", "run/*/*")),
    # ---- names and encodings
    "train --out with an undecodable byte": Case(
        "are not UTF-8 text",
        lambda t: ["train", write(t, BASE), "--out", surrogate(t, "run"), "-q"],
        ("--out", "contains bytes that are not UTF-8 text", "\\xff")),
    "predict --out with an undecodable byte": Case(
        "are not UTF-8 text",
        lambda t: ["predict", str(onnx_model(t / "m.onnx")), x_npz(t, np.ones((2, 3))),
                   "--out", surrogate(t, "p")],
        ("--out", "contains bytes that are not UTF-8 text")),
    "export --out with an undecodable byte": Case(
        "are not UTF-8 text",
        lambda t: ["export", str(t / "run"), "--out", surrogate(t, "m") + ".onnx"],
        ("--out", "not UTF-8 text"), uses_run=True),
    "config path with an undecodable byte": Case(
        "are not UTF-8 text", lambda t: ["train", surrogate(t, "cfg"), "--out", str(t / "r")],
        ("config", "not UTF-8 text")),
    "task name with non-ASCII letters": Case(
        "must be an identifier",
        lambda t: train(t, changed("tasks", {"größe": {"head": "regression"}})),
        ("task name 'größe' must be an identifier", "ASCII")),
    "task named like the predict field 'source'": Case(
        "is reserved", lambda t: train(t, changed("tasks", {"source": {"head": "binary"}})),
        ("task name 'source' is reserved", "mtkit predict")),
    "task named like the decoder field 'sequence'": Case(
        "is reserved", lambda t: train(t, changed("tasks", {"sequence": {"head": "binary"}})),
        ("task name 'sequence' is reserved",)),
    "task name starting with a digit": Case(
        "must be an identifier",
        lambda t: train(t, changed("tasks", {"1st": {"head": "binary"}})), ("'1st'",)),
    "npz input array name with '/'": Case(
        "cannot name a model input",
        lambda t: train(t, npz_config(t, **{"x": np.zeros((40, 3), np.float32),
                                            "a/b": np.zeros((40, 2), np.float32)})),
        ("input 'a/b'", "cannot name a model input", "data.inputs")),
    "train.devices naming a GPU that does not exist": Case(
        "field 'train.devices'",
        lambda t: train(t, changed("train.devices", ["/gpu:3"],
                                   changed("train.strategy", "mirrored"))),
        ("field 'train.devices'", "'/gpu:3' does not exist on this machine", "/device:CPU:0")),
    # ---- numeric edge values
    "negative seed": Case(
        "invalid config —", lambda t: train(t, changed("train.seed", -1)),
        ("field 'train.seed'", "greater than or equal to 0")),
    "seed beyond 2**32": Case(
        "invalid config —", lambda t: train(t, changed("train.seed", 2**70)),
        ("field 'train.seed'", "less than or equal to 4294967295")),
    "learning rate NaN": Case(
        "invalid config —", lambda t: train(t, changed("train.learning_rate", float("nan"))),
        ("field 'train.learning_rate'",)),
    "export --atol nan keeps the good export": Case(
        "is not a valid tolerance", lambda t: ["export", str(t / "run"), "--atol", "nan"],
        ("--atol nan is not a valid tolerance", "Nothing was changed"), uses_run=True),
    "export --rtol negative": Case(
        "is not a valid tolerance", lambda t: ["export", str(t / "run"), "--rtol", "-1e-3"],
        ("--rtol -0.001 is not a valid tolerance",), uses_run=True),
    "export --max-metric-drop inf": Case(
        "is not a valid tolerance",
        lambda t: ["export", str(t / "run"), "--fp16", "--max-metric-drop", "inf"],
        ("--max-metric-drop inf",), uses_run=True),
    "evaluate --tolerance nan": Case(
        "is not valid", lambda t: ["evaluate", str(t / "run"), "--tolerance", "nan"],
        ("--tolerance nan is not valid",), uses_run=True),
    "npz class label inf": Case(
        "hold inf at row",
        lambda t: train(t, npz_config(t, kind=np.where(np.arange(40) == 7, np.inf,
                                                       np.arange(40) % 3))),
        ("labels of task 'kind' (train data) hold inf at row 7", "NaN")),
    "npz regression label -1e400": Case(
        "hold inf at row",
        lambda t: train(t, npz_config(t, tasks={"kind": {"head": "regression"}},
                                      kind=np.where(np.arange(40) == 3, float("-1e400"), 1.0))),
        ("hold -inf at row 3",)),
    "npz feature NaN names row and column": Case(
        "has NaN or infinite values",
        lambda t: train(t, npz_config(t, x=np.where(
            (np.arange(40)[:, None] == 5) & (np.arange(3) == 2), np.nan, 1.0).astype(np.float32))),
        ("input 'x'", "row 5, column 2")),
    "predict --batch-size 0": Case(
        "must be at least 1",
        lambda t: predict(t, onnx_model(t / "m.onnx"), x_npz(t, np.ones((2, 3)))) + [
            "--batch-size", "0"], ("batch_size must be at least 1",)),
    # ---- sizes and shapes
    "npz zero-width features (oneDNN abort)": Case(
        "zero-length axis",
        lambda t: train(t, npz_config(t, x=np.zeros((40, 0), np.float32))),
        ("input 'x'", "per-example shape (0,)", "zero-length axis")),
    "npz zero rows": Case(
        "is empty",
        lambda t: train(t, npz_config(t, x=np.zeros((0, 3), np.float32), kind=np.zeros(0))),
        ("the train split is empty",)),
    "predict on a zero-row npz": Case(
        "holds no rows",
        lambda t: predict(t, onnx_model(t / "m.onnx"), x_npz(t, np.zeros((0, 3), np.float32))),
        ("holds no rows", "nothing to predict"), absent=("preds.jsonl",)),
    "predict on a zero-width npz": Case(
        "but the model wants",
        lambda t: predict(t, onnx_model(t / "m.onnx"), x_npz(t, np.zeros((2, 0), np.float32))),
        ("has shape (2, 0)", "(batch, 3)"), absent=("preds.jsonl",)),
    "predict on a single value": Case(
        "is a single value",
        lambda t: predict(t, onnx_model(t / "m.onnx"), x_npz(t, np.float32(1))),
        ("is a single value",), absent=("preds.jsonl",)),
    "predict on a decompression bomb": Case(
        "decompression bomb",
        lambda t: predict(t, image_model(t / "m.onnx"),
                          str(png_header_only(t / "big.png", 40000, 40000))),
        ("big.png' is refused", "decompression bomb", "shrink the image"),
        absent=("preds.jsonl",)),
    "predict on a truncated image": Case(
        "cannot be read",
        lambda t: predict(t, image_model(t / "m.onnx"),
                          str(png_header_only(t / "tiny.png", 4, 4))),
        ("image file '{t}/tiny.png' cannot be read",), absent=("preds.jsonl",)),
    # ---- outputs that would overwrite what the user owns
    "export --out onto model.keras": Case(
        "does not end in .onnx",
        lambda t: ["export", str(t / "run"), "--out", str(t / "run" / "model.keras")],
        ("does not end in .onnx", "model.keras", "Nothing was changed"), uses_run=True),
    "export --out onto the run's config": Case(
        "does not end in .onnx",
        lambda t: ["export", str(t / "run"), "--out", str(t / "run" / "config.yaml"), "--no-check"],
        ("does not end in .onnx",), uses_run=True),
    "export --out onto a non-ONNX .onnx file": Case(
        "is not an ONNX model",
        lambda t: (t / "mine.onnx").write_text("my notes") and [
            "export", str(t / "run"), "--out", str(t / "mine.onnx")],
        ("'{t}/mine.onnx' exists and is not an ONNX model",), uses_run=True),
    "export whose report name is a user file": Case(
        "is not an mtkit export report",
        lambda t: (t / "m.report.json").write_text("[1, 2]") and [
            "export", str(t / "run"), "--out", str(t / "m.onnx"), "--no-check"],
        ("m.report.json", "is not an mtkit export report"), uses_run=True, absent=("m.onnx",)),
    "failed parity keeps the older export": Case(
        "export check failed",
        lambda t: ["export", str(t / "run"), "--rtol", "0", "--atol", "0"],
        ("export check failed", "the older export there is unchanged",
         "model.failed.report.json"), code=1, uses_run=True,
        may_change=("run/model.failed.report.json",)),
    "predict --out onto the model": Case(
        "predictions would replace it",
        lambda t: ["predict", str(onnx_model(t / "m.onnx")), x_npz(t, np.ones((2, 3))),
                   "--out", str(t / "m.onnx")],
        ("--out '{t}/m.onnx' is the model", "Nothing was changed")),
    "predict --out onto its input": Case(
        "predictions would replace it",
        lambda t: ["predict", str(onnx_model(t / "m.onnx")), x_npz(t, np.ones((2, 3))),
                   "--out", str(t / "x.npz")],
        ("is one of the inputs",)),
    "predict --out onto a user file": Case(
        "is not an mtkit predictions file",
        lambda t: (t / "notes.txt").write_text("keep me") and predict(
            t, onnx_model(t / "m.onnx"), x_npz(t, np.ones((2, 3))), out="notes.txt"),
        ("'{t}/notes.txt' exists and is not an mtkit predictions file",)),
    # ---- lying metadata and truncated files
    "ONNX metadata names an input the graph lacks": Case(
        "that the graph lacks",
        lambda t: predict(t, onnx_model(t / "m.onnx", edit={
            "mtkit.inputs": json.dumps({"pixels": {"shape": [3], "dtype": "float32"}})}),
            x_npz(t, np.ones((2, 3)))),
        ("metadata names input(s) 'pixels' that the graph lacks", "Re-export"),
        absent=("preds.jsonl",)),
    "evaluate with a config edited after training": Case(
        "was edited after training",
        lambda t: (t / "run" / "config.yaml").write_text(yaml.safe_dump(changed(
            "tasks.kind", {"head": "classification", "classes": 4}, SAFETY_CONFIG))) and [
            "evaluate", str(t / "run")],
        ("does not describe model", "task 'kind'", "edited after training"), uses_run=True),
    "export over a truncated older export": Case(
        "is not an ONNX model",
        lambda t: (t / "run" / "model.onnx").write_bytes(
            (t / "run" / "model.onnx").read_bytes()[:200]) and ["export", str(t / "run")],
        ("model.onnx' exists and is not an ONNX model",), uses_run=True),
    "resume with a truncated history.json": Case(
        "history.json' is damaged",
        lambda t: (t / "run" / "history.json").write_text('{"epochs": [') and [
            "train", "--out", str(t / "run"), "--resume", "-q", "--set", "train.epochs=3"],
        ("cannot resume", "history.json' is damaged"), uses_run=True),
    # ---- signals at each stage
    "SIGINT before the first checkpoint": Case(
        "interrupted before the first epoch finished",
        lambda t: train(t, SLOW_CONFIG), ("nothing was kept", "nothing to resume"),
        code=130, drive=signal_when(signal.SIGINT, _training, delay=0.5),
        lacks=("--resume",), absent=("run",)),
    "SIGTERM before the first checkpoint": Case(
        "interrupted before the first epoch finished",
        lambda t: train(t, SLOW_CONFIG), ("nothing was kept",), code=130,
        drive=signal_when(signal.SIGTERM, _training, delay=0.5),
        lacks=("--resume",), absent=("run",)),
    "SIGTERM during an overwrite keeps the old run": Case(
        "the new run was discarded",
        lambda t: train(t, SLOW_CONFIG, "--overwrite"),
        ("the new run was discarded", "'{t}/run' is unchanged"), code=130, uses_run=True,
        drive=signal_when(signal.SIGTERM, _staging, delay=0.5),
        absent=(".run.mtkit-new-*",)),
    "SIGTERM during export leaves no temp file": Case(
        "interrupted; nothing was written",
        lambda t: ["export", str(t / "run")], ("interrupted",), code=130, uses_run=True,
        drive=signal_when(signal.SIGTERM, lambda t: True, delay=3.0)),
    "after a SIGKILLed export the next export cleans up": Case(
        "", lambda t: _planted_temps(t) or ["export", str(t / "run")], ("wrote",), code=0,
        uses_run=True, may_change=("run/model.onnx", "run/model.report.json", "run/.*k1ll*"),
        absent=("run/.*k1ll.tmp.onnx",)),
}
