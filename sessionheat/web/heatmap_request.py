"""What the heatmap explorer was asked for: the query string of `/heatmaps`, checked and made
canonical, so that one map has one cache key however its URL was spelled.

    /heatmaps?url=/&kind=click&viewport=desktop&device=&segment=variant=B&since=&until=
             &reference=SESSION&compare=1&vs_segment=variant=A&vs_since=&vs_until=

`segment` (and `vs_segment`) may repeat, and each value may hold several `k=v` pairs separated by
commas or spaces: a person types "variant=B, plan=pro" into one box.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

from plumbing.devices import DEVICES, TYPICAL_WIDTHS, viewport_bucket
from plumbing.store import page_path  # re-exported: the explorer's pages are the store's
from plumbing.user_input import (
    InputError,
    parse_choice,
    parse_day,
    parse_pairs,
    parse_session_id,
    parse_width,
)
from plumbing.vocabulary import CLICK, HEATMAP_KINDS, POINT_KINDS

KINDS = HEATMAP_KINDS  # re-exported: what the explorer offers
CACHE_FORMAT = 1  # bump when what a cached map holds changes


def _pairs(name: str, values: Sequence[str]) -> tuple[str, ...]:
    pairs = [f"{key}={value}" for key, value in parse_pairs(values, name, value_required=True)]
    return tuple(sorted(dict.fromkeys(pairs)))


def _bucket(value: str) -> str:
    value = value.strip().lower()
    if not value or value in TYPICAL_WIDTHS:
        return value
    return viewport_bucket(parse_width(value, "viewport", names=list(TYPICAL_WIDTHS)))[0]


def _date(name: str, value: str) -> str:
    return parse_day(value, name) if value.strip() else ""


@dataclass(frozen=True)
class MapRequest:
    """One heatmap (or one compare of two segments) the explorer was asked to draw."""

    url: str = ""
    kind: str = CLICK
    viewport: str = ""  # "" or a bucket name: desktop / tablet / mobile
    device: str = ""
    segment: tuple[str, ...] = ()  # k=v session properties (or any Segment key)
    since: str = ""
    until: str = ""
    reference: str = ""
    compare: bool = False
    vs_segment: tuple[str, ...] = ()
    vs_since: str = ""
    vs_until: str = ""
    errors: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> "MapRequest":
        """Parse a query (Starlette QueryParams or a dict of lists); never raises: what cannot be
        understood is dropped and said in `errors`, so the form can show it beside the field."""
        def many(name: str) -> list[str]:
            if hasattr(query, "getlist"):
                return [v for v in query.getlist(name)]
            value = query.get(name, [])
            return list(value) if isinstance(value, (list, tuple)) else [value]

        def one(name: str) -> str:
            values = many(name)
            return str(values[-1]).strip() if values else ""

        errors: list[str] = []
        fields: dict[str, Any] = {"url": one("url")}
        fields["kind"], fields["device"], fields["reference"] = CLICK, "", ""
        for name, parse in (
            ("kind", lambda: parse_choice(one("kind") or CLICK, "kind", HEATMAP_KINDS)),
            ("device", lambda: parse_choice(one("device").lower(), "device", DEVICES) if one("device") else ""),
            ("viewport", lambda: _bucket(one("viewport"))),
            ("segment", lambda: _pairs("segment", many("segment"))),
            ("vs_segment", lambda: _pairs("vs_segment", many("vs_segment"))),
            ("since", lambda: _date("since", one("since"))),
            ("until", lambda: _date("until", one("until"))),
            ("vs_since", lambda: _date("vs_since", one("vs_since"))),
            ("vs_until", lambda: _date("vs_until", one("vs_until"))),
            ("reference", lambda: parse_session_id(one("reference"), "reference") if one("reference") else ""),
        ):
            try:
                fields[name] = parse()
            except InputError as exc:
                errors.append(str(exc))
        kind = fields["kind"]
        fields["compare"] = one("compare").lower() in ("1", "on", "true", "yes") or bool(
            fields.get("vs_segment") or fields.get("vs_since") or fields.get("vs_until"))
        if fields["compare"] and kind not in POINT_KINDS:
            errors.append(f"compare draws {', '.join(POINT_KINDS)} maps, not {kind}")
            fields["compare"] = False
        return cls(**fields, errors=tuple(errors))

    # -- segments ---------------------------------------------------------------------------

    def segments(self) -> tuple[Any, Any | None]:
        """(A, B or None) as heatmap Segments; raises heatmap.SegmentError on a bad filter."""
        from heatmap import Segment

        fixed = {"url": self.url or None, "device": self.device or None,
                 "viewport_w": TYPICAL_WIDTHS.get(self.viewport)}
        a = Segment.parse(list(self.segment), **fixed, since=self.since or None, until=self.until or None)
        if not self.compare:
            return a, None
        b = Segment.parse(list(self.vs_segment), **fixed, since=self.vs_since or None,
                          until=self.vs_until or None)
        return a, b

    # -- identity and links -----------------------------------------------------------------

    def canonical(self) -> dict[str, Any]:
        """Every field that changes the picture, in one stable shape."""
        data = asdict(self)
        data.pop("errors")
        data["url"] = page_path(self.url) if self.url else ""
        if not self.compare:
            for name in ("vs_segment", "vs_since", "vs_until"):
                data.pop(name)
        return data

    def request_id(self) -> str:
        """The request alone, whatever its selection holds: names the latest map drawn for it."""
        blob = json.dumps({"format": CACHE_FORMAT, "request": self.canonical()}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def cache_key(self, selection_fingerprint: Any) -> str:
        """The map's identity: the request, plus what its selection held when it was drawn."""
        blob = json.dumps({"format": CACHE_FORMAT, "request": self.canonical(),
                           "selection": selection_fingerprint}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def query(self, **changes: Any) -> str:
        """This request as a query string (with `changes`), for links and forms."""
        data = {**self.canonical(), **changes}
        data["url"] = self.url if "url" not in changes else changes["url"]
        if not data.get("compare"):
            for name in ("vs_segment", "vs_since", "vs_until"):
                data.pop(name, None)
        items: list[tuple[str, str]] = []
        for name, value in data.items():
            if isinstance(value, bool):
                if value:
                    items.append((name, "1"))
            elif isinstance(value, (tuple, list)):
                items += [(name, str(v)) for v in value]
            elif value not in ("", None):
                items.append((name, str(value)))
        return urlencode(items)
