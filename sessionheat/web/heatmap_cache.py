"""Rendered heatmaps, kept on disk beside the database, keyed by everything that shapes them.

A map's key is its canonical request plus a fingerprint of its selection: which pageviews it
draws and, for each of their sessions, how many events were indexed and when. A newly recorded
session that matches, or a session indexed again, changes the fingerprint, so the page asks for
a new map instead of showing a stale one; nothing has to be deleted for that to happen.

A request also remembers the last map drawn for it (`latest/<request id>`), so while a newer map
is drawn the page can show the previous one, marked as such, instead of nothing.

    sessionheat.db.maps/<key>/summary.json   what the page shows (counts, element tables, images)
                             /map.png, map.json                 one map (JSON as `sessionheat heatmap`)
                             /map-state-1.png, ...             its page states' panels (dialogs, lists)
                             /a.png, b.png, diff.png, a.json, b.json   compare
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plumbing.store import SessionStore

from sessionheat.web.heatmap_request import MapRequest

KEEP_MAPS = 300  # maps kept on disk; the oldest go first
MEMORY_SUMMARIES = 64  # parsed summaries kept in memory, so a cached page does not re-read JSON
IMAGE_FILES = {"map", "a", "b", "diff"}
STATE_FILE = re.compile(r"map-state-[0-9]{1,3}")  # a page state's panel (heatmap/states.py)


@dataclass
class Selection:
    """The pageviews a request draws (both sides in compare), and its fingerprint."""

    a: list[dict[str, Any]]
    b: list[dict[str, Any]] | None
    fingerprint: dict[str, Any]

    @property
    def pageviews(self) -> list[tuple[str, int]]:
        rows = [*self.a, *(self.b or [])]
        return list(dict.fromkeys((r["session_id"], int(r["index"])) for r in rows))

    @property
    def n_unindexed(self) -> int:
        return len(self.fingerprint["unindexed"])


def select(store: SessionStore, request: MapRequest) -> Selection:
    """The request's pageviews and fingerprint; raises heatmap.SegmentError on a bad filter."""
    from heatmap import compare_pageviews

    seg_a, seg_b = request.segments()
    # What build_heatmap / build_compare will draw: a compare takes both sides from one site.
    a, b = compare_pageviews(store, seg_a, seg_b) if seg_b is not None else (seg_a.select(store), None)
    rows = [*a, *(b or [])]
    marks = store.index_marks(r["session_id"] for r in rows)
    sides = [sorted(f"{r['session_id']}:{r['index']}" for r in side) for side in (a, b) if side is not None]
    sessions = sorted({r["session_id"] for r in rows})
    fingerprint = {
        "pageviews": sides,
        "indexed": [[sid, *marks[sid]] for sid in sessions if sid in marks],
        "unindexed": [sid for sid in sessions if sid not in marks],
    }
    return Selection(a, b, fingerprint)


class MapCache:
    """Rendered maps on disk (`<db>.maps/`), with their summaries also held in memory."""

    def __init__(self, root: Path):
        self.root = root
        self._memory: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, store: SessionStore) -> "MapCache":
        return cls(store.path.parent / (store.path.name + ".maps"))

    def summary(self, key: str) -> dict[str, Any] | None:
        """The cached map's summary, or None when it was never drawn (or was pruned)."""
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        try:
            summary = json.loads((self.root / key / "summary.json").read_text())
        except (OSError, ValueError):
            return None
        self._remember(key, summary)
        return summary

    def file(self, key: str, name: str) -> Path | None:
        """A cached map's PNG or JSON file (`name` like "map.png"), if it exists."""
        stem, _, ext = name.partition(".")
        known = stem in IMAGE_FILES or (STATE_FILE.fullmatch(stem) is not None and ext == "png")
        if not known or ext not in ("png", "json") or not key.isalnum():
            return None
        path = self.root / key / name
        return path if path.is_file() else None

    def latest(self, request_id: str) -> dict[str, Any] | None:
        """The summary of the last map drawn for this request, whatever it was drawn from."""
        try:
            key = (self.root / "latest" / request_id).read_text().strip()
        except OSError:
            return None
        return self.summary(key) if key.isalnum() else None

    def put(self, key: str, write: Callable[[Path], dict[str, Any]], request_id: str | None = None
            ) -> dict[str, Any]:
        """Fill a fresh folder with `write(folder) -> summary`, then publish it under `key` in
        one rename, so a reader sees the whole map or none of it."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".new-", dir=self.root))
        try:
            summary = write(tmp)
            summary["key"] = key
            (tmp / "summary.json").write_text(json.dumps(summary, separators=(",", ":")))
            try:
                os.rename(tmp, self.root / key)
            except OSError:  # drawn meanwhile by someone else: theirs is as good
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._remember(key, summary)
        if request_id:
            (self.root / "latest").mkdir(exist_ok=True)
            pointer = self.root / "latest" / f".{request_id}.{threading.get_ident()}"
            pointer.write_text(key)
            os.replace(pointer, self.root / "latest" / request_id)
        self._prune()
        return summary

    def _remember(self, key: str, summary: dict[str, Any]) -> None:
        with self._lock:
            self._memory[key] = summary
            self._memory.move_to_end(key)
            while len(self._memory) > MEMORY_SUMMARIES:
                self._memory.popitem(last=False)

    def _prune(self) -> None:
        entries = [p for p in self.root.iterdir()
                   if p.is_dir() and not p.name.startswith(".") and p.name != "latest"]
        if len(entries) <= KEEP_MAPS:
            return
        entries.sort(key=lambda p: p.stat().st_mtime)
        for old in entries[: len(entries) - KEEP_MAPS]:
            shutil.rmtree(old, ignore_errors=True)
            with self._lock:
                self._memory.pop(old.name, None)


def _image_entry(folder: Path, name: str, title: str, image: Any) -> dict[str, Any]:
    from heatmap import write_png

    write_png(folder / f"{name}.png", image)
    height, width = image.shape[:2]
    return {"name": name, "title": title, "width": int(width), "height": int(height)}


def _state_entries(folder: Path, hm: Any) -> list[dict[str, Any]]:
    """Each page state's panel (a dialog, a scrolling list...) as map-state-N.png, and what the
    explorer lists of it: its name, its counts, its photograph's moment."""
    out = []
    for panel in hm.states:
        if panel.rendered is None:
            continue
        name = f"map-{panel.id}"
        entry = _image_entry(folder, name, panel.group.title, panel.rendered)
        panel.png = f"{name}.png"
        placed = len(panel.placement.points) if panel.placement else 0
        out.append({**entry, "id": panel.id, "kind": panel.group.kind, "state": panel.group.overlay_kind,
                    "key": panel.group.key, "label": panel.group.label, "hits": len(panel.group.hits),
                    "placed": placed, "sessions": len({h["session_id"] for h in panel.group.hits}),
                    "photo": {"session_id": panel.session_id, "t": panel.t, "why": panel.why},
                    "elements": [{"element_key": e.element_key, "label": e.label, "tag": e.tag, "clicks": e.hits,
                                  "sessions": len(e.sessions)} for e in (panel.placement.elements[:10]
                                                                         if panel.placement else [])]})
    return out


