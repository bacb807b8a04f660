"""A real ``mtkit serve`` process on a free loopback port, started with TensorFlow and Keras
unimportable (so every server test is also a no-TensorFlow test), plus HTTP helpers."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.runtime.test_tf_free import BLOCK

LAUNCH = BLOCK + """
from mtkit.cli import main
sys.argv = ["mtkit", *sys.argv[1:]]
main()
"""


class LiveServer:
    """``mtkit serve ARGS --host 127.0.0.1 --port 0``; ``url`` once it is ready."""

    def __init__(self, *args: str, timeout: float = 60) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, "serve", *args, "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = self._wait_ready(timeout)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def _wait_ready(self, timeout: float) -> str:
        end = time.monotonic() + timeout
        url = None
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mtkit serve exited with {self.proc.returncode}:\n{self.output}")
            if url is None:
                for line in self.lines:
                    if " on http://" in line:
                        url = line.split(" on ", 1)[1].split()[0]
            if url is not None:
                try:
                    if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                        return url
                except httpx.TransportError:
                    pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mtkit serve was not ready within {timeout} s:\n{self.output}")

    def predict(self, model: str, body: Any = None, content: bytes | None = None,
                timeout: float = 30) -> httpx.Response:
        return httpx.post(f"{self.url}/v1/models/{model}:predict", json=body, content=content,
                          timeout=timeout)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10)

    def metric(self, name: str, **labels: str) -> float:
        """One sample's value from /metrics (0 when absent)."""
        from prometheus_client.parser import text_string_to_metric_families

        for family in text_string_to_metric_families(self.get("/metrics").text):
            for s in family.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    return s.value
        return 0.0

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        return self.proc.returncode


def concurrently(fns: list, timeout: float = 60) -> list:
    """Call every fn in its own thread, started together; their results in order."""
    barrier = threading.Barrier(len(fns))
    out: list = [None] * len(fns)

    def go(i: int) -> None:
        barrier.wait()
        try:
            out[i] = fns[i]()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            out[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return out


def model_arg(path: Path, name: str = "tiny") -> str:
    return f"{name}={path}"
