"""Re-projection: place each hit on the reference layout through the element it hit.

A hit carries its element's key and where inside the element's box it landed (0..1). On the
reference, the same key names an element with its own box; the hit goes to box + rel × size.
A hit whose element the reference does not have is counted and listed, never drawn at raw x/y.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from plumbing.vocabulary import Box


@dataclass
class PlacedPoint:
    x: float
    y: float
    element_key: str
    session_id: str
    t: int
    kind: str
    weight: float = 1.0


@dataclass
class ElementStat:
    element_key: str
    label: str
    tag: str
    hits: int = 0
    sessions: set[str] = field(default_factory=set)
    rage: int = 0
    dead: int = 0
    box: Box | None = None  # on the reference; None when not on this layout

    def as_json(self, total: int) -> dict[str, Any]:
        return {
            "element_key": self.element_key, "label": self.label, "tag": self.tag,
            "clicks": self.hits, "sessions": len(self.sessions),
            "session_ids": sorted(self.sessions),
            "share": round(self.hits / total, 4) if total else 0.0,
            "rage": self.rage, "dead": self.dead,
            "box": [round(v, 1) for v in self.box] if self.box else None,
        }


@dataclass
class Placement:
    points: list[PlacedPoint]
    elements: list[ElementStat]  # on the reference, most hit first
    not_on_layout: list[ElementStat]  # elements the reference lacks, most hit first

    @property
    def n_missing(self) -> int:
        return sum(e.hits for e in self.not_on_layout)


def reproject(box: Box, rel_x: float, rel_y: float) -> tuple[float, float]:
    x, y, w, h = box
    return x + min(max(rel_x, 0.0), 1.0) * w, y + min(max(rel_y, 0.0), 1.0) * h


def place_hits(hits: Iterable[Mapping[str, Any]], boxes: Mapping[str, Box | None]) -> Placement:
    """Place hits whose element is on the reference (`boxes`: element key -> box or None)."""
    stats: dict[str, ElementStat] = {}
    points: list[PlacedPoint] = []
    for hit in hits:
        key = hit.get("element_key")
        if not key:
            continue
        stat = stats.get(key)
        if stat is None:
            stat = stats[key] = ElementStat(key, hit.get("label") or "", hit.get("tag") or "",
                                            box=boxes.get(key))
        stat.hits += 1
        stat.sessions.add(hit["session_id"])
        stat.rage += int(bool(hit.get("rage")))
        stat.dead += int(bool(hit.get("dead")))
        if stat.box is not None and stat.box[2] > 0 and stat.box[3] > 0:
            x, y = reproject(stat.box, hit.get("rel_x") or 0.0, hit.get("rel_y") or 0.0)
            points.append(PlacedPoint(x, y, key, hit["session_id"], hit["t"], hit["kind"]))
    ranked = sorted(stats.values(), key=lambda s: (-s.hits, s.element_key))
    return Placement(points, [s for s in ranked if s.box], [s for s in ranked if not s.box])


def depth_on_reference(view_bottoms: Iterable[Mapping[str, Any]], boxes: Mapping[str, Box | None]
                       ) -> dict[tuple[str, int], float]:
    """Deepest reference y each pageview's viewport bottom reached, measured through elements:
    a visitor who saw the footer reached the reference's footer, however tall their page was."""
    deepest: dict[tuple[str, int], float] = defaultdict(float)
    for hit in view_bottoms:
        box = boxes.get(hit.get("element_key") or "")
        if box is None:
            continue
        _, y = reproject(box, 0.0, hit.get("rel_y") or 0.0)
        pv = (hit["session_id"], hit["pageview"])
        deepest[pv] = max(deepest[pv], y)
    return dict(deepest)
