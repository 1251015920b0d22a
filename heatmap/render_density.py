"""Density fields and colouring for heatmap rendering: points -> blurred grid -> colour + alpha.

Densities are kept in honest units: the Gaussian kernel is rescaled so that ONE point of weight 1
peaks at 1.0. A value of 12 at a pixel therefore reads "about 12 points right here, fewer if they
were further away", which is what the legend prints.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Robust scale (see robust_scale): the colour bar tops out where no more than SATURATED_SPOTS
# spots' worth of page area, and no more than SATURATED_SHARE of the heat's visible area, is
# painted at full colour, and never above OUTLIER_RATIO x the second-hottest separate spot.
SATURATED_SPOTS = 3.0
SATURATED_SHARE = 0.05
OUTLIER_RATIO = 3.0
# Blurred values below this (in points, a single point peaks at 1) count as "no heat" for the
# percentile: Gaussian tails would otherwise drown the statistic in near-zero pixels.
NEGLIGIBLE = 0.02
# Most opaque the overlay ever gets: even the hottest spot leaves the page readable beneath it.
ALPHA_MAX = 0.62
# Below this intensity (fraction of the colour scale) opacity fades linearly to 0, so faint tails
# end softly instead of with a hard rim, and the page is untouched where there is no heat at all.
ALPHA_FADE = 0.08
# Alpha grows like intensity ** ALPHA_GAMMA: below 1 lifts faint heat so sparse spots still show.
ALPHA_GAMMA = 0.6


@dataclass(frozen=True)
class Grid:
    """A blurred density on a coarse grid (one cell = `cell` x `cell` page px), in points."""

    values: np.ndarray  # (ceil(H / cell), ceil(W / cell)) float32; a lone point peaks at 1
    cell: int
    radius_px: float

    @property
    def radius_cells(self) -> float:
        return self.radius_px / self.cell


def sigma_for_radius(radius_px: float) -> float:
    """A spot's visible radius is ~2 sigma: beyond it the Gaussian has dropped below 14 %."""
    return max(float(radius_px), 1.0) / 2.0


