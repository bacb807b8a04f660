"""Choose onnxruntime execution providers, using a GPU only when it really works.

onnxruntime-gpu lists ``CUDAExecutionProvider`` whether or not the machine has a GPU
and the CUDA/cuDNN libraries; asking for it anyway makes onnxruntime print an error and
fall back to the CPU. So ``auto`` first checks, silently, for an NVIDIA driver with a
device and for the libraries, then confirms the session really runs on CUDA.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mtkit.errors import MtkitError

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
CHOICES = ("auto", "cpu", "cuda", "tensorrt")
GPU_HELP = ("A GPU needs the onnxruntime-gpu build (the default install on Linux x86_64) plus "
            "the NVIDIA runtime libraries it was built against: `pip install "
            "'onnxruntime-gpu[cuda,cudnn]'` installs them from PyPI (see docs/export.md).")


def _cuda_libraries(ort: Any) -> list[str]:
    """Shared libraries the CUDA provider loads, for the CUDA major this build targets."""
    try:
        from onnxruntime.capi import build_and_package_info as info

        major = str(getattr(info, "cuda_version", "") or "").split(".")[0]
    except ImportError:
        major = ""
    if not major:
        return []
    return [f"libcudart.so.{major}", f"libcublasLt.so.{major}", f"libcublas.so.{major}",
            "libcudnn.so.9"]


def cuda_problem(ort: Any) -> str | None:
    """Why CUDA cannot work here (None when it can), without printing anything."""
    if CUDA not in ort.get_available_providers():
        return (f"this onnxruntime ({ort.__version__}, {ort.get_device()} build) has no CUDA "
                "provider")
    if not sys.platform.startswith("linux"):
        return None  # no cheap library probe elsewhere; the session check decides
    try:
        driver = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return "no NVIDIA driver is installed (libcuda.so.1 not found)"
    count = ctypes.c_int(0)
    if driver.cuInit(0) != 0 or driver.cuDeviceGetCount(ctypes.byref(count)) != 0 \
            or count.value == 0:
        return "the NVIDIA driver reports no usable GPU"
    try:  # pip-installed NVIDIA libraries (onnxruntime-gpu[cuda,cudnn]) are found this way
        with quiet_stdio():
            ort.preload_dlls()
    except Exception:  # noqa: BLE001 - best effort: the probe below reports what is missing
        pass
    for lib in _cuda_libraries(ort):
        try:
            ctypes.CDLL(lib)
        except OSError:
            return f"the CUDA library {lib} cannot be loaded"
    return None


@contextmanager
def quiet_stdio() -> Iterator[None]:
    """Point fds 1 and 2 at /dev/null: onnxruntime's C++ code prints around Python."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def requested(provider: str, ort: Any) -> list[str]:
    """Provider list to try for ``provider`` (``auto``/``cpu``/``cuda``/``tensorrt``).

    ``cuda``/``tensorrt`` raise MtkitError when they cannot work here; ``auto`` quietly
    falls back to the CPU.
    """
    name = provider.lower()
    if name not in CHOICES:
        raise MtkitError(f"provider '{provider}' is unknown; use one of {', '.join(CHOICES)}.")
    if name == "cpu":
        return [CPU]
    problem = cuda_problem(ort)
    if name == "auto":
        return [CPU] if problem else [CUDA, CPU]
    if problem:
        raise MtkitError(f"provider='{name}' cannot be used: {problem}. {GPU_HELP} Or use "
                         "provider 'cpu' (or 'auto', which picks the GPU only when it works).")
    if name == "tensorrt":
        if TENSORRT not in ort.get_available_providers():
            raise MtkitError(f"provider='tensorrt' cannot be used: this onnxruntime has no "
                             f"TensorRT provider. {GPU_HELP}")
        return [TENSORRT, CUDA, CPU]
    return [CUDA, CPU]


def confirm(provider: str, wanted: list[str], session: Any) -> None:
    """Raise if an explicitly requested GPU provider did not make it into the session."""
    if provider.lower() in ("cuda", "tensorrt") and session.get_providers()[0] != wanted[0]:
        raise MtkitError(f"provider='{provider}' was requested, but onnxruntime could not start "
                         f"{wanted[0]} (the session fell back to {session.get_providers()}). "
                         f"{GPU_HELP}")
