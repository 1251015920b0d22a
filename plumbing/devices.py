"""Device classes by viewport width, as responsive sites break: the one place that says where a
phone's layout ends and a tablet's begins. The store labels each session with one; heatmap
segments and the web UI filter by them."""

from __future__ import annotations

from plumbing.vocabulary import DEFAULT_VIEWPORT, MAX_VIEWPORT_PX

# (name, min width, max width) in CSS px, narrowest first; the ranges meet, a width is in one.
VIEWPORT_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("mobile", 0, 767),
    ("tablet", 768, 1023),
    ("desktop", 1024, MAX_VIEWPORT_PX),
)
DEVICES: tuple[str, ...] = tuple(name for name, _, _ in reversed(VIEWPORT_BUCKETS))  # widest first, as menus list them
# A common width inside each bucket: what a picker offers, and what a bucket's map is drawn at.
TYPICAL_WIDTHS: dict[str, int] = {"desktop": DEFAULT_VIEWPORT[0], "tablet": 820, "mobile": 390}


def viewport_bucket(width: float) -> tuple[str, int, int]:
    """The bucket a viewport `width` falls in (a fractional width goes with the whole px below)."""
    for bucket in VIEWPORT_BUCKETS:
        if width < bucket[2] + 1:
            return bucket
    return VIEWPORT_BUCKETS[-1]


def classify_device(width: float | None, user_agent: str = "") -> str:
    """desktop / tablet / mobile from the viewport width; from the user agent when there is none."""
    if width is None:
        return "mobile" if "Mobile" in user_agent else "desktop"
    return viewport_bucket(width)[0]
