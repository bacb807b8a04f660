"""Dynamic batching: concurrent requests for one model → one onnxruntime call → split back.

Requests wait in a bounded queue. The batching task takes the oldest one, waits up to
``max_delay`` (from that request's arrival) for others until ``max_batch_size`` rows are
there, and runs them as one ``Predictor.predict`` call in its own thread, so the event
loop keeps reading requests meanwhile; requests that arrive during a call form the next
batch at once. Decoded rows are per example, so slicing the batch's predictions gives
each request exactly what ``Predictor.predict`` returns for its rows alone. Requests are
validated before they get here; should a merged call still fail, each request of that
batch is retried alone, so only the culprit fails.
"""

from __future__ import annotations

import asyncio
import collections
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mtkit.serve.metrics import Metrics

INLINE_SECONDS = 0.001
"""A call expected to take at most this long runs in the event loop itself: for small
models the two thread hand-offs (and the scheduler wake-ups they need on a busy machine)
cost more than the call. Longer calls go to the model's inference thread, so the event
loop keeps reading requests (and answering /healthz) meanwhile."""


class QueueFull(Exception):
    """The model's queue is at ``max_queue``: answer 503 with Retry-After."""


class DeadlineExceeded(Exception):
    """No answer within the request's deadline: answer 504."""


@dataclass
class Job:
    arrays: dict[str, np.ndarray]
    rows: int
    future: asyncio.Future
    arrived: float = field(default_factory=time.monotonic)


class Batcher:
    """The queue and the batching task of one model."""

    def __init__(self, name: str, predictor: Any, metrics: Metrics, *, max_batch_size: int,
                 max_delay_s: float, max_queue: int, batching: bool = True) -> None:
        self.name = name
        self.predictor = predictor
        self.max_batch_size = max_batch_size
        self.max_delay_s = max_delay_s if batching else 0.0
        self.max_queue = max_queue
        self.batching = batching
        self._queue: collections.deque[Job] = collections.deque()
        self._waiting_rows = 0
        self._seconds_per_row = float("inf")  # learnt from every call (moving average)
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"mtkit-serve-{name}")
        self._task: asyncio.Task | None = None
        self._rows = metrics.batch_rows.labels(name)
        self._requests = metrics.batch_requests.labels(name)
        self._inference = metrics.inference.labels(name)
        self._depth = metrics.queue_depth.labels(name)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=f"batcher-{self.name}")

    async def stop(self) -> None:
        """Finish what is queued, then end the task and the inference thread."""
        while self._queue and self._task and not self._task.done():
            await asyncio.sleep(0.01)
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=True)

    @property
    def depth(self) -> int:
        return len(self._queue)

    async def submit(self, arrays: dict[str, np.ndarray], rows: int, timeout_s: float) -> list[dict]:
        """Decoded predictions for ``arrays``; QueueFull or DeadlineExceeded otherwise."""
        if len(self._queue) >= self.max_queue:
            raise QueueFull
        loop = asyncio.get_running_loop()
        job = Job(arrays, rows, loop.create_future())
        self._queue.append(job)
        self._waiting_rows += rows
        self._depth.set(len(self._queue))
        # Wake the batching task only when it has something new to decide: it is idle, or
        # the batch it is gathering is now full (one timer, not one wake-up per request).
        if len(self._queue) == 1 or self._waiting_rows >= self.max_batch_size:
            self._wakeup.set()
        expiry = loop.call_later(timeout_s, self._expire, job)
        try:
            return await job.future
        finally:
            expiry.cancel()

    def _expire(self, job: Job) -> None:
        """The deadline passed: answer 504 and free the job's place if it still waits."""
        if job.future.done():
            return
        job.future.set_exception(DeadlineExceeded())
        try:
            self._queue.remove(job)
            self._waiting_rows -= job.rows
        except ValueError:
            pass  # already taken into a call; its result will be dropped
        self._depth.set(len(self._queue))

    def _take(self) -> list[Job]:
        """The oldest live jobs that fit in one call (always at least one)."""
        jobs: list[Job] = []
        total = 0
        while self._queue:
            job = self._queue[0]
            if jobs and (not self.batching or total + job.rows > self.max_batch_size):
                break
            self._queue.popleft()
            self._waiting_rows -= job.rows
            if job.future.done():  # expired while waiting: nothing to compute
                continue
            jobs.append(job)
            total += job.rows
        self._depth.set(len(self._queue))
        return jobs

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
            if self.batching and self._waiting_rows < self.max_batch_size:
                left = self._queue[0].arrived + self.max_delay_s - time.monotonic()
                if left > 0:  # gather company until the batch is full or the delay is up
                    expired = [False]

                    def expire(flag: list[bool] = expired) -> None:
                        flag[0] = True
                        self._wakeup.set()

                    self._wakeup.clear()
                    timer = loop.call_later(left, expire)
                    while self._queue and self._waiting_rows < self.max_batch_size \
                            and not expired[0]:
                        await self._wakeup.wait()
                        self._wakeup.clear()
                    timer.cancel()
            jobs = self._take()
            if not jobs:
                continue
            rows = sum(j.rows for j in jobs)
            try:
                if self._seconds_per_row * rows <= INLINE_SECONDS:
                    results = self._predict(jobs)  # cheaper than two thread hand-offs
                else:
                    results = await loop.run_in_executor(self._executor, self._predict, jobs)
            except Exception as exc:  # noqa: BLE001 - never let the batching task die
                results = [exc] * len(jobs)
            for job, result in zip(jobs, results, strict=True):
                if job.future.done():
                    continue
                if isinstance(result, BaseException):
                    job.future.set_exception(result)
                else:
                    job.future.set_result(result)

    def _predict(self, jobs: list[Job]) -> list[list[dict] | BaseException]:
        """Runs in the inference thread: one call for all jobs, split back per job."""
        start = time.perf_counter()
        try:
            if len(jobs) == 1:
                out: list[list[dict] | BaseException] = [self.predictor.predict(jobs[0].arrays)]
            else:
                feed = {k: np.concatenate([j.arrays[k] for j in jobs]) for k in jobs[0].arrays}
                rows = self.predictor.predict(feed)
                out, at = [], 0
                for j in jobs:
                    out.append(rows[at:at + j.rows])
                    at += j.rows
        except Exception:  # noqa: BLE001 - isolate the culprit: each job alone
            out = []
            for j in jobs:
                try:
                    out.append(self.predictor.predict(j.arrays))
                except Exception as exc:  # noqa: BLE001 - reported to that request only
                    out.append(exc)
        took = time.perf_counter() - start
        rows = sum(j.rows for j in jobs)
        per_row = took / rows
        self._seconds_per_row = per_row if self._seconds_per_row == float("inf") \
            else 0.8 * self._seconds_per_row + 0.2 * per_row
        self._inference.observe(took)
        self._rows.observe(rows)
        self._requests.observe(len(jobs))
        return out
