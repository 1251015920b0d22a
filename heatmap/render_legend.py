"""The legend strip drawn above every map, and the text primitives it needs.

OpenCV's Hershey fonts only know ASCII, so every string goes through `ascii_text` first: a URL or
a segment name with "é" or "—" must come out readable, not as a row of question marks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from plumbing.vocabulary import counted

# px added above the page, the same for every map (the web UI maps clicks on an image through it);
# the page starts at row LEGEND_HEIGHT, column 0. Tall enough for a phone-width (720 px) legend
# whose caption, stats and caution each wrap onto extra lines.
LEGEND_HEIGHT = 240
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
    """Transliterate to what Hershey fonts can draw (accents dropped, dashes kept as dashes);
    symbols they lack (a "▶" in a button's label) are dropped with the gap they leave."""
    text = "".join(_REPLACE.get(ch, ch) for ch in text)
    text = "".join(ch if ch.isascii() else "" if unicodedata.combining(ch) else "\x00"
                   for ch in unicodedata.normalize("NFKD", text))
    text = re.sub(r"\x00+ ?", "", text)  # a dropped symbol takes its following space with it
    return "".join(" " if ch in "\t\r\n\f\v" else ch for ch in text)


def plural(n: int | float, noun: str) -> str:
    """'1 click', '2 clicks', '1 mouse position': `noun` is given in the plural (a legend's kind
    label), and a weighted count is written as the scale's values are."""
    one = noun[:-1] if noun.endswith("s") and not noun.endswith("ss") else noun
    return counted(n, one, noun, shown=None if isinstance(n, int) else fmt_value(n))


def wrap_text(text: str, width: int, scale: float, thickness: int = 1,
              first_width: int | None = None) -> list[str]:
    """Break at spaces so each line fits `width` px (the first line `first_width`); a word wider
    than a whole line is cut with '...'. Nothing is dropped, unlike fit_text."""
    words = ascii_text(text).split(" ")
    lines: list[str] = []
    line = ""
    for word in words:
        limit = first_width if (first_width is not None and not lines) else width
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, scale, thickness) <= limit or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
        limit = first_width if (first_width is not None and not lines) else width
        if text_width(line, scale, thickness) > limit and " " not in line:
            line = fit_text(line, limit, scale, thickness)
    if line:
        lines.append(line)
    return lines


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


LINE = 20  # px between wrapped lines of the caption, bar label and stats
CAUTION_SCALE = 0.6
# (scale, thickness, line step): the caution's look, then smaller ones when it would not fit
CAUTION_STYLES = ((CAUTION_SCALE, 2, 22), (0.5, 2, 19), (0.45, 1, 17))


def draw_legend(width: int, spec: LegendSpec) -> np.ndarray:
    """A (LEGEND_HEIGHT, width, 3) panel: title + caption, colour bar with ticks, stats, caution.

    Text that does not fit the width wraps onto more lines instead of being cut: a phone-width
    map must still show its session count and what is not on this layout."""
    panel = np.full((LEGEND_HEIGHT, width, 3), PAPER, np.uint8)
    x = put_text(panel, spec.title, (PAD, 28), scale=0.7, thickness=2)
    y = 28
    if spec.caption:
        gap = text_width("  ", 0.55)
        lines = wrap_text(spec.caption, width - 2 * PAD, 0.55, first_width=width - x - gap - PAD)
        for i, line in enumerate(lines):
            if i:
                y += LINE
            put_text(panel, line, (x + gap if i == 0 else PAD, y), scale=0.55, colour=MUTED)
    bottom = _draw_bar(panel, spec, top=y + 14)
    y = _draw_stats(panel, spec.stats, baseline=bottom + 20)
    if spec.caution:
        _draw_caution(panel, spec.caution, top=y + 10)
    cv2.line(panel, (0, LEGEND_HEIGHT - 1), (width, LEGEND_HEIGHT - 1), (150, 150, 150), 1)
    return panel


def _draw_bar(panel: np.ndarray, spec: LegendSpec, top: int) -> int:
    """The colour bar, its ticks and what it means (wrapped beside it); returns the block's bottom."""
    bar = cv2.resize(spec.bar.reshape(1, 256, 3), (BAR_W, BAR_H), interpolation=cv2.INTER_LINEAR)
    panel[top : top + BAR_H, PAD : PAD + BAR_W] = bar
    cv2.rectangle(panel, (PAD - 1, top - 1), (PAD + BAR_W, top + BAR_H), MUTED, 1)
    for pos, label in spec.ticks:
        tx = PAD + round(pos * (BAR_W - 1))
        cv2.line(panel, (tx, top + BAR_H), (tx, top + BAR_H + 4), INK, 1)
        w = text_width(ascii_text(label), 0.48)
        lx = min(max(tx - w // 2, PAD - 4), PAD + BAR_W - w + 4)
        put_text(panel, label, (lx, top + BAR_H + 20), scale=0.48, max_width=w + 2)
    left = PAD + BAR_W + 16
    lines = [part for line in spec.bar_label for part in wrap_text(line, panel.shape[1] - left - PAD, 0.52)]
    for i, line in enumerate(lines):
        put_text(panel, line, (left, top + BAR_H - 3 + 22 * i), scale=0.52)
    return max(top + BAR_H + 24, top + BAR_H - 3 + 22 * (len(lines) - 1) + 8)


def _draw_stats(panel: np.ndarray, stats: Sequence[tuple[str, Colour]], baseline: int) -> int:
    """Stats in a row, separated by bars, going on to the next line when one does not fit;
    returns the last line's baseline."""
    x, right = PAD, panel.shape[1] - PAD
    sep = "  |  "
    for i, (text, colour) in enumerate(stats):
        text = ascii_text(text)
        need = text_width(text, 0.52) + (text_width(sep, 0.52) if i else 0)
        if i and x + need > right:
            x, baseline = PAD, baseline + LINE
        elif i:
            x = put_text(panel, sep, (x, baseline), scale=0.52, colour=MUTED)
        x = put_text(panel, text, (x, baseline), scale=0.52, colour=colour, thickness=1)
    return baseline


def _draw_caution(panel: np.ndarray, caution: str, top: int) -> None:
    """An amber box, as tall as its wrapped text; a caution too long for the room left is set
    smaller rather than cut (the reader must not miss any of it)."""
    width = panel.shape[1] - 2 * PAD - 8
    room = LEGEND_HEIGHT - 8 - top
    for scale, thickness, step in CAUTION_STYLES:
        lines = wrap_text("CAUTION: " + caution, width, scale, thickness)
        if 6 + step * len(lines) <= room:
            break
    height = 6 + step * len(lines)
    top = max(min(top, LEGEND_HEIGHT - 8 - height), 0)
    cv2.rectangle(panel, (PAD - 4, top), (panel.shape[1] - PAD, top + height), CAUTION_FILL, -1)
    for i, line in enumerate(lines):
        put_text(panel, line, (PAD + 4, top + step - 3 + step * i), scale=scale, colour=CAUTION_INK,
                 thickness=thickness)


def bar_over_white(lut: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """The colour bar as the overlay really looks on a white page (faint end nearly white)."""
    a = alphas.reshape(256, 1)
    return np.clip(lut * a + 255.0 * (1.0 - a) + 0.5, 0, 255).astype(np.uint8)
