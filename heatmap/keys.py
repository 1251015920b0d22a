"""Element keys: what names "the same element" across sessions whose DOMs differ.

The rules live in `element_key.js`, which runs inside whatever document holds the element (a live
page, or a replayed session's iframe); this module hands that script to callers, turns its answer
into hits-table columns, and decides from the data which ids are stable enough to key on.

An id is stable when the data says so, not because of how it looks: an app that regenerates ids on
each render (`#OOv33KY=`) shows another id at the same place in every pageview, while a meaningful
id is the same wherever it is seen. Each hit keeps both keys (`element_key` with ids, `selector`
without any); building a map picks, per hit, the one its ids allow (`settle_keys`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plumbing.assets import page_script
from plumbing.store import origin_of
from plumbing.vocabulary import Box


@dataclass(frozen=True)
class ElementKey:
    key: str  # a CSS selector, unique in the element's own root (" >>> " steps into a shadow root)
    label: str  # visible text, trimmed
    tag: str
    interactive: bool  # a link, button, field... (or inside one: clicks on a button's icon count for it)
    box: Box  # where it was, document px
    scope: str | None = None  # key of the nearest keyed ancestor (None: the document)
    plain_key: str = ""  # the key built without any id
    ids: tuple[tuple[str, ...], ...] = ()  # (id, place, anchor, instead) of each id relied on


def element_key_js() -> str:
    """`(function (el, opts) {...})` returning {key, scope, plain, ids, label, tag, interactive, box}."""
    return page_script("heatmap", "element_key.js")


def key_from_js(value: dict[str, Any] | None) -> ElementKey | None:
    if not value:
        return None
    plain = value.get("plain") or {}
    return ElementKey(value["key"], value["label"], value["tag"], bool(value["interactive"]),
                      Box(*value["box"]), value.get("scope"),
                      plain.get("key") or value["key"], tuple(tuple(i) for i in value.get("ids") or ()))


def element_key_of(page_or_frame: Any, selector: str) -> ElementKey | None:
    """Key of the first element matching `selector` in a Playwright page or frame."""
    return key_from_js(page_or_frame.evaluate(
        f"(selector) => ({element_key_js()})(document.querySelector(selector))", selector))


# -- hits-table columns and the cross-session choice ---------------------------------------------

SHADOW = " >>> "  # element_key.js: between a shadow host's key and the key inside its shadow root


def key_columns(found: Mapping[str, Any]) -> dict[str, Any]:
    """The hits-table columns naming an element from element_key.js's answer: `element_key` (ids
    allowed), `selector` (no id at all) and `key_context` (JSON: the keyed ancestor, and every id
    the key relies on with its place and what stands for it when the id proves regenerated)."""
    plain = found.get("plain") or {"key": found["key"]}
    context = {"scope": found.get("scope"), "ids": found.get("ids") or []}
    return {"element_key": found["key"], "selector": plain["key"], "key_context": json.dumps(context)}


def _context(hit: Mapping[str, Any]) -> dict[str, Any] | None:
    raw = hit.get("key_context")
    if not raw:
        return None  # indexed before key contexts: its key stands as it is
    try:
        return json.loads(raw)
    except ValueError:
        return None


def stable_ids(evidence: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Ids the data does not contradict: no place an id was seen at (the id-less key of the element
    carrying it) ever showed another id, in any pageview or render. An id the app regenerates
    shows a new id at the same place each time it is seen there; a meaningful id shows the same
    one in every session (and may move: a variant puts `#cta` elsewhere). An id seen once has
    shown nothing either way and stands, so the operation it names still holds its hits (the
    keyed ancestor a stand-in must be found in)."""
    ids_at: dict[str, set[str]] = defaultdict(set)  # place -> ids seen there
    places: dict[str, set[str]] = defaultdict(set)  # id -> places it was seen at
    for hit in evidence:
        context = _context(hit)
        for element_id, place, *_ in (context or {}).get("ids") or ():
            ids_at[place].add(element_id)
            places[element_id].add(place)
    return frozenset(i for i, where in places.items() if all(ids_at[p] == {i} for p in where))


def rekey(key: str | None, ids: Sequence[Sequence[str]], stable: frozenset[str]) -> str | None:
    """`key` with every part that begins with a regenerated id's anchor ("#OOv33KY\\=") begun
    instead by that element's id-less key (which may begin with a stable id further up)."""
    if not key:
        return key
    instead = {anchor: alt for element_id, _, anchor, alt in (i for i in ids if len(i) == 4)
               if element_id not in stable}
    parts = []
    for part in key.split(SHADOW):
        for _ in range(len(instead)):  # each replacement is one step up the tree
            anchor = part.split(" > ", 1)[0]
            if anchor not in instead:
                break
            part = instead[anchor] + part[len(anchor):]
        parts.append(part)
    return SHADOW.join(parts)


def settle_keys(hits: Iterable[Mapping[str, Any]], stable: frozenset[str]) -> list[dict[str, Any]]:
    """Copies of `hits` whose `element_key` and `scope` rely on no id the data shows regenerated:
    such an id's anchor is replaced by the id-less key of the element carrying it."""
    out = []
    for hit in hits:
        row = dict(hit)
        context = _context(hit)
        if context is not None:
            ids = context.get("ids") or []
            row["element_key"] = rekey(hit["element_key"], ids, stable)
            row["scope"] = rekey(context.get("scope"), ids, stable)
        out.append(row)
    return out


def page_evidence(store: Any, pageviews: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The key contexts of every hit of every pageview of the pages these pageviews show (same
    origin, same page path, whatever segment), each once: whether an id is stable is a fact about
    the page, and both sides of a compare, and the map and its reference, must decide it alike."""
    pages = {(origin_of(p["url"]), p["page_path"]) for p in pageviews if p.get("url")}
    pairs: list[tuple[str, int]] = []
    for path in sorted({path for _, path in pages}):
        pairs += [(p["session_id"], int(p["index"])) for p in store.find_pageviews(path=path)
                  if (origin_of(p["url"]), path) in pages]
    return [{"key_context": c} for c in store.hit_key_contexts(pairs)]


def settled_hits(store: Any, pageviews: Sequence[Mapping[str, Any]], hits: Iterable[Mapping[str, Any]]
                 ) -> list[dict[str, Any]]:
    """`hits` keyed as the data of their pages allows (see `settle_keys`)."""
    return settle_keys(hits, stable_ids(page_evidence(store, pageviews)))


def element_hits(store: Any, pageviews: Sequence[Mapping[str, Any]], element_key: str,
                 kinds: Iterable[str]) -> list[dict[str, Any]]:
    """The hits of these pageviews on the element a map names `element_key` (as settled: the
    stored key may carry an id the map set aside), in session and time order."""
    pairs = list(dict.fromkeys((p["session_id"], int(p["index"])) for p in pageviews))
    hits = store.hits(pairs, kinds=kinds)
    return [h for h in settled_hits(store, pageviews, hits) if h["element_key"] == element_key]
