"""Marks drawn on top of the heat: element outlines with count badges, fold and reach lines.

Every mark is a light stroke with a dark core (or the reverse), so it reads on a white page, on
a dark hero image and on the hottest part of the colour map alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from heatmap.render_legend import FONT, ascii_text, fit_text, text_width

HALO = (255, 255, 255)
CORE = (30, 30, 30)
BADGE_FILL = (30, 30, 30)
BADGE_INK = (255, 255, 255)


@dataclass(frozen=True)
class ElementOutline:
    """A page element to outline, in background (document) pixels, with its click count."""

    x: float
    y: float
    w: float
    h: float
    count: int
    label: str = ""


def draw_outlines(
    img: np.ndarray, outlines: Sequence[ElementOutline], offset_y: int, unit: str
) -> None:
    """Rectangle + badge per element; later (lower-ranked) ones first so #1 ends on top."""
    for outline in reversed(list(outlines)):
        _draw_outline(img, outline, offset_y, unit)


def _draw_outline(img: np.ndarray, o: ElementOutline, offset_y: int, unit: str) -> None:
    x0, y0 = round(o.x), round(o.y) + offset_y
    x1, y1 = round(o.x + o.w), round(o.y + o.h) + offset_y
    cv2.rectangle(img, (x0, y0), (x1, y1), HALO, 4, cv2.LINE_AA)
    cv2.rectangle(img, (x0, y0), (x1, y1), CORE, 2, cv2.LINE_AA)
    text = f"{o.count:,} {unit}" + (f" - {o.label}" if o.label.strip() else "")
    text = fit_text(ascii_text(text), 260, 0.45)
    tw = text_width(text, 0.45)
    bh = 20
    # above the box when there is room below the legend, else just inside its top edge
    by = y0 - bh - 2 if y0 - bh - 2 >= offset_y else y0 + 3
    bx = min(max(x0, 0), max(img.shape[1] - tw - 10, 0))
    cv2.rectangle(img, (bx, by), (bx + tw + 10, by + bh), BADGE_FILL, -1)
    cv2.putText(img, text, (bx + 5, by + 14), FONT, 0.45, BADGE_INK, 1, cv2.LINE_AA)


def draw_hline(
    img: np.ndarray,
    y: int,
    label: str,
    *,
    dashed: bool = False,
    label_at: str = "left",
    page_width: int | None = None,
    min_top: int = 0,
) -> None:
    """A full-width line with a labelled tab; dashed for estimates (the fold), solid for marks."""
    width = page_width if page_width is not None else img.shape[1]
    for x0, x1 in _segments(width, dashed):
        cv2.line(img, (x0, y), (x1, y), HALO, 4)
    for x0, x1 in _segments(width, dashed):
        cv2.line(img, (x0, y), (x1, y), CORE, 2)
    text = ascii_text(label)
    tw = text_width(text, 0.5)
    tx = 6 if label_at == "left" else max(width - tw - 16, 0)
    top = y - 22 if y - 22 >= min_top else y + 3
    cv2.rectangle(img, (tx, top), (tx + tw + 10, top + 20), BADGE_FILL, -1)
    cv2.putText(img, text, (tx + 5, top + 15), FONT, 0.5, BADGE_INK, 1, cv2.LINE_AA)


def _segments(width: int, dashed: bool) -> list[tuple[int, int]]:
    if not dashed:
        return [(0, width - 1)]
    return [(x, min(x + 11, width - 1)) for x in range(0, width, 20)]
