"""The run directory as a guarded object: what mtkit may delete, who may write, and when.

Rules (docs/errors.md, "Run directories"):

* mtkit recognises its own runs by a marker file (``.mtkit-run``; runs written before the
  marker existed are recognised by their ``config.yaml`` + ``run.json``), and deletes only
  entries it writes itself (``RUN_ENTRIES``). A folder holding anything else is never
  deleted, not even with ``--overwrite``.
* ``--overwrite`` builds the new run in a staging folder beside the old one and swaps the
  two only when the new run finished; if anything fails first, the staging folder is
  removed and the old run is left exactly as it was.
* A lock file (``.mtkit-lock``: pid and host) makes a second writer fail fast; a lock whose
  process is dead (same host) is stale and taken over.
* ``--resume`` on a finished run is refused and changes nothing, unless the config asks for
  more epochs than the run has (and early stopping did not end it).

Standard library only (no TensorFlow): the checks run before any heavy import.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtkit import rundir
from mtkit.errors import MtkitError

MARKER = ".mtkit-run"
LOCK = ".mtkit-lock"
STAGING = ".mtkit-new-"
ASIDE = ".mtkit-old-"
UNREADABLE_LOCK_GRACE_S = 10.0
"""A lock file that cannot be parsed is taken as held for this long (its writer may be
between creating and filling it), then as stale (its writer died in between)."""

RUN_ENTRIES = (
    rundir.CONFIG, rundir.MODEL, rundir.HISTORY, rundir.METRICS, rundir.CURVES, rundir.INFO,
    rundir.CHECKPOINTS, "tensorboard", MARKER, LOCK,
    "features.yaml",  # a table run's schema (mtkit.tabular.run_files)
    "model.onnx", "model.fp16.onnx", "model.int8.onnx",
    "model.report.json", "model.fp16.report.json", "model.int8.report.json",
    "model.failed.report.json", "model.fp16.failed.report.json", "model.int8.failed.report.json",
)
"""Names mtkit itself writes at the top of a run directory (plus atomic-write temp files)."""
TEMP_PATTERNS = (".*.tmp*",)


def _is_own_entry(name: str) -> bool:
    return name in RUN_ENTRIES or any(fnmatch.fnmatch(name, p) for p in TEMP_PATTERNS)


def foreign_entries(folder: Path) -> list[str]:
    """Entries of ``folder`` that mtkit did not write (sorted names)."""
    return sorted(p.name for p in folder.iterdir() if not _is_own_entry(p.name))


def is_run(folder: Path) -> bool:
    """``folder`` is an mtkit run directory (marker, or config.yaml + run.json of older runs)."""
    return folder.is_dir() and ((folder / MARKER).is_file() or (
        (folder / rundir.CONFIG).is_file() and (folder / rundir.INFO).is_file()))


def _listing(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def has_checkpoint(folder: Path) -> bool:
    """True when ``folder`` holds a TensorFlow checkpoint index (resumable)."""
    return (folder / rundir.CHECKPOINTS / "checkpoint").is_file()


# ------------------------------------------------------------------------------ locking

def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except (OverflowError, ValueError):
        return False
    return True


@dataclass
class LockHolder:
    pid: int | None
    host: str | None
    since: float | None

    @property
    def stale(self) -> bool:
        return self.pid is not None and self.host == socket.gethostname() and \
            not _pid_alive(self.pid)


def read_lock(path: Path) -> LockHolder | None:
    """The holder recorded in lock file ``path``; None when it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LockHolder(int(data["pid"]), str(data["host"]), float(data.get("since", 0)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class RunLock:
    """An exclusive lock file in a folder; ``acquire`` fails fast if a live process holds it."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK
        self.held = False

    def _refuse(self, holder: LockHolder) -> None:
        who = (f"process {holder.pid} on host '{holder.host}'" if holder.pid is not None
               else "another process")
        since = (f" since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(holder.since))}"
                 if holder.since else "")
        raise MtkitError(
            f"run directory '{self.path.parent}' is locked: {who} is writing it{since}. "
            "Two runs in one folder would mix their histories and checkpoints; wait for it to "
            "finish or choose another --out. If that process no longer runs (it crashed on "
            f"another machine), delete '{self.path}'.") from None

    def _live_holder(self) -> LockHolder | None:
        """The live holder of an existing lock file; removes a stale one and returns None."""
        holder = read_lock(self.path)
        if holder is None:
            try:
                age = time.time() - self.path.stat().st_mtime
            except FileNotFoundError:
                return None
            if age <= UNREADABLE_LOCK_GRACE_S:
                return LockHolder(None, None, None)
            self.path.unlink(missing_ok=True)  # its writer died while writing it
            return None
        if holder.stale:
            self.path.unlink(missing_ok=True)  # left by a crashed run: take it over
            return None
        return holder

    def probe(self) -> None:
        """Refuse now if another live process holds the lock (takes nothing)."""
        if self.path.is_file():
            holder = self._live_holder()
            if holder is not None and not (holder.pid == os.getpid()
                                           and holder.host == socket.gethostname()):
                self._refuse(holder)

    def acquire(self) -> None:
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._live_holder()
                if holder is not None:
                    self._refuse(holder)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(),
                           "since": time.time()}, f)
            self.held = True
            return
        raise MtkitError(f"cannot take the lock '{self.path}': it keeps changing; another "
                         "mtkit process is starting in the same folder. Choose another --out.")

    def release(self) -> None:
        if self.held:
            holder = read_lock(self.path)
            if holder is not None and holder.pid == os.getpid():
                self.path.unlink(missing_ok=True)
            self.held = False


def write_marker(folder: Path) -> None:
    from mtkit import __version__

    rundir.write_json(folder / MARKER, {"mtkit_run": 1, "mtkit_version": __version__,
                                        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})


# ------------------------------------------------------------------------ the run guard

@dataclass
class RunGuard:
    """Check, lock, stage and commit one training run's directory.

    ``path`` is where the run writes: ``out`` itself, or a staging folder beside it when
    ``--overwrite`` replaces an existing run. Use ``with guard.writing(): ...``: on
    success the staging folder replaces the old run; on failure the staging folder (or a
    fresh run that never finished an epoch) is removed and an old run stays untouched.
    """

    out: Path
    resume: bool = False
    overwrite: bool = False
    epochs: int | None = None
    path: Path = field(init=False)
    staging: bool = field(init=False, default=False)
    fresh: bool = field(init=False, default=False)
    created: bool = field(init=False, default=False)
    _lock: RunLock | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.path = self.out

    # -- checks, before anything is written
    def check(self) -> None:
        """Refuse every state of ``out`` that this command must not touch; writes nothing."""
        run = self.out
        if self.resume and self.overwrite:
            raise MtkitError("--resume and --overwrite exclude each other: --resume continues the "
                             f"run in '{run}', --overwrite replaces it; pass one of them.")
        if run.exists() and not run.is_dir():
            raise MtkitError(f"--out '{run}' is a file; a run directory is a folder: choose "
                             "another --out.")
        if run.is_dir():
            RunLock(run).probe()  # a live writer: say so before anything else
        if self.resume:
            self._check_resume()
            return
        content = [p.name for p in run.iterdir() if p.name != LOCK] if run.is_dir() else []
        if not content:
            return
        if not self.overwrite:
            what = "an mtkit run" if is_run(run) else "not empty"
            raise MtkitError(
                f"run directory '{run}' already exists and is {what}; pass --resume to "
                "continue that run, --overwrite to replace it, or choose another --out.")
        if not is_run(run):
            raise MtkitError(
                f"--overwrite refused: '{run}' is not an mtkit run directory (it holds "
                f"{_listing(sorted(content))} and no {MARKER} marker), and mtkit deletes only "
                "runs it made. Nothing was changed; choose another --out (a new or empty folder).")
        foreign = foreign_entries(run)
        if foreign:
            raise MtkitError(
                f"--overwrite refused: run directory '{run}' also holds {_listing(foreign)}, "
                "which mtkit did not write; replacing the run would delete them. Move them out "
                "of the folder, or choose another --out. Nothing was changed.")

    def _check_resume(self) -> None:
        run = self.out
        if not (run / rundir.CONFIG).is_file():
            raise MtkitError(f"cannot resume: '{run}' holds no {rundir.CONFIG}; it is not an "
                             "mtkit run directory (start a new run without --resume).")
        metrics = run / rundir.METRICS
        if not metrics.is_file():
            return
        try:
            done = rundir.read_json(metrics)
            ran = int(done.get("epochs_run", 0))
            stopped = bool(done.get("stopped_early"))
        except (ValueError, TypeError, AttributeError, OSError):
            raise MtkitError(
                f"cannot resume: '{metrics}' is damaged, so whether the run finished (and "
                "whether its model.keras is the best epoch's) cannot be told. Nothing was "
                "changed; restore the file, or start a new run (another --out, or "
                "--overwrite).") from None
        if stopped:
            raise MtkitError(
                f"cannot resume: the run in '{run}' already finished; early stopping ended it "
                f"after epoch {ran}, and its model.keras is the best epoch's. Nothing was changed. "
                "To train differently, start a new run (another --out, or --overwrite).")
        if self.epochs is not None and self.epochs <= ran:
            raise MtkitError(
                f"cannot resume: the run in '{run}' already finished all {ran} epochs. Nothing "
                f"was changed. To train it further, ask for more epochs: --resume --set "
                f"train.epochs={ran + 1} (or more).")
        if not has_checkpoint(run):
            raise MtkitError(
                f"cannot resume: the run in '{run}' finished {ran} epochs but holds no "
                f"checkpoint ({rundir.CHECKPOINTS}/ is missing), so it cannot continue where it "
                "ended. Nothing was changed; start a new run (another --out, or --overwrite).")

    # -- writing
    def _staging_path(self) -> Path:
        return self.out.parent / f".{self.out.name}{STAGING}{os.getpid()}"

    def _clean_stale_staging(self) -> None:
        """Staging folders of killed ``--overwrite`` runs (their pid is dead)."""
        parent = self.out.parent
        if not parent.is_dir():
            return
        for p in parent.glob(f".{self.out.name}{STAGING}*"):
            pid = p.name.rsplit("-", 1)[-1]
            if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)) \
                    and (p / MARKER).is_file():
                shutil.rmtree(p, ignore_errors=True)

    def begin(self) -> None:
        """Take the lock and create the folder the run writes to (after ``check``)."""
        self._clean_stale_staging()
        run = self.out
        if not run.exists():
            run.mkdir(parents=True)
            self.created = True
        self._lock = RunLock(run)
        self._lock.acquire()
        try:
            self.check()  # again, under the lock: the folder may have changed meanwhile
        except BaseException:
            self._release()
            raise
        if self.resume:
            rundir.remove_partial_files(run)  # temp files of writes cut short by a killed run
            if not (run / MARKER).is_file():
                write_marker(run)
            return
        if [p for p in run.iterdir() if p.name != LOCK]:  # overwrite of a checked run
            self.staging = True
            self.path = self._staging_path()
            if self.path.exists():
                shutil.rmtree(self.path)
            self.path.mkdir()
        self.fresh = True
        write_marker(self.path)

    def commit(self) -> None:
        """The run finished: put a staged run in place of the old one; release the lock."""
        try:
            if self.staging:
                aside = self.out.parent / f".{self.out.name}{ASIDE}{os.getpid()}"
                os.replace(self.out, aside)
                try:
                    os.replace(self.path, self.out)
                except BaseException:
                    os.replace(aside, self.out)
                    raise
                shutil.rmtree(aside, ignore_errors=True)
                self.path = self.out
                self.staging = False
                self._lock = None  # it went with the old run
        finally:
            self._release()

    def abort(self) -> None:
        """The run failed: drop a staging folder, or a fresh run with no finished epoch."""
        try:
            if self.staging:
                shutil.rmtree(self.path, ignore_errors=True)
            elif self.fresh and not (self.path / rundir.HISTORY).exists():
                for p in self.path.iterdir():
                    if _is_own_entry(p.name) and p.name != LOCK:
                        if p.is_dir() and not p.is_symlink():
                            shutil.rmtree(p, ignore_errors=True)
                        else:
                            p.unlink(missing_ok=True)
        finally:
            self._release()
            if self.created and self.out.is_dir() and not any(self.out.iterdir()):
                self.out.rmdir()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @contextlib.contextmanager
    def writing(self) -> Iterator[Path]:
        """check → lock → (stage) → yield the write path → commit, or abort on any error."""
        self.check()
        self.begin()
        try:
            yield self.path
        except BaseException as exc:
            staged = self.staging
            self.abort()
            if staged and isinstance(exc, MtkitError):
                exc.args = (f"{exc} (--overwrite: the new run was discarded; the previous run in "
                            f"'{self.out}' is unchanged.)",)
            raise
        self.commit()


def interrupted_message(out: Path, overwrite: bool) -> str:
    """What to tell a user whose ``mtkit train`` was interrupted (Ctrl-C, SIGTERM)."""
    if overwrite and is_run(out):
        return (f"interrupted; the new run was discarded and the previous run in '{out}' is "
                "unchanged.")
    if has_checkpoint(out):
        return (f"interrupted; the run keeps its last finished epoch: continue it with "
                f"`mtkit train --out {out} --resume`.")
    return ("interrupted before the first epoch finished, so nothing was kept and there is "
            "nothing to resume; start the run again.")


def describe(out: Path) -> dict[str, Any]:
    """What the guard sees in ``out`` (for messages and tests)."""
    return {"exists": out.exists(), "run": is_run(out),
            "foreign": foreign_entries(out) if out.is_dir() else []}
