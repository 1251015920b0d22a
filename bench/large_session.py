"""A realistic large session for load tests: a shop page reloaded many times (each load a Meta and
a FullSnapshot of a few thousand nodes), with bursts of DOM mutations, mouse moves and scrolls in
between, stored in chunks the size the snippet sends. Strings stay short, as a real page's text
does, so nothing collapses into the blobs table and the session weighs what it says.
"""

from __future__ import annotations

import random
from typing import Any

from plumbing.store import SessionStore

T0 = 1_790_000_000_000  # 2026-09-21
CHUNK_EVENTS = 400  # events per stored chunk, about what the snippet flushes at once


def _snapshot_tree(rng: random.Random, n_nodes: int) -> tuple[dict[str, Any], int]:
    """A <html><body> with `n_nodes` product cards (div > h3 + p + a), ids from 1."""
    next_id = 5
    cards = []
    for i in range(n_nodes // 4):
        text = " ".join(rng.choice(("fast", "blue", "light", "warm", "new", "classic", "soft"))
                        for _ in range(8))
        cards.append({"type": 2, "tagName": "div", "attributes": {"class": f"card card-{i % 7}"},
                      "id": next_id, "childNodes": [
                          {"type": 2, "tagName": "h3", "attributes": {}, "id": next_id + 1,
                           "childNodes": [{"type": 3, "textContent": f"Product {i}", "id": next_id + 2}]},
                          {"type": 3, "textContent": text, "id": next_id + 3}]})
        next_id += 4
    body = {"type": 2, "tagName": "body", "attributes": {}, "id": 4, "childNodes": cards}
    html = {"type": 2, "tagName": "html", "attributes": {}, "id": 2, "childNodes": [
        {"type": 2, "tagName": "head", "attributes": {}, "id": 3, "childNodes": []}, body]}
    return {"type": 0, "childNodes": [{"type": 1, "name": "html", "id": 1}, html], "id": 0}, next_id


def large_session_events(target_bytes: int = 30_000_000, seed: int = 7,
                         href: str = "http://shop.test/catalog") -> list[dict[str, Any]]:
    """Events of one long visit, about `target_bytes` of JSON."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    t, size = T0, 0
    while size < target_bytes:
        tree, next_id = _snapshot_tree(rng, 4000)
        events.append({"type": 4, "timestamp": t, "data": {"href": href, "width": 1280, "height": 800}})
        events.append({"type": 2, "timestamp": t + 1, "data": {"node": tree,
                                                               "initialOffset": {"left": 0, "top": 0}}})
        size += 400_000  # a snapshot's JSON, near enough
        t += 50
        for _ in range(600):
            t += rng.randint(5, 80)
            kind = rng.random()
            if kind < 0.5:
                adds = [{"parentId": 4, "nextId": None, "node": {
                    "type": 2, "tagName": "div", "attributes": {"class": "toast"}, "id": next_id + k,
                    "childNodes": []}} for k in range(6)]
                next_id += 6
                data = {"source": 0, "texts": [], "attributes": [], "removes": [], "adds": adds}
            elif kind < 0.85:
                data = {"source": 1, "positions": [
                    {"x": rng.randint(0, 1280), "y": rng.randint(0, 800), "id": 4, "timeOffset": -k * 16}
                    for k in range(8)]}
            else:
                data = {"source": 3, "id": 1, "x": 0, "y": rng.randint(0, 20000)}
            events.append({"type": 3, "timestamp": t, "data": data})
            size += 420
    return events


def store_large_session(store: SessionStore, session_id: str = "large-session-0001",
                        target_bytes: int = 30_000_000) -> int:
    """Write the large session into `store` in snippet-sized chunks; returns its JSON bytes."""
    events = large_session_events(target_bytes)
    store.create_session(session_id, site="bench", viewport=(1280, 800))
    for seq, start in enumerate(range(0, len(events), CHUNK_EVENTS)):
        store.append_chunk(session_id, seq, events[start:start + CHUNK_EVENTS])
    return int(store.get_session(session_id)["n_raw_bytes"])
