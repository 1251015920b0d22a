"""Bundled demo staging site for sessionheat benchmarks, tests and demos.

The site lives in ``SITE_DIR`` and varies its layout per visitor (A/B variant,
cookie banner, promo block, breakpoint, late images) so heatmaps and replays
can be checked against layouts that differ the way real ones do. Scripted
visits live in ``JOURNEYS_DIR``; each file defines ``journey(page, rng)``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .server import SITE_DIR, DemoServer, serve_demo

JOURNEYS_DIR: Path = Path(__file__).resolve().parent / "journeys"

__all__ = ["SITE_DIR", "JOURNEYS_DIR", "DemoServer", "serve_demo",
           "journey_names", "load_journey"]


def journey_names() -> list[str]:
    """Names of the bundled journeys (file stems), sorted."""
    return sorted(p.stem for p in JOURNEYS_DIR.glob("*.py")
                  if not p.stem.startswith("_"))


def load_journey(name_or_path: str | Path) -> Callable[..., None]:
    """``journey(page, rng)`` from a bundled journey name (``"visitor"``) or a file path."""
    from recorder import load_journey as load_journey_file

    path = Path(name_or_path)
    if path.suffix != ".py":
        path = JOURNEYS_DIR / f"{name_or_path}.py"
    return load_journey_file(path)
