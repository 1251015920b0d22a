"""Input checks for heatmap rendering: fail early with a message that names the bad argument."""

from __future__ import annotations

import cv2
import numpy as np

from plumbing.vocabulary import BAND_KINDS, SCROLL


def as_background(background: np.ndarray) -> np.ndarray:
    """A uint8 BGR page; grey and BGRA screenshots are converted rather than refused."""
    bg = np.asarray(background)
    if bg.dtype != np.uint8:
        raise ValueError(f"background must be uint8 BGR, got {bg.dtype}")
    if bg.ndim == 2:
        return cv2.cvtColor(bg, cv2.COLOR_GRAY2BGR)
    if bg.ndim == 3 and bg.shape[2] == 4:
        return cv2.cvtColor(bg, cv2.COLOR_BGRA2BGR)
    if bg.ndim != 3 or bg.shape[2] != 3 or bg.shape[0] == 0 or bg.shape[1] == 0:
        raise ValueError(f"background must be an (H, W, 3) image, got shape {bg.shape}")
    return bg


def as_points(points: np.ndarray) -> np.ndarray:
    """(N, 2) float64 x, y; any empty input becomes (0, 2) so callers need no special case."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.size == 0:
        return pts.reshape(0, 2)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"points must be an (N, 2) array of x, y; got shape {pts.shape}")
    return pts


def as_weights(weights: np.ndarray, n: int) -> np.ndarray:
    """One finite, non-negative weight per point: a negative weight would un-draw heat."""
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != (n,):
        raise ValueError(f"weights must have one value per point ({n}), got {w.shape[0]}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and >= 0")
    return w


def as_row_values(values: np.ndarray, height: int, kind: str) -> np.ndarray:
    """One value per page row: a length mismatch means the caller measured another layout."""
    if kind not in BAND_KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, BAND_KINDS))}, got {kind!r}")
    vals = np.asarray(values, dtype=np.float64).reshape(-1)
    if vals.shape != (height,):
        raise ValueError(
            f"values must hold one value per background row ({height}), got {vals.size}"
        )
    if not np.all(np.isfinite(vals)) or np.any(vals < 0):
        raise ValueError("values must be finite and >= 0")
    if kind == SCROLL and vals.max(initial=0.0) > 1.0 + 1e-9:
        raise ValueError("scroll values are shares of pageviews: each must be within 0..1")
    return vals
