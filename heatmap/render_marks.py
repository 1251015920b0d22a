"""Marks drawn on top of the heat: element outlines with count badges, fold and reach lines.

Every mark is a light stroke with a dark core (or the reverse), so it reads on a white page, on
a dark hero image and on the hottest part of the colour map alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from heatmap.render_legend import FONT, ascii_text, fit_text, plural, text_width

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
    img: np.ndarray, outlines: Sequence[ElementOutline], offset_y: int, kind_label: str,
    *, page_width: int | None = None,
) -> None:
    """Rectangle + count label per element; later (lower-ranked) ones first so #1 ends on top.

    Where the image is wider than the page (a phone page padded to the legend's width), the labels
    go in that margin, beside their elements and joined to them by a leader line, so they hide none
    of the page; otherwise each sits as a badge just above its element."""
    outlines = list(outlines)
    margin = img.shape[1] - page_width if page_width is not None else 0
    tops = _margin_tops(outlines, offset_y, img.shape[0]) if margin >= MARGIN_LABELS_MIN else None
    for k in reversed(range(len(outlines))):
        o = outlines[k]
        text = plural(o.count, kind_label) + (f" - {o.label}" if o.label.strip() else "")
        if tops is None:
            _draw_outline(img, o, offset_y, text)
        else:
            _draw_outline_with_margin_label(img, o, offset_y, text, page_width, tops[k])  # type: ignore[arg-type]  # tops only with a page_width


BADGE_H = 20
MARGIN_LABELS_MIN = 160  # px of margin beside the page that labels need to go there
_GAP = 4  # between stacked margin labels


def _badge(img: np.ndarray, text: str, bx: int, by: int, max_width: int) -> None:
    text = fit_text(ascii_text(text), max_width, 0.45)
    tw = text_width(text, 0.45)
    cv2.rectangle(img, (bx, by), (bx + tw + 10, by + BADGE_H), BADGE_FILL, -1)
    cv2.putText(img, text, (bx + 5, by + 14), FONT, 0.45, BADGE_INK, 1, cv2.LINE_AA)


def _box(img: np.ndarray, o: ElementOutline, offset_y: int) -> tuple[int, int, int, int]:
    x0, y0 = round(o.x), round(o.y) + offset_y
    x1, y1 = round(o.x + o.w), round(o.y + o.h) + offset_y
    cv2.rectangle(img, (x0, y0), (x1, y1), HALO, 4, cv2.LINE_AA)
    cv2.rectangle(img, (x0, y0), (x1, y1), CORE, 2, cv2.LINE_AA)
    return x0, y0, x1, y1


def _draw_outline(img: np.ndarray, o: ElementOutline, offset_y: int, text: str) -> None:
    x0, y0, _, y1 = _box(img, o, offset_y)
    tw = text_width(fit_text(ascii_text(text), 260, 0.45), 0.45)
    # Above the box when there is room below the legend, else under it (an element at the very top
    # of the page, a cookie banner's button), and only as a last resort over its own top edge.
    if y0 - BADGE_H - 2 >= offset_y:
        by = y0 - BADGE_H - 2
    elif y1 + 3 + BADGE_H < img.shape[0]:
        by = y1 + 3
    else:
        by = y0 + 3
    bx = min(max(x0, 0), max(img.shape[1] - tw - 10, 0))
    _badge(img, text, bx, by, 260)


def _margin_tops(outlines: Sequence[ElementOutline], offset_y: int, bottom: int) -> list[int]:
    """Each margin label's top: level with its element's middle, pushed down where labels would
    overlap (in page order, so the stack keeps the elements' order), and up from the image's
    bottom edge."""
    want = [max(round(o.y + o.h / 2) + offset_y - BADGE_H // 2, offset_y + 2) for o in outlines]
    order = sorted(range(len(outlines)), key=lambda k: (want[k], k))
    tops = [0] * len(outlines)
    below = offset_y
    for k in order:
        tops[k] = max(want[k], below)
        below = tops[k] + BADGE_H + _GAP
    above = bottom - 4 + _GAP  # as if a label started just under the image, less a margin
    for k in reversed(order):
        tops[k] = min(tops[k], above - BADGE_H - _GAP)
        above = tops[k]
    return tops


def _draw_outline_with_margin_label(img: np.ndarray, o: ElementOutline, offset_y: int, text: str,
                                    page_width: int, top: int) -> None:
    x0, y0, x1, y1 = _box(img, o, offset_y)
    bx = page_width + 10
    mid = top + BADGE_H // 2
    start = (min(max(x1, 0), page_width - 1), min(max(mid, y0), y1))  # the box's right edge
    for colour, thickness in ((HALO, 3), (CORE, 1)):
        cv2.line(img, start, (bx, mid), colour, thickness, cv2.LINE_AA)
    _badge(img, text, bx, top, img.shape[1] - bx - 16)


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