def _side(hm: Any) -> dict[str, Any]:
    data = hm.to_json()
    return {"segment": data["segment"], "n_sessions": hm.n_sessions, "n_pageviews": hm.n_pageviews,
            "caution": hm.caution, "elements": data["elements"], "not_on_layout": data["not_on_layout"],
            "n_points": len(data["points"]), "marks": data["marks"]}


def _merged_elements(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """One table for compare: each element's clicks and share in A and in B, biggest change first."""
    merged: dict[str, dict[str, Any]] = {}
    for side, data in (("a", a), ("b", b)):
        for e in data["elements"]:
            row = merged.setdefault(e["element_key"], {
                "element_key": e["element_key"], "label": e["label"], "tag": e["tag"], "box": e["box"],
                "a_clicks": 0, "a_share": 0.0, "b_clicks": 0, "b_share": 0.0, "sessions": 0})
            row[f"{side}_clicks"], row[f"{side}_share"] = e["clicks"], e["share"]
            row["sessions"] += e["sessions"]
    for row in merged.values():
        row["delta"] = round(row["a_share"] - row["b_share"], 4)
    return sorted(merged.values(), key=lambda r: (-abs(r["delta"]), -(r["a_clicks"] + r["b_clicks"])))


def render_map(store: SessionStore, request: MapRequest, folder: Path, browser: Any) -> dict[str, Any]:
    """Draw the request into `folder` (PNGs and JSON) and return the summary the page shows.

    Raises heatmap.HeatmapError / SegmentError when there is nothing to draw.
    """
    from heatmap import LEGEND_HEIGHT, build_compare, build_heatmap

    started = time.perf_counter()
    seg_a, seg_b = request.segments()
    reference = request.reference or None
    summary: dict[str, Any] = {"kind": request.kind, "request": request.canonical(), "compare": seg_b is not None,
                               "legend_height": LEGEND_HEIGHT}
    if seg_b is None:
        hm = build_heatmap(store, seg_a, request.kind, reference=reference, browser=browser)
        summary["states"] = _state_entries(folder, hm)
        (folder / "map.json").write_text(json.dumps(hm.to_json(), separators=(",", ":")))
        summary["images"] = [_image_entry(folder, "map", hm.segment.label(), hm.image)]
        summary["sides"] = [_side(hm)]
        ref = hm.reference
    else:
        ha, hb, diff = build_compare(store, seg_a, seg_b, request.kind, reference=reference, browser=browser)
        summary["images"] = [_image_entry(folder, "a", "A: " + ha.segment.label(), ha.image),
                             _image_entry(folder, "b", "B: " + hb.segment.label(), hb.image),
                             _image_entry(folder, "diff", "Difference, A - B", diff)]
        for name, hm in (("a", ha), ("b", hb)):
            (folder / f"{name}.json").write_text(json.dumps(hm.to_json(), separators=(",", ":")))
        summary["sides"] = [_side(ha), _side(hb)]
        summary["merged"] = _merged_elements(summary["sides"][0], summary["sides"][1])
        ref = ha.reference
    summary["reference"] = {"session_id": ref.session_id, "pageview": ref.pageview, "url": ref.url,
                            "t": ref.t, "viewport": list(ref.viewport), "doc_size": list(ref.doc_size)}
    summary["rendered_at"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    summary["render_seconds"] = round(time.perf_counter() - started, 2)
    return summary
