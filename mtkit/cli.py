"""The ``mtkit`` command line (typer). Heavy modules are imported inside the commands that
need them, so ``mtkit --help`` and ``mtkit plugins`` never import TensorFlow."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from mtkit.commands._common import Interrupted, check_path_text
from mtkit.commands._common import run_guarded as guarded
from mtkit.commands.compare import compare, report
from mtkit.commands.evaluate import evaluate
from mtkit.commands.export import export
from mtkit.commands.new_plugin import new_plugin
from mtkit.commands.plugins import app as plugins_app
from mtkit.commands.predict import predict
from mtkit.commands.serve import serve
from mtkit.errors import MtkitError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

app = typer.Typer(
    name="mtkit",
    help="Multitask deep learning for TensorFlow: shared trunk, per-task heads, masked "
    "losses, pluggable loss weighting, ONNX export.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def default_config() -> Path:
    """The demo config of an installed dataset plugin that ships one (``demo_config``; the
    first by package and name), else the built-in demo."""
    from mtkit.api import DEMO_CONFIG
    from mtkit.registry import BUILTIN_PROVIDER, get_registry

    demos = sorted((e.provider, e.name, e.cls.demo_config) for e in get_registry().entries
                   if e.kind == "dataset" and e.provider != BUILTIN_PROVIDER
                   and getattr(e.cls, "demo_config", None))
    return Path(demos[0][2]) if demos else DEMO_CONFIG


@app.command()
def train(
    config: Annotated[Path | None, typer.Argument(help="YAML config; default: the demo.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory.")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", "-s", help="Override a field: --set train.epochs=5 (repeatable).")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing run directory.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    strategy: Annotated[str | None, typer.Option(
        help="auto, none, mirrored or multi-worker (reads TF_CONFIG); default: the config's "
        "train.strategy.")] = None,
    init_from: Annotated[Path | None, typer.Option(
        "--init-from", help="Start from the weights of a trained run (matched by layer name "
        "and shape); see init_from.json in the new run.")] = None,
) -> None:
    """Train a multitask model from a config into a run directory."""

    def go() -> None:
        from mtkit import api, rundir

        check_path_text(config, "config")
        check_path_text(out, "--out")
        if resume and out is None:
            raise MtkitError("--resume needs --out RUN, the run directory to continue.")
        cfg = config
        if cfg is None:
            cfg = out / rundir.CONFIG if resume and (out / rundir.CONFIG).is_file() \
                else default_config()
        run = out or Path("runs") / cfg.stem
        overrides = list(set_ or []) + ([f"train.strategy={strategy}"] if strategy else [])
        try:
            result = api.train(cfg, run, overrides=overrides, resume=resume,
                               overwrite=overwrite, quiet=quiet, init_from=init_from)
        except KeyboardInterrupt:
            from mtkit.run_guard import interrupted_message

            raise Interrupted(interrupted_message(run, overwrite)) from None
        if result.warm_start is not None:
            typer.echo(result.warm_start.summary())
        typer.echo(f"run written to {result.run_dir}")

    guarded(go)


app.command()(export)
app.command()(predict)
app.command()(evaluate)
app.command()(serve)
app.command("new-plugin")(new_plugin)
app.command()(compare)
app.command()(report)
app.add_typer(plugins_app)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="mtkit")


if __name__ == "__main__":
    sys.exit(main())
