"""The Python API, mirroring the CLI: ``train``, ``build_model``, ``load_config``, ``plan``.

Names: ``plan(config, overrides)`` loads and validates a config (path, dict or Config) into
a :class:`~mtkit.planning.Plan`: every plugin looked up and instantiated with its validated
params, nothing built or trained. ``build_model(config, overrides)`` goes one step further,
to the untrained Keras model (it wraps ``mtkit.assembly.assemble``, which takes a Plan and
the data's input specs). ``train`` runs the whole thing into a run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mtkit.config import Config, load_config
from mtkit.planning import Plan, resolve_plugins

DEMO_CONFIG = Path(__file__).with_name("demo.yaml")


def plan(config: str | Path | dict[str, Any] | Config | None = None,
         overrides: list[str] | None = None) -> Plan:
    """Validate a config (path, dict or Config; None = the built-in demo) into a Plan."""
    if isinstance(config, Config):
        return resolve_plugins(config, "<config>")
    source = DEMO_CONFIG if config is None else config
    cfg = load_config(source, overrides)
    return resolve_plugins(cfg, str(source) if not isinstance(source, dict) else "<config>")


def train(config: str | Path | dict[str, Any] | Config | None = None,
          out: str | Path = "runs/latest", overrides: list[str] | None = None,
          resume: bool = False, overwrite: bool = False, quiet: bool = False,
          init_from: str | Path | None = None, data: Any = None):
    """Train a multitask model; returns a ``RunResult`` (run_dir, history, metrics, model).

    ``overrides`` are ``--set`` strings (``["train.epochs=3"]``). With ``resume=True`` and
    ``config=None`` the run directory's own config is used. ``init_from`` (a run directory)
    starts from that run's weights, matched by layer name and shape. ``data``: a pandas
    DataFrame for a config with ``data: {dataset: dataframe}`` (the run keeps a copy as
    RUN/data.parquet, which export and resume read).
    """
    from mtkit import rundir
    from mtkit.training.loop import run_training

    if resume and config is None and (Path(out) / rundir.CONFIG).is_file():
        config = Path(out) / rundir.CONFIG
    p = plan(config, overrides)
    if data is not None:
        from mtkit.builtin.datasets.dataframe import attach

        attach(p, data, str(out))
    return run_training(p, out, resume=resume, overwrite=overwrite, quiet=quiet,
                        init_from=Path(init_from) if init_from else None)


def build_model(config: str | Path | dict[str, Any] | Config | None = None,
                overrides: list[str] | None = None) -> Any:
    """The untrained Keras model a config describes (data is read to size the inputs)."""
    from mtkit.assembly import assemble
    from mtkit.dataprep import prepare
    from mtkit.tf_import import import_tensorflow

    p = plan(config, overrides)
    _, specs = prepare(p)
    import_tensorflow()
    return assemble(p, specs).model
