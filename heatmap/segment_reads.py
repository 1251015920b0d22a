"""What one heatmap or compare reads from the store, each thing read once.

Drawing a map used to go back to the store for the same rows: a segment's pageviews for its origin
and again for the compare's common site, the hits of a kind and then every hit of the same
pageviews for the reference, and the key evidence of the same pages (`heatmap.keys`) for the map
and again for its reference. Here each is read on first use and then served from memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from plumbing.store import SessionStore, origin_of

from heatmap.keys import page_evidence, settle_keys, stable_ids
from heatmap.segments import OriginChoice, Segment


class SegmentReads:
    """One call path's reads: segments' pageviews, hits by pageview, stable ids by page set."""

    def __init__(self, store: SessionStore):
        self.store = store
        self._rows: dict[int, list[dict[str, Any]]] = {}  # id(segment) -> every pageview it selects
        self._hits: list[tuple[frozenset[tuple[str, int]], list[dict[str, Any]]]] = []
        self._stable: dict[frozenset[tuple[str, str]], frozenset[str]] = {}

    def rows(self, segment: Segment) -> list[dict[str, Any]]:
        if id(segment) not in self._rows:
            self._rows[id(segment)] = segment.select_all(self.store)
        return self._rows[id(segment)]

    def choice(self, segment: Segment, prefer: str | None = None) -> OriginChoice:
        return segment.one_origin(self.rows(segment), prefer)

    def hits(self, pageviews: Sequence[Mapping[str, Any]], kinds: Iterable[str] | None = None
             ) -> list[dict[str, Any]]:
        """Every hit of these pageviews (in session and time order), or those of `kinds`: read
        once for a set of pageviews, or picked from a wider set read before."""
        pairs = [(p["session_id"], int(p["index"])) for p in pageviews]
        wanted = frozenset(pairs)
        hits = next((rows for have, rows in self._hits if wanted <= have), None)
        if hits is None:
            hits = self.store.hits(list(dict.fromkeys(pairs)))
            self._hits.append((wanted, hits))
        else:
            hits = [h for h in hits if (h["session_id"], h["pageview"]) in wanted]
        if kinds is not None:
            kind_set = set(kinds)
            hits = [h for h in hits if h["kind"] in kind_set]
        return hits

    def settled(self, pageviews: Sequence[Mapping[str, Any]], hits: Iterable[Mapping[str, Any]]
                ) -> list[dict[str, Any]]:
        """`hits` keyed as the data of their pages allows (`heatmap.keys.settled_hits`)."""
        pages = frozenset((origin_of(p["url"]), p["page_path"]) for p in pageviews if p.get("url"))
        if pages not in self._stable:
            self._stable[pages] = stable_ids(page_evidence(self.store, pageviews))
        return settle_keys(hits, self._stable[pages])
