"""Heatmap rendering: points, per-row values or two segments -> a PNG-ready BGR image.

Every map is the reference page's full-page screenshot with a legend strip ABOVE it:

    output.shape == (LEGEND_HEIGHT + H, max(W, LEGEND_MIN_WIDTH), 3)     for a (H, W, 3) background

and the page pixel (x, y) sits at output[LEGEND_HEIGHT + y, x]: the page is never scaled, and the
legend never hides any of it. Pages narrower than LEGEND_MIN_WIDTH are padded on the right, and
the outlined elements' labels go in that margin instead of over the page.

Colour map: Turbo. Its hot end is a dark red that stays visible on a white page at the opacity we
use, where Inferno's and Viridis's pale-yellow hot ends vanish into white; it is the perceptually
smoothed successor of Jet (no false bands), and reads blue = few / red = many, as product teams
expect from heatmaps. Its lightness is not monotonic, so the legend always prints the numbers.

Point maps are in honest units: a lone point peaks at 1, so the colour bar reads "clicks within
~radius px". The scale tops out robustly (see render_density.robust_scale), the legend says where
full colour starts and what the hottest spot really holds. Legend text is drawn with OpenCV's
Hershey fonts, so it is transliterated to ASCII ("Café — x" prints as "Cafe - x").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

from plumbing.vocabulary import SCROLL

from heatmap.render_density import (
    NEGLIGIBLE,
    Grid,
    alpha_lut,
    blend,
    blurred_grid,
    diverging_lut,
    robust_scale,
    split_inside,
    to_index,
    turbo_lut,
    upscale,
)
from heatmap.render_inputs import as_background, as_points, as_row_values, as_weights
from heatmap.render_legend import (
    INK,
    LEGEND_HEIGHT,
    LEGEND_MIN_WIDTH,
    PAPER,
    Colour,
    LegendSpec,
    bar_over_white,
    draw_legend,
    fmt_value,
    plural,
)
from heatmap.render_marks import ElementOutline, draw_hline, draw_outlines

__all__ = [
    "LEGEND_HEIGHT",
    "LEGEND_MIN_WIDTH",
    "BAND_ALPHA",
    "ElementOutline",
    "render_point_map",
    "render_band_map",
    "render_difference_map",
    "write_png",
]

BAND_ALPHA = 0.32  # scroll/attention tint: every row shows its value, the page stays legible
WARN_INK: Colour = (0, 0, 170)  # dark red, for counts the reader must not miss (clipped points)
A_INK: Colour = (0, 85, 200)  # text versions of the diverging map's two ends
B_INK: Colour = (170, 80, 15)

_TURBO = turbo_lut()
_TURBO_ALPHA = alpha_lut()
_BAND_TURBO = turbo_lut(0.1, 0.9)
_DIVERGING = diverging_lut()
_DIVERGING_ALPHA = alpha_lut("diverging")


def render_point_map(
    background: np.ndarray,
    points: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    kind_label: str = "clicks",
    radius_px: float = 18,
    outlines: Sequence[ElementOutline] = (),
    caption: str = "",
    caution: str | None = None,
) -> np.ndarray:
    """Click / move heat over the reference page, with outlined top elements and a legend."""
    bg = as_background(background)
    height, width = bg.shape[:2]
    pts, w = as_points(points), None
    if weights is not None:
        w = as_weights(weights, len(pts))
    inside = split_inside(pts, width, height)
    w_in = None if w is None else w[inside]
    grid = blurred_grid(pts[inside], w_in, width, height, radius_px)
    scale = robust_scale(grid.values, NEGLIGIBLE, grid.radius_cells)
    peak = float(grid.values.max())
    out, page = _canvas(bg)
    if scale > 0:
        field = upscale(grid.values, grid.cell, width, height)
        blend(page, to_index(field, scale), _TURBO, _TURBO_ALPHA)
    draw_outlines(out, outlines, LEGEND_HEIGHT, kind_label, page_width=width)
    n_in = int(inside.sum())
    stats = [(f"{plural(n_in, kind_label)} drawn", INK)]
    if w_in is not None:
        stats.append((f"weighted total {fmt_value(float(w_in.sum()))}", INK))
    stats.append(_clipped_stat(len(pts) - n_in))
    if outlines:
        stats.append((f"top {len(outlines)} elements outlined with their {kind_label}", INK))
    spec = LegendSpec(
        title=f"Heatmap: {kind_label}",
        caption=caption,
        bar=bar_over_white(_TURBO, _TURBO_ALPHA),
        ticks=_count_ticks(scale, peak),
        bar_label=_count_label(kind_label, radius_px, scale, peak),
        stats=stats,
        caution=caution,
    )
    out[:LEGEND_HEIGHT] = draw_legend(out.shape[1], spec)
    return out


def render_band_map(
    background: np.ndarray,
    values: np.ndarray,
    *,
    kind: str = SCROLL,  # or ATTENTION (vocabulary.BAND_KINDS)
    fold_y: int | None = None,
    marks: Mapping[str, int] | None = None,
    caption: str = "",
    caution: str | None = None,
) -> np.ndarray:
    """Scroll reach (0..1 of pageviews per row) or attention (seconds per row) as row bands."""
    bg = as_background(background)
    height, width = bg.shape[:2]
    vals = as_row_values(values, height, kind)
    top = 1.0 if kind == SCROLL else float(vals.max(initial=0.0))
    out, page = _canvas(bg)
    index = to_index(vals.astype(np.float32).reshape(-1, 1), top if top > 0 else 1.0).ravel()
    tint = np.ascontiguousarray(np.broadcast_to(_BAND_TURBO[index][:, None, :], page.shape))
    page[:] = cv2.addWeighted(page, 1.0 - BAND_ALPHA, tint, BAND_ALPHA, 0.0)
    for label, y in (marks or {}).items():
        text = f"{label} reached" if kind == SCROLL else label
        _band_line(out, int(y), text, height, width, dashed=False, label_at="left")
    if fold_y is not None:
        _band_line(out, int(fold_y), f"fold (y={int(fold_y)})", height, width, True, "right")
    flat_alpha = np.full(256, BAND_ALPHA, np.float32)
    spec = LegendSpec(
        title="Scroll depth" if kind == SCROLL else "Attention",
        caption=caption,
        bar=bar_over_white(_BAND_TURBO, flat_alpha),
        ticks=_band_ticks(kind, top),
        bar_label=(
            ["share of pageviews that scrolled down to this row"]
            if kind == SCROLL
            else ["average seconds per pageview each row spent in view"]
        ),
        stats=_band_stats(kind, vals, fold_y),
        caution=caution,
    )
    out[:LEGEND_HEIGHT] = draw_legend(out.shape[1], spec)
    return out


def render_difference_map(
    background: np.ndarray,
    points_a: np.ndarray,
    points_b: np.ndarray,
    *,
    weights_a: np.ndarray | None = None,
    weights_b: np.ndarray | None = None,
    label_a: str = "A",
    label_b: str = "B",
    radius_px: float = 18,
    kind_label: str = "clicks",
    caption: str = "",
    caution: str | None = None,
) -> np.ndarray:
    """Compare two segments: each density as a share of its own total, then A minus B.

    Shares, not raw counts, so a segment with twice the traffic does not paint everything its
    colour: orange means "a larger share of A's clicks landed here than of B's", blue the reverse.
    """
    bg = as_background(background)
    height, width = bg.shape[:2]
    sides = [
        _segment_grid(p, w, width, height, radius_px)
        for p, w in ((points_a, weights_a), (points_b, weights_b))
    ]
    (grid_a, total_a, n_a, clip_a), (grid_b, total_b, n_b, clip_b) = sides
    diff = grid_a.values / np.float32(max(total_a, 1e-12))
    diff -= grid_b.values / np.float32(max(total_b, 1e-12))
    scale = robust_scale(diff, NEGLIGIBLE / max(total_a, total_b, 1.0), grid_a.radius_cells)
    out, page = _canvas(bg)
    if scale > 0:
        field = upscale(diff, grid_a.cell, width, height)
        blend(page, to_index(field, scale, signed=True), _DIVERGING, _DIVERGING_ALPHA)
    pp = fmt_value(100.0 * scale) if scale > 0 else "0"
    spec = LegendSpec(
        title=f"Compare: {kind_label}",
        caption=caption,
        bar=bar_over_white(_DIVERGING, _DIVERGING_ALPHA),
        ticks=[(0.0, f"B +{pp} pts"), (0.5, "same share"), (1.0, f"A +{pp} pts")],
        bar_label=[
            f"share of each segment's {kind_label} within ~{radius_px:g} px,",
            "A's share minus B's, in percentage points",
        ],
        stats=[
            (f"A (orange) = {label_a}: {plural(n_a, kind_label)}", A_INK),
            (f"B (blue) = {label_b}: {plural(n_b, kind_label)}", B_INK),
            _clipped_stat(clip_a + clip_b),
        ],
        caution=caution,
    )
    out[:LEGEND_HEIGHT] = draw_legend(out.shape[1], spec)
    return out


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Encode in memory, then write: cv2.imwrite only says False, this names the reason."""
    path = Path(path)
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(image))
    if not ok:
        raise ValueError(f"could not encode a {image.dtype} image of shape {image.shape} as PNG")
    try:
        path.write_bytes(buf.tobytes())
    except OSError as exc:
        raise OSError(f"could not write heatmap PNG to {path}: {exc.strerror or exc}") from exc
    return path


