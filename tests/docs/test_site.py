"""The documentation site builds with ``mkdocs build --strict``: no broken link or anchor, no
page missing from the nav, no nav entry without its page. (Never add ``--quiet``: it hides
the warnings that strict mode counts, and the build passes whatever is broken.)"""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from tests.docs.markdown_blocks import ROOT


def _nav_pages(nav) -> list[str]:
    pages = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_nav_lists_every_page():
    # mkdocs.yml holds only plain YAML (no !!python tags), so safe_load reads it
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    on_disk = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert sorted(_nav_pages(config["nav"])) == on_disk


def test_site_builds_strictly(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for page in ("index.html", "plugins/index.html", "cli/index.html", "errors/index.html"):
        assert (tmp_path / page).is_file(), page
    assert "register_datasets" in (tmp_path / "plugins" / "index.html").read_text(encoding="utf-8")
