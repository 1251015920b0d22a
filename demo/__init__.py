"""Bundled demo staging site for sessionheat benchmarks, tests and demos.

The site lives in ``SITE_DIR`` and varies its layout per visitor (A/B variant,
cookie banner, promo block, breakpoint, late images) so heatmaps and replays
can be checked against layouts that differ the way real ones do. Scripted
visits live in ``JOURNEYS_DIR``; each file defines ``journey(page, rng)``.
"""
from __future__ import annotations

import importlib.util
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
    """Return ``journey(page, rng)`` from a bundled name or a file path.

    Loaded by path so user-supplied journey files work the same way as ours.
    """
    path = Path(name_or_path)
    if path.suffix != ".py":
        path = JOURNEYS_DIR / f"{name_or_path}.py"
    spec = importlib.util.spec_from_file_location(f"journey_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, "journey", None)
    if not callable(fn):
        raise AttributeError(f"{path} defines no journey(page, rng)")
    return fn
