"""Progress display: a rich progress bar with per-task losses on a terminal, one summary
line per epoch otherwise (logs, CI)."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress


class Progress:
    def __init__(self, tasks: list[str], quiet: bool = False) -> None:
        self.tasks = tasks
        self.quiet = quiet
        self.console = Console(stderr=True)
        self.live = self.console.is_terminal and not quiet
        self.bar = RichProgress(
            TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("{task.fields[losses]}"),
            console=self.console, transient=True, disable=not self.live,
        )
        self.handle = None

    def __enter__(self) -> Progress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.__exit__(*exc)

    def start_epoch(self, epoch: int, epochs: int, steps: int) -> None:
        if self.handle is not None:
            self.bar.remove_task(self.handle)
        self.handle = self.bar.add_task("train", total=steps, epoch=f"{epoch}/{epochs}",
                                        losses="")

    def advance(self, losses: dict[str, float], steps: int = 1) -> None:
        text = " ".join(f"{k}={v:.3f}" for k, v in losses.items())
        self.bar.update(self.handle, advance=steps, losses=text)

    def end_epoch(self, record: dict[str, Any]) -> None:
        if self.quiet:
            return
        parts = [f"epoch {record['epoch']}", f"{record['seconds']:.1f}s"]
        for split in ("train", "val"):
            if split in record:
                losses = " ".join(f"{k}={v['loss']:.4f}" for k, v in record[split].items())
                parts.append(f"{split}: {losses}")
        self.console.print(" | ".join(parts), highlight=False)

    def summary(self, metrics: dict[str, Any]) -> None:
        if self.quiet or "tasks" not in metrics:
            return
        self.console.print(f"{metrics['split']} metrics:", highlight=False)
        for task, row in metrics["tasks"].items():
            vals = " ".join(f"{k}={v:.4f}" for k, v in row.items()
                            if isinstance(v, float) and k != "labelled")
            self.console.print(f"  {task}: {vals}", highlight=False)
        for k, v in metrics.get("dataset", {}).items():
            self.console.print(f"  {k}: {v:.4f}", highlight=False)
        for name, scores in metrics.get("sources", {}).items():  # a task mixture
            vals = [f"{t}.{k}={v:.4f}" for t, row in scores["tasks"].items()
                    for k, v in row.items() if isinstance(v, float) and k != "loss"]
            vals += [f"{k}={v:.4f}" for k, v in scores["dataset"].items() if isinstance(v, float)]
            self.console.print(f"  source {name}: {' '.join(vals)}", highlight=False)
        sys.stderr.flush()
