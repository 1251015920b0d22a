"""The reference layout a heatmap is drawn on: one real pageview, replayed and photographed.

By default it is the most common layout among the selected pageviews (same viewport width and
document height), so most hits land on a page shaped like the one their visitor saw.

A pageview is not one layout but a sequence of them: a banner is accepted and goes, a dialog opens
and closes, a form is submitted and replaced by its thank-you message. Its end is often the
poorest moment to photograph (the form the heatmap is about has gone). So the reference is
photographed at its best moment: of the candidates (just before each of the pageview's own clicks
and inputs, and its end), the one whose photograph shows the most wanted elements, weighted by
their hits; ties go to the later moment. Only elements that photograph shows get a box: an element
seen at another moment of the pageview is listed as not on this layout (with where it was seen),
never drawn where something else is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plumbing.assets import page_script
from plumbing.vocabulary import INPUT, POINTER_ACTION_KINDS, Box

# What the visitor did on the page, whose moments are candidates for the photograph. Taps are
# among them for a session not indexed yet (its moments come from the events: see load_reference).
OWN_KINDS: tuple[str, ...] = (*POINTER_ACTION_KINDS, INPUT)
MAX_MOMENTS = 48  # a long typing pageview has hundreds of inputs; a sample of them is enough


@dataclass
class Moment:
    """One candidate moment of the reference pageview and how much of the heatmap it shows."""

    t: int
    why: str  # "before click on 'Create account'", "end of pageview"
    found_hits: int  # wanted hits whose element this moment shows
    found_keys: int
    blocked: bool = False  # a modal dialog or a backdrop covered the page

    def as_json(self) -> dict[str, Any]:
        return {"t": self.t, "why": self.why, "found_hits": self.found_hits,
                "found_keys": self.found_keys, "blocked": self.blocked}


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
    moment: str = "end of pageview"  # why `t` was photographed
    moments: list[Moment] = field(default_factory=list)  # every candidate considered, in time order
    elsewhere: dict[str, int] = field(default_factory=dict)  # key absent at `t`: a moment it was shown
    unfaithful: list[str] = field(default_factory=list)  # what the photograph cannot show (canvas drawings)

    def moment_json(self) -> dict[str, Any]:
        """The chosen moment and the candidates it was chosen from, for the JSON and the report."""
        return {"t": self.t, "why": self.moment, "candidates": [m.as_json() for m in self.moments]}


def locate_keys_js() -> str:
    return page_script("heatmap", "locate_keys.js")


def choose_reference(pageviews: Sequence[Mapping[str, Any]], hits: Iterable[Mapping[str, Any]],
                     wanted: Iterable[Mapping[str, Any]] | None = None) -> tuple[str, int]:
    """(session id, pageview index) of the reference layout.

    Given `wanted` (the hits the map draws), the pageview that met the elements of most of them
    comes first: an element key among its own hits (clicks, inputs, pointer samples, scroll
    landmarks) is an element that page had. A (width, document height) shape alone cannot tell a
    medium banner with the promo from a tall banner without it, and with a few sessions over
    many variants every shape is unique. Then the commonest shape, then the most hits."""
    if not pageviews:
        raise ValueError("no pageviews to take a reference layout from")
    doc_h: dict[tuple[str, int], float] = {}
    n_hits: Counter[tuple[str, int]] = Counter()
    seen: dict[tuple[str, int], set[str]] = {}
    for hit in hits:
        pv = (hit["session_id"], hit["pageview"])
        n_hits[pv] += 1
        if hit.get("element_key"):
            seen.setdefault(pv, set()).add(hit["element_key"])
        if hit.get("doc_h"):
            doc_h[pv] = max(doc_h.get(pv, 0.0), hit["doc_h"])
    weight = Counter(w["element_key"] for w in wanted or () if w.get("element_key"))

    def covered(pv: tuple[str, int]) -> int:
        keys = seen.get(pv, set())
        return sum(n for key, n in weight.items() if key in keys)

    def shape(p: Mapping[str, Any]) -> tuple[int, int]:
        pv = (p["session_id"], p["index"])
        return int(p["width"] or 0), int(round(doc_h.get(pv, 0.0) / 20))
    shapes = Counter(shape(p) for p in pageviews)
    best = max(pageviews, key=lambda p: (
        covered((p["session_id"], p["index"])), shapes[shape(p)], shape(p)[1] > 0, shape(p),
        n_hits[(p["session_id"], p["index"])], -p["first_ts"]))
    return best["session_id"], int(best["index"])


def _describe(hit: Mapping[str, Any]) -> str:
    label = (hit.get("label") or "").strip()
    what = f"'{label[:40]}'" if label else (hit.get("element_key") or "?")
    return f"before {hit['kind']} on {what}"


def candidate_moments(view: Mapping[str, Any], own: Iterable[Mapping[str, Any]], *, last: bool = False
                      ) -> list[tuple[int, str]]:
    """(t, why) to consider photographing: 1 ms before each of the pageview's own clicks and
    inputs (what the visitor was looking at when they acted), and the pageview's end. In time
    order; at most MAX_MOMENTS (an even sample of the own moments, the end always kept).

    A pageview ends where the next one starts (its first event is not this page's), but the
    session's `last` pageview ends with, and includes, the session's last event: often the very
    change (a "thanks" message) the heatmap must not be photographed in by mistake, nor miss."""
    start = int(view["t_start"])
    end = max(start, int(view["t_end"]) - (0 if last else 1))
    found: dict[int, str] = {}
    previous: Mapping[str, Any] | None = None
    for hit in sorted(own, key=lambda h: h["t"]):
        if hit.get("kind") not in OWN_KINDS:
            continue
        typing = (hit["kind"] == INPUT and previous is not None and previous["kind"] == INPUT
                  and previous.get("element_key") == hit.get("element_key"))
        previous = hit
        if typing:
            continue  # the next keystroke in the same field: the page looks as it did a key ago
        t = min(end, max(start, int(hit["t"]) - 1))
        found.setdefault(t, _describe(hit))
    found[end] = "end of pageview"
    moments = sorted(found.items())
    if len(moments) > MAX_MOMENTS:
        step = (len(moments) - 1) / (MAX_MOMENTS - 1)
        moments = [moments[round(i * step)] for i in range(MAX_MOMENTS)]
    return moments


def best_moment(moments: Sequence[Moment]) -> Moment:
    """Most wanted hits shown; then most keys; ties go to the later moment (the page has settled)."""
    return max(moments, key=lambda m: (m.found_hits, m.found_keys, m.t))


def load_reference(store: Any, session_id: str, pageview: int, wanted: Iterable[Mapping[str, Any]],
                   *, browser: Any = None, also: Iterable[str] = ()) -> ReferenceLayout:
    """Replay the reference pageview, pick the moment that shows the most of what the hits hit,
    photograph the whole document then, and find the box of every wanted element key in it.

    Hits made in another state of the page (inside an open dialog: `state_key`; inside a
    scrolling container: `container_key`) do not vote for the moment: they are drawn on a
    photograph of that state (heatmap/states.py), and the base map is the page without it. `also`: more keys to find (the dialogs and scrolling
    containers themselves), which do not vote either."""

    from replay import open_session
    from replay.video import decode_png

    views = {p["index"]: p for p in store.pageviews(session_id)}
    if pageview not in views:
        raise ValueError(f"session {session_id} has no pageview {pageview}")
    view = views[pageview]
    weight: Counter[str] = Counter()
    keys: dict[str, Mapping[str, Any]] = {}
    for w in wanted:
        key = w.get("element_key")
        if key:
            weight[key] += 0 if w.get("state_key") or w.get("container_key") else 1
            keys.setdefault(key, w)
    for key in also:
        keys.setdefault(key, {"element_key": key})
    query = [{"key": k, "tag": w.get("tag") or "", "label": w.get("label") or "", "scope": w.get("scope") or ""}
             for k, w in keys.items()]
    own = store.hits([(session_id, pageview)], kinds=OWN_KINDS)
    script = locate_keys_js()
    with open_session(store, session_id, browser=browser) as rp:
        def locate(t: int) -> dict[str, Any]:
            rp.seek(t)
            return rp.evaluate_in_document(script, query)

        moments: list[Moment] = []
        located: dict[int, list[Box | None]] = {}
        elsewhere: dict[str, int] = {}
        if not own:  # not indexed (yet): the recorded clicks still say when the visitor acted
            own = [{"t": i.t, "kind": i.kind, "label": "", "element_key": f"node {i.node_id}"}
                   for i in rp.interactions() if view["t_start"] <= i.t <= view["t_end"]]
        for t, why in candidate_moments(view, own, last=pageview == max(views)):
            found = locate(t)
            located[t] = [Box(*b) if b else None for b in found["boxes"]]
            shown = [k for k, b in zip(keys, located[t]) if b]
            for k in shown:
                elsewhere.setdefault(k, t)
            moments.append(Moment(t, why, sum(weight[k] for k in shown), sum(1 for k in shown if weight[k]),
                                  bool(found["blocked"])))
        best = best_moment(moments)
        if best.t != moments[-1].t:
            found = locate(best.t)  # seek back: the photograph and the boxes come from one state
            located[best.t] = [Box(*b) if b else None for b in found["boxes"]]
        boxes = dict(zip(keys, located[best.t]))
        png = rp.screenshot(full_page=True)
        image = decode_png(png)
        unfaithful = photograph_gaps(rp)
        return ReferenceLayout(
            session_id=session_id, pageview=pageview, url=view["url"], t=best.t, viewport=rp.viewport(),
            doc_size=rp.document_size(), image=image, boxes=boxes, moment=best.why, moments=moments,
            elsewhere={k: t for k, t in elsewhere.items() if boxes.get(k) is None}, unfaithful=unfaithful,
        )


def photograph_gaps(rp: Any) -> list[str]:
    """What the reference photograph cannot show as visitors saw it: canvases whose drawing was not
    recorded (canvas capture off, or a WebGL context), one line per reason with its count."""
    reasons = Counter(u["detail"] for u in rp.unfaithful() if u["kind"] == "canvas")
    return [f"{n} canvas{'es' * (n != 1)}: {why}" for why, n in sorted(reasons.items())]
