"""The reference layout a heatmap is drawn on: one real pageview, replayed and photographed.

By default it is the most common layout among the selected pageviews (same viewport width and
document height), so most hits land on a page shaped like the one their visitor saw.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sessionheat.assets import package_text

from heatmap.placement import Box


@dataclass
class ReferenceLayout:
    session_id: str
    pageview: int
    url: str
    t: int  # the moment of the session photographed
    viewport: tuple[int, int]
    doc_size: tuple[float, float]
    image: np.ndarray  # full-page screenshot, BGR
    boxes: dict[str, Box | None] = field(default_factory=dict)


def locate_keys_js() -> str:
    return package_text("heatmap", "locate_keys.js").strip().rstrip(";")


def choose_reference(pageviews: Sequence[Mapping[str, Any]], hits: Iterable[Mapping[str, Any]]
                     ) -> tuple[str, int]:
    """(session id, pageview index) of the most common layout: the commonest (width, document
    height) among the pageviews, and within it the pageview with the most hits."""
    if not pageviews:
        raise ValueError("no pageviews to take a reference layout from")
    doc_h: dict[tuple[str, int], float] = {}
    n_hits: Counter[tuple[str, int]] = Counter()
    for hit in hits:
        pv = (hit["session_id"], hit["pageview"])
        n_hits[pv] += 1
        if hit.get("doc_h"):
            doc_h[pv] = max(doc_h.get(pv, 0.0), hit["doc_h"])
    def shape(p: Mapping[str, Any]) -> tuple[int, int]:
        pv = (p["session_id"], p["index"])
        return int(p["width"] or 0), int(round(doc_h.get(pv, 0.0) / 20))
    shapes = Counter(shape(p) for p in pageviews)
    common = max(shapes, key=lambda s: (shapes[s], s[1] > 0, s))
    best = max((p for p in pageviews if shape(p) == common),
               key=lambda p: (n_hits[(p["session_id"], p["index"])], -p["first_ts"]))
    return best["session_id"], int(best["index"])


def load_reference(store: Any, session_id: str, pageview: int, wanted: Iterable[Mapping[str, Any]],
                   *, browser: Any = None) -> ReferenceLayout:
    """Replay the reference pageview at its settled end, photograph the whole document, and find
    the box of every wanted element key in it."""
    import cv2

    from replay import open_session

    views = {p["index"]: p for p in store.pageviews(session_id)}
    if pageview not in views:
        raise ValueError(f"session {session_id} has no pageview {pageview}")
    view = views[pageview]
    keys = {w["element_key"]: w for w in wanted if w.get("element_key")}
    with open_session(store, session_id, browser=browser) as rp:
        t = max(view["t_start"], view["t_end"] - 1)
        rp.seek(t)
        png = rp.screenshot(full_page=True)
        located = rp.evaluate_in_document(
            locate_keys_js(),
            [{"key": k, "tag": w.get("tag") or "", "label": w.get("label") or ""} for k, w in keys.items()])
        image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        return ReferenceLayout(
            session_id=session_id, pageview=pageview, url=view["url"], t=t, viewport=rp.viewport(),
            doc_size=rp.document_size(), image=image,
            boxes={k: tuple(b) if b else None for k, b in zip(keys, located)},  # type: ignore[misc]
        )