def split_inside(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Mask of points that land on the page; NaN/inf and off-page points are clipped, not moved."""
    x, y = points[:, 0], points[:, 1]
    with np.errstate(invalid="ignore"):
        return np.isfinite(x) & np.isfinite(y) & (x >= 0) & (x < width) & (y >= 0) & (y < height)


def blurred_grid(
    points: np.ndarray, weights: np.ndarray | None, width: int, height: int, radius_px: float
) -> Grid:
    """Bin on a grid coarse enough that the blur stays cheap, then blur once.

    The cell is about sigma/4 px, so binning moves a point by at most a sixteenth of the spot
    size (invisible) while a 1280 x 6000 page with an 18 px spot blurs only a 640 x 3000 grid.
    Points must already be inside the page (see `split_inside`).
    """
    sigma = sigma_for_radius(radius_px)
    cell = max(1, int(sigma // 4))
    gw, gh = -(-width // cell), -(-height // cell)
    if len(points) == 0:
        return Grid(np.zeros((gh, gw), np.float32), cell, radius_px)
    col = np.minimum((points[:, 0] // cell).astype(np.int64), gw - 1)
    row = np.minimum((points[:, 1] // cell).astype(np.int64), gh - 1)
    grid = np.bincount(row * gw + col, weights=weights, minlength=gw * gh)
    grid = grid.reshape(gh, gw).astype(np.float32)
    grid_sigma = sigma / cell
    ksize = 2 * int(np.ceil(3.5 * grid_sigma)) + 1
    blurred = cv2.GaussianBlur(grid, (ksize, ksize), grid_sigma, borderType=cv2.BORDER_CONSTANT)
    kernel = cv2.getGaussianKernel(ksize, grid_sigma, cv2.CV_64F)
    blurred *= np.float32(1.0 / float(kernel.max()) ** 2)  # type: ignore[arg-type]  # float32 in, float32 out; a lone point peaks at exactly 1
    return Grid(blurred, cell, radius_px)


def robust_scale(values: np.ndarray, negligible: float, radius_cells: float) -> float:
    """Top of the colour scale: high enough to tell clusters apart, never set by one outlier.

    Two caps, the lower wins. (1) An area quantile: at most SATURATED_SPOTS spots' worth of area
    (and at most SATURATED_SHARE of the visible heat) reaches full colour. A plain 99th
    percentile would saturate every cluster of a big map once stray clicks widen the visible
    area. (2) OUTLIER_RATIO x the second-hottest separate spot: a lone hot spot (a bot, a
    rage-clicked button) saturates on a small map too, instead of fading every other spot to
    nothing; the runner-up still shows at a third of the scale or more.
    """
    mag = np.abs(values)
    visible = mag[mag > negligible]
    if visible.size == 0:
        return 0.0
    spot_cells = np.pi * radius_cells**2
    rank = min(SATURATED_SPOTS * spot_cells, SATURATED_SHARE * visible.size)
    k = visible.size - 1 - min(max(int(rank), 0), visible.size - 1)
    area_scale = float(np.partition(visible, k)[k])
    peaks = _spot_peaks(mag, negligible, radius_cells)
    return min(area_scale, OUTLIER_RATIO * float(peaks[-2])) if peaks.size >= 2 else area_scale


def _spot_peaks(mag: np.ndarray, negligible: float, radius_cells: float) -> np.ndarray:
    """Ascending heights of local maxima at least a spot radius apart."""
    r = max(1, round(radius_cells))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    is_peak = (mag >= cv2.dilate(mag, disc)) & (mag > negligible)
    return np.sort(mag[is_peak])


def upscale(values: np.ndarray, cell: int, width: int, height: int) -> np.ndarray:
    """Grid back to page size; cell centres line up with cv2.resize's half-pixel convention."""
    if cell > 1:
        gh, gw = values.shape
        values = cv2.resize(values, (gw * cell, gh * cell), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(values[:height, :width])


def turbo_lut(low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """(256, 3) BGR Turbo colours: blue (little) -> green -> yellow -> dark red (most).

    `low`/`high` crop the map: a full-page tint looks muddy in Turbo's near-black extremes.
    """
    ramp = np.arange(256, dtype=np.uint8).reshape(256, 1)
    full = cv2.applyColorMap(ramp, cv2.COLORMAP_TURBO).reshape(256, 3).astype(np.float32)
    pos = np.linspace(low * 255.0, high * 255.0, 256)
    channels = [np.interp(pos, np.arange(256), full[:, c]) for c in range(3)]
    return np.stack(channels, axis=1).round().astype(np.uint8)


def diverging_lut() -> np.ndarray:
    """(256, 3) BGR: index 0 = deep blue (B dominates), 128 = neutral, 255 = deep orange (A).

    Blue/orange is the diverging pair that stays distinct for red-green colour-blind viewers.
    """
    blue = np.array([180, 90, 20], np.float32)  # BGR of #145AB4
    orange = np.array([0, 100, 230], np.float32)  # BGR of #E66400
    neutral = np.array([235, 235, 235], np.float32)
    t = np.abs(np.arange(256, dtype=np.float32) - 127.5) / 127.5
    end = np.where((np.arange(256) < 128)[:, None], blue, orange)
    return np.clip(neutral + (end - neutral) * np.sqrt(t)[:, None], 0, 255).astype(np.uint8)


def alpha_lut(kind: str = "sequential") -> np.ndarray:
    """(256,) float32 opacity per colour index: transparent where there is (almost) nothing."""
    t = np.arange(256, dtype=np.float32) / 255.0
    if kind == "diverging":
        t = np.abs(t - 127.5 / 255.0) * 2.0
    t = np.clip(t, 0.0, 1.0)
    alpha = ALPHA_MAX * np.power(t, ALPHA_GAMMA) * np.minimum(t / ALPHA_FADE, 1.0)
    if kind == "diverging":
        alpha[127:129] = 0.0  # a difference of exactly 0 lands on 128: leave the page untouched
    else:
        alpha[0] = 0.0
    return alpha.astype(np.float32)


def to_index(field: np.ndarray, scale: float, *, signed: bool = False) -> np.ndarray:
    """Colour-table indices 0..255 for field / scale (saturating); signed maps -1..1 to 0..255.

    One cv2.convertScaleAbs pass instead of numpy's scale / clip / round / cast temporaries.
    """
    if not signed:
        return cv2.convertScaleAbs(field, alpha=255.0 / scale)
    clipped = np.maximum(field, np.float32(-scale))  # abs() below must never see a negative
    return cv2.convertScaleAbs(clipped, alpha=127.5 / scale, beta=127.5)


def blend(page: np.ndarray, index: np.ndarray, lut: np.ndarray, alphas: np.ndarray) -> None:
    """Alpha-blend lut[index] over page in place, touching only rows that carry any heat."""
    alpha = cv2.LUT(index, alphas.reshape(256, 1))  # cv2.LUT: ~10x faster than fancy indexing
    rows = np.flatnonzero(alpha.max(axis=1) > 0)
    if rows.size == 0:
        return
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    colours = cv2.applyColorMap(index[top:bottom], lut.reshape(256, 1, 3))
    a = np.ascontiguousarray(alpha[top:bottom])
    page[top:bottom] = cv2.blendLinear(colours, page[top:bottom], a, 1.0 - a)
