"""``mtkit compare CONFIG``: single-task baselines against multitask weightings, with Δm;
``mtkit report RUN``: the training diagnostics of one run as a picture."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mtkit.commands._common import run_guarded


def compare(
    config: Annotated[Path, typer.Argument(help="YAML config with two or more tasks.")],
    weightings: Annotated[str, typer.Option(
        help="Comma-separated weightings to try (e.g. sum,uncertainty,pcgrad).")] = "sum",
    seeds: Annotated[str, typer.Option(help="Comma-separated seeds (e.g. 0,1,2).")] = "0",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for runs and report.")] = Path(
        "runs/compare"),
    set_: Annotated[list[str] | None, typer.Option(
        "--set", "-s", help="Override a field of every run: --set train.epochs=5.")] = None,
    jobs: Annotated[int, typer.Option(help="Runs trained at once (separate processes).")] = 1,
) -> None:
    """Does multitask help, and which weighting? Single-task baselines vs weightings, Δm.

    Trains one single-task baseline per task and the multitask model per weighting, per
    seed, on the same splits; writes compare.md, compare.json and compare.png. Rerun the
    same command to continue an interrupted comparison."""

    def go() -> None:
        from mtkit.comparison import compare as run_compare
        from mtkit.comparison.report import markdown
        from mtkit.comparison.runner import parse_list
        from mtkit.errors import ConfigError

        if jobs < 1:
            raise ConfigError(f"--jobs {jobs}: give 1 or more.")
        result = run_compare(config, parse_list(weightings, "--weightings"),
                             parse_list(seeds, "--seeds", int), out, list(set_ or []), jobs)
        typer.echo(markdown(result.report))
        typer.echo(f"report written to {out / 'compare.md'} (and compare.json, compare.png)")

    run_guarded(go)


def report(
    run: Annotated[Path, typer.Argument(help="A run directory.")],
) -> None:
    """Plot a run's training diagnostics into RUN/diagnostics.png.

    Per-task trunk gradient norms, gradient cosines and task weights, recorded with
    train.diagnostics_rows > 0 (mtkit compare turns them on)."""

    def go() -> None:
        from mtkit.comparison.diagnostics_plot import plot_run

        typer.echo(f"written {plot_run(run)}")

    run_guarded(go)
