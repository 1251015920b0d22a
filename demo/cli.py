"""`sessionheat demo`: the demo job as a command, added to the CLI by the `sessionheat.commands` entry
point in pyproject.toml (the product does not import the demo; the demo imports the CLI's options).

Importing this module stays cheap (click and sessionheat.command_options only): `sessionheat --help`
imports it to show the command's first help line. The job, with Playwright, is imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from sessionheat.command_options import db_option, open_store, progress_bars


class ProgressBarSteps:
    """The demo job's stages (demo.job.Steps) as rich progress bars, one per stage."""

    def __init__(self, bar: Any):
        self.bar, self.task = bar, None

    def stage(self, name: str, total: int) -> None:
        self.task = self.bar.add_task(name, total=total)

    def advance(self) -> None:
        self.bar.advance(self.task)


@click.command("demo")
@db_option
@click.option("--sessions", "n_sessions", default=12, show_default=True, help="Visitors to record.")
@click.option("--seed", default=0, show_default=True, help="Seed for the visitors' randomness.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("sessionheat-demo"), show_default=True, help="Folder for the outputs.")
def demo_command(db_path: Path, n_sessions: int, seed: int, out_dir: Path) -> None:
    """Serve the bundled demo site, record varied visitors, index them, draw heatmaps and a report."""
    from rich.console import Console

    from demo.job import run_demo_job

    store = open_store(db_path)
    with progress_bars(Console(stderr=True)) as bar:
        result = run_demo_job(store, out_dir=out_dir, n_sessions=n_sessions, seed=seed,
                              steps=ProgressBarSteps(bar))
    for line in result.summary_lines():
        click.echo(line)
