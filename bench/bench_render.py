"""Heatmap rendering speed: 100 000 clicks on a 1280 x 6000 page, plus band and compare maps.

`python3 -m bench.bench_render --samples DIR` also writes sample PNGs of every map kind, to look at.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from bench import Figure
from heatmap.render import (
    ElementOutline,
    render_band_map,
    render_difference_map,
    render_point_map,
    write_png,
)

WIDTH, HEIGHT, N_POINTS = 1280, 6000, 100_000


def synthetic_page(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A landing-page-like screenshot: header, hero, cards, text lines, buttons, footer."""
    page = np.full((height, width, 3), 255, np.uint8)
    cv2.rectangle(page, (0, 0), (width, 72), (60, 45, 35), -1)
    cv2.putText(page, "ACME", (40, 48), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (255, 255, 255), 2)
    for i, name in enumerate(["Product", "Pricing", "Docs", "Sign in"]):
        cv2.putText(page, name, (width - 520 + i * 120, 44), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    (230, 230, 230), 1, cv2.LINE_AA)  # fmt: skip
    cv2.rectangle(page, (0, 72), (width, 560), (245, 238, 230), -1)
    cv2.putText(page, "Ship faster with ACME", (120, 250), cv2.FONT_HERSHEY_SIMPLEX, 2.0,
                (50, 40, 30), 3, cv2.LINE_AA)  # fmt: skip
    _button(page, 120, 330, 220, 60, "Start free trial", (200, 110, 20))
    _button(page, 370, 330, 180, 60, "Watch demo", (120, 120, 120))
    y = 640
    while y < height - 400:
        _section(page, y, width)
        y += 620
    cv2.rectangle(page, (0, height - 300), (width, height), (50, 50, 50), -1)
    return page


def _button(page: np.ndarray, x: int, y: int, w: int, h: int, text: str, colour: tuple) -> None:
    cv2.rectangle(page, (x, y), (x + w, y + h), colour, -1)
    cv2.putText(page, text, (x + 18, y + h // 2 + 7), cv2.FONT_HERSHEY_SIMPLEX, 0.65,
                (255, 255, 255), 2, cv2.LINE_AA)  # fmt: skip


def _section(page: np.ndarray, y: int, width: int) -> None:
    cv2.putText(page, f"Section at y={y}", (120, y + 50), cv2.FONT_HERSHEY_SIMPLEX, 1.1,
                (40, 40, 40), 2, cv2.LINE_AA)  # fmt: skip
    for k in range(3):
        x = 120 + k * 360
        cv2.rectangle(page, (x, y + 90), (x + 320, y + 500), (225, 225, 225), 2)
        cv2.rectangle(page, (x + 20, y + 110), (x + 300, y + 260), (200, 200, 200), -1)
        for line in range(6):
            cv2.line(page, (x + 20, y + 290 + line * 22), (x + 20 + 280 - (line % 3) * 40,
                     y + 290 + line * 22), (150, 150, 150), 6)  # fmt: skip
    _button(page, 120, y + 520, 200, 50, "Learn more", (90, 150, 40))


def sample_clicks(n: int, width: int = WIDTH, height: int = HEIGHT, seed: int = 0) -> np.ndarray:
    """Clusters on the buttons plus a spread of stray clicks, like a real click map."""
    rng = np.random.default_rng(seed)
    centres = np.array([[230, 360], [460, 360], [220, 1185], [280, 750], [1100, 36], [640, 2500]])
    share = np.array([0.35, 0.12, 0.15, 0.08, 0.1, 0.05])
    n_cluster = (share * n).astype(int)
    parts = [rng.normal(c, (45, 14), size=(k, 2)) for c, k in zip(centres, n_cluster)]
    n_rest = n - int(n_cluster.sum())
    parts.append(rng.uniform((0, 0), (width, height * 0.6), size=(n_rest, 2)))
    return np.concatenate(parts)


def scroll_reach(height: int = HEIGHT, fold: int = 800) -> np.ndarray:
    """Everyone sees the fold; below it reach decays like real pages do."""
    y = np.arange(height, dtype=np.float64)
    return np.where(y < fold, 1.0, np.exp(-(y - fold) / 1800.0))


def _median_seconds(fn: Callable[[], object], rounds: int) -> float:
    fn()  # warm-up: first call pays for imports and allocator growth
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(quick: bool) -> list[Figure]:
    rounds = 3 if quick else 9
    page = synthetic_page()
    clicks = sample_clicks(N_POINTS)
    other = sample_clicks(N_POINTS, seed=1)[::-1] + (0, 40)
    reach = scroll_reach()
    note = f"median of {rounds}, {WIDTH}x{HEIGHT} page"
    point_s = _median_seconds(lambda: render_point_map(page, clicks), rounds)
    band_s = _median_seconds(lambda: render_band_map(page, reach, fold_y=800), rounds)
    diff_s = _median_seconds(lambda: render_difference_map(page, clicks, other), rounds)
    return [
        Figure("render", "click map, 100k points", point_s, "s", "< 1 s", note),
        Figure("render", "scroll band map", band_s, "s", "", note),
        Figure("render", "difference map, 2 x 100k points", diff_s, "s", "", note),
    ]


def write_samples(out_dir: Path) -> list[Path]:
    """One PNG per map kind, for eyeballing."""
    page, clicks = synthetic_page(), sample_clicks(20_000)
    top = [
        ElementOutline(120, 330, 220, 60, 7013, "Start free trial"),
        ElementOutline(370, 330, 180, 60, 2411, "Watch demo"),
        ElementOutline(120, 1160, 200, 50, 3005, "Learn more"),
    ]
    caption = "http://staging.acme.test/ | desktop 1280x800 | 412 sessions"
    y = np.arange(HEIGHT)
    attention = 30 * np.exp(-y / 1500.0) + 4 * np.exp(-(((y - 2500) / 300) ** 2))
    marks = {"75%": 1318, "50%": 2048, "25%": 3295}
    shifted = sample_clicks(15_000, seed=3)[::-1] + (240, 0)
    few = "only 12 sessions - too few to trust"
    maps = {
        "click": render_point_map(page, clicks, outlines=top, caption=caption),
        "click_caution": render_point_map(page, clicks[:60], caption=caption, caution=few),
        "scroll": render_band_map(page, scroll_reach(), fold_y=800, caption=caption, marks=marks),
        "attention": render_band_map(page, attention, kind="attention", fold_y=800),
        "compare": render_difference_map(
            page, clicks, shifted, label_a="variant=A", label_b="variant=B", caption=caption
        ),
        "mobile": render_point_map(
            synthetic_page(390, 2400), sample_clicks(3000, 390, 2400), radius_px=14,
            kind_label="taps", caption="http://staging.acme.test/pricing | mobile 390x844",
        ),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    return [write_png(out_dir / f"{name}.png", img) for name, img in maps.items()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=Path, default=Path("/tmp/sessionheat-render"))
    for path in write_samples(parser.parse_args().samples):
        print(path)