# -- pieces ---------------------------------------------------------------------------------


def _canvas(bg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The output image (legend strip on top, page below) and a writable view of its page part."""
    height, width = bg.shape[:2]
    out = np.empty((LEGEND_HEIGHT + height, max(width, LEGEND_MIN_WIDTH), 3), np.uint8)
    out[LEGEND_HEIGHT:, width:] = PAPER
    if out.shape[1] > width:  # mark where a narrow page ends, outside the page itself
        out[LEGEND_HEIGHT:, width] = (180, 180, 180)
    page = out[LEGEND_HEIGHT:, :width]
    page[:] = bg
    return out, page


def _segment_grid(
    points: np.ndarray, weights: np.ndarray | None, width: int, height: int, radius_px: float
) -> tuple[Grid, float, int, int]:
    pts = as_points(points)
    w = None if weights is None else as_weights(weights, len(pts))
    inside = split_inside(pts, width, height)
    w_in = None if w is None else w[inside]
    total = float(inside.sum()) if w_in is None else float(w_in.sum())
    grid = blurred_grid(pts[inside], w_in, width, height, radius_px)
    n_in = int(inside.sum())
    return grid, total, n_in, len(pts) - n_in


def _clipped_stat(clipped: int) -> tuple[str, Colour]:
    if clipped == 0:
        return "0 outside the page", INK
    return f"{clipped:,} outside the page (not drawn)", WARN_INK


def _count_ticks(scale: float, peak: float) -> list[tuple[float, str]]:
    if scale <= 0:
        return [(0.0, "0")]
    top = fmt_value(scale) + ("+" if peak > scale * 1.005 else "")
    return [(0.0, "0"), (0.5, fmt_value(scale / 2)), (1.0, top)]


def _count_label(kind_label: str, radius_px: float, scale: float, peak: float) -> list[str]:
    if scale <= 0:
        return [f"no {kind_label} on this page"]
    spot = f"{kind_label} within ~{radius_px:g} px, nearer ones count more"
    if peak > scale * 1.005:
        return [spot, f"hottest spot {fmt_value(peak)}; full colour from {fmt_value(scale)} up"]
    return [spot, f"hottest spot {fmt_value(peak)}"]


def _band_ticks(kind: str, top: float) -> list[tuple[float, str]]:
    if kind == SCROLL:
        return [(q, f"{round(q * 100)}%") for q in (0.0, 0.25, 0.5, 0.75, 1.0)]
    if top <= 0:
        return [(0.0, "0 s")]
    return [(0.0, "0 s"), (0.5, f"{fmt_value(top / 2)} s"), (1.0, f"{fmt_value(top)} s")]


def _band_stats(kind: str, vals: np.ndarray, fold_y: int | None) -> list[tuple[str, Colour]]:
    stats: list[tuple[str, Colour]] = [(f"page height {len(vals):,} px", INK)]
    if fold_y is not None:
        stats.append((f"fold at y={int(fold_y):,}", INK))
    if kind == SCROLL:
        stats.append((f"{100 * vals[-1]:.0f}% reached the bottom", INK))
    else:
        y = int(np.argmax(vals))
        stats.append((f"most viewed: y={y:,} ({fmt_value(float(vals[y]))} s)", INK))
    return stats


def _band_line(
    out: np.ndarray, y: int, text: str, height: int, width: int, dashed: bool, label_at: str
) -> None:
    y = min(max(y, 0), height - 1) + LEGEND_HEIGHT
    draw_hline(
        out, y, text, dashed=dashed, label_at=label_at, page_width=width, min_top=LEGEND_HEIGHT
    )
