"""Run the benchmarks and print one table: `python3 -m bench [--quick] [--only NAME] [--json FILE]`."""

from __future__ import annotations

import argparse
import importlib
import json
import time
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import Figure

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(prog="python3 -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for a smoke run")
    parser.add_argument("--only", action="append", default=[], help="run only bench_NAME (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    console = Console(stderr=True)
    figures: list[Figure] = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if args.only and name not in args.only:
            continue
        start = time.perf_counter()
        console.print(f"[bold]bench {name}[/bold] ...")
        figures += importlib.import_module(f"bench.{path.stem}").run(quick=args.quick)
        console.print(f"  done in {time.perf_counter() - start:.1f} s")
    table = Table("area", "figure", "value", "unit", "target", "note")
    for f in figures:
        value = f"{f.value:,.3f}" if abs(f.value) < 100 else f"{f.value:,.0f}"
        table.add_row(f.area, f.name, value, f.unit, f.target, f.note)
    out = Console()
    if not out.is_terminal:
        out.width = 200
    out.print(table)
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in figures], indent=2))


if __name__ == "__main__":
    main()
