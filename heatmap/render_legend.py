"""The legend strip drawn above every map, and the text primitives it needs.

OpenCV's Hershey fonts only know ASCII, so every string goes through `ascii_text` first: a URL or
a segment name with "é" or "—" must come out readable, not as a row of question marks.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

LEGEND_HEIGHT = 150  # px added above the page; the page starts at row LEGEND_HEIGHT, column 0
LEGEND_MIN_WIDTH = 720  # narrower pages (phones) are padded on the right so the legend fits

FONT = cv2.FONT_HERSHEY_SIMPLEX
INK = (40, 40, 40)
MUTED = (95, 95, 95)
PAPER = (250, 250, 250)
CAUTION_FILL = (0, 185, 255)  # amber, BGR
CAUTION_INK = (0, 0, 0)
PAD = 14
BAR_W, BAR_H = 300, 18

_REPLACE = {
    "\u2026": "...", "\u2014": "-", "\u2013": "-", "\u2212": "-", "\u00b7": "|", "\u2022": "*",
    "\u2265": ">=", "\u2264": "<=", "\u00d7": "x", "\u2192": "->", "\u2018": "'", "\u2019": "'",
    "\u201c": '"', "\u201d": '"', "\u26a0": "!", "\u00a0": " ",
}  # fmt: skip

Colour = tuple[int, int, int]


@dataclass
class LegendSpec:
    """Everything a legend says; each map kind fills one in."""

    title: str
    caption: str
    bar: np.ndarray  # (256, 3) uint8 BGR, the colour bar as it looks over a white page
    ticks: Sequence[tuple[float, str]]  # (position 0..1 along the bar, label)
    bar_label: Sequence[str]  # what the bar's numbers mean, in real units (up to two lines)
    stats: Sequence[tuple[str, Colour]] = field(default_factory=list)
    caution: str | None = None


def ascii_text(text: str) -> str:
    """Transliterate to what Hershey fonts can draw (accents dropped, dashes kept as dashes)."""
    text = "".join(_REPLACE.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(" " if ch in "\t\r\n\f\v" else ch for ch in text)


def fmt_value(value: float) -> str:
    """Numbers as a reader wants them: 1,234 / 37 / 3.4 / 0.052."""
    if value >= 9.95:
        return f"{value:,.0f}"
    if value >= 0.995:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"


def text_width(text: str, scale: float, thickness: int = 1) -> int:
    return cv2.getTextSize(text, FONT, scale, thickness)[0][0]


def fit_text(text: str, max_width: int, scale: float, thickness: int = 1) -> str:
    """Shorten with a trailing '...' until the text fits: a legend line never runs off the image."""
    text = ascii_text(text)
    if text_width(text, scale, thickness) <= max_width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if text_width(text[:mid] + "...", scale, thickness) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "..."


def put_text(
    img: np.ndarray,
    text: str,
    org: tuple[int, int],
    *,
    scale: float = 0.5,
    colour: Colour = INK,
    thickness: int = 1,
    max_width: int | None = None,
) -> int:
    """Draw one line (baseline at org); returns the x just after it, for the next piece."""
    limit = max_width if max_width is not None else img.shape[1] - org[0] - PAD
    text = fit_text(text, max(limit, 0), scale, thickness)
    cv2.putText(img, text, org, FONT, scale, colour, thickness, cv2.LINE_AA)
    return org[0] + text_width(text, scale, thickness)


def draw_legend(width: int, spec: LegendSpec) -> np.ndarray:
    """A (LEGEND_HEIGHT, width, 3) panel: title + caption, colour bar with ticks, stats, caution."""
    panel = np.full((LEGEND_HEIGHT, width, 3), PAPER, np.uint8)
    x = put_text(panel, spec.title, (PAD, 28), scale=0.7, thickness=2)
    if spec.caption:
        put_text(panel, "  " + spec.caption, (x, 28), scale=0.55, colour=MUTED)
    _draw_bar(panel, spec, top=42)
    _draw_stats(panel, spec.stats, baseline=104)
    if spec.caution:
        _draw_caution(panel, spec.caution, top=114)
    cv2.line(panel, (0, LEGEND_HEIGHT - 1), (width, LEGEND_HEIGHT - 1), (150, 150, 150), 1)
    return panel


def _draw_bar(panel: np.ndarray, spec: LegendSpec, top: int) -> None:
    bar = cv2.resize(spec.bar.reshape(1, 256, 3), (BAR_W, BAR_H), interpolation=cv2.INTER_LINEAR)
    panel[top : top + BAR_H, PAD : PAD + BAR_W] = bar
    cv2.rectangle(panel, (PAD - 1, top - 1), (PAD + BAR_W, top + BAR_H), MUTED, 1)
    for pos, label in spec.ticks:
        tx = PAD + round(pos * (BAR_W - 1))
        cv2.line(panel, (tx, top + BAR_H), (tx, top + BAR_H + 4), INK, 1)
        w = text_width(ascii_text(label), 0.48)
        lx = min(max(tx - w // 2, PAD - 4), PAD + BAR_W - w + 4)
        put_text(panel, label, (lx, top + BAR_H + 20), scale=0.48, max_width=w + 2)
    for i, line in enumerate(spec.bar_label[:2]):
        put_text(panel, line, (PAD + BAR_W + 16, top + BAR_H - 3 + 22 * i), scale=0.52)


def _draw_stats(panel: np.ndarray, stats: Sequence[tuple[str, Colour]], baseline: int) -> None:
    x = PAD
    for i, (text, colour) in enumerate(stats):
        if i:
            x = put_text(panel, "  |  ", (x, baseline), scale=0.52, colour=MUTED)
        x = put_text(panel, text, (x, baseline), scale=0.52, colour=colour, thickness=1)


def _draw_caution(panel: np.ndarray, caution: str, top: int) -> None:
    bottom = LEGEND_HEIGHT - 8
    cv2.rectangle(panel, (PAD - 4, top), (panel.shape[1] - PAD, bottom), CAUTION_FILL, -1)
    text = "CAUTION: " + caution
    put_text(panel, text, (PAD + 4, bottom - 9), scale=0.6, colour=CAUTION_INK, thickness=2)


def bar_over_white(lut: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """The colour bar as the overlay really looks on a white page (faint end nearly white)."""
    a = alphas.reshape(256, 1)
    return np.clip(lut * a + 255.0 * (1.0 - a) + 0.5, 0, 255).astype(np.uint8)
