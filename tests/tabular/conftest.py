"""One trained and exported table model shared by the tabular tests (trained once)."""

from __future__ import annotations

import pytest

from tests.tabular.helpers import config, raw_rows, write_csv


@pytest.fixture(scope="session")
def table_run(tmp_path_factory):
    import mtkit
    from mtkit.export.pipeline import export_run

    t = tmp_path_factory.mktemp("table")
    csv = write_csv(t / "rows.csv", raw_rows())
    result = mtkit.train(config(csv), out=t / "run", quiet=True)
    exported = export_run(t / "run")
    return {"dir": t, "csv": csv, "result": result, "export": exported}
