"""Fixtures for the mtkit-multidigit tests; helpers live in multidigit_helpers.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # pytest runs with --import-mode=importlib: make siblings importable
    sys.path.insert(0, str(HERE))


@pytest.fixture(scope="session")
def svhn_root(tmp_path_factory) -> Path:
    """A tiny SVHN format 1 download: train/ (24 images) and test/ (8 images)."""
    from svhn_fixture import make_folder

    root = tmp_path_factory.mktemp("svhn")
    make_folder(root / "train", 24, seed=0)
    make_folder(root / "test", 8, seed=1)
    return root
