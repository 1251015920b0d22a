"""Benchmarks: `python3 -m bench` runs every `bench/bench_*.py` and prints one table.

Each module defines `run(quick: bool) -> list[Figure]`. Figures are measured, never asserted:
tests check behaviour, benchmarks report speed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Figure:
    area: str  # e.g. "recording"
    name: str  # what was measured
    value: float
    unit: str
    target: str = ""  # the target, as text, e.g. "<= 1.10"
    note: str = ""


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """(what `fn` returned, seconds it took)."""
    start = time.perf_counter()
    return fn(*args, **kwargs), time.perf_counter() - start


def team_headers(store: Any) -> dict[str, str]:
    """Headers of an admin's API token in `store`: every UI route needs a login."""
    from sessionheat.web.auth import add_user, new_api_token

    if store.get_user("bench") is None:
        add_user(store, "bench", "admin", None)
    return {"Authorization": f"Bearer {new_api_token(store, 'bench', 'bench')}"}
