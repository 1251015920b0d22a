"""Which pageviews a heatmap is drawn from: URL, device / viewport bucket, dates, properties."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from plumbing.conversions import Goal, parse_converted
from plumbing.devices import DEVICES, VIEWPORT_BUCKETS, viewport_bucket
from plumbing.store import SessionFilter, SessionStore, day_ms, origin_of, page_path
from plumbing.user_input import InputError, parse_choice, parse_day, parse_pair, parse_width
from plumbing.vocabulary import CONVERTED, counted

SEGMENT_KEYS = ("url", "device", "viewport", "since", "until")

SegmentError = InputError  # a segment that cannot be understood; the message says how to write it


@dataclass
class Segment:
    """A selection of pageviews. Everything unset matches everything."""

    url: str | None = None
    device: str | None = None
    viewport_w: int | None = None  # selects the whole bucket this width falls in
    since: str | None = None  # YYYY-MM-DD, inclusive
    until: str | None = None  # YYYY-MM-DD, inclusive
    properties: dict[str, str] = field(default_factory=dict)
    goals: tuple[Goal, ...] = ()  # when given, converted=yes|no means reaching one of these

    @classmethod
    def parse(cls, pairs: list[str] | tuple[str, ...], **fixed: Any) -> "Segment":
        """From `key=value` strings: url, device, viewport (WxH or a width), since, until; any
        other key is a session property (variant=B, plan=pro...). `converted` is yes or no: by
        `goals` when given, else by the goals of each session's site (plumbing/conversions.py)."""
        segment = cls(**{k: v for k, v in fixed.items() if v is not None})
        for pair in pairs:
            key, value = parse_pair(pair, "segment")
            if key == "viewport":
                segment.viewport_w = parse_width(value, "viewport")
            elif key in SEGMENT_KEYS:
                setattr(segment, key, value)
            elif key == CONVERTED:
                segment.properties[key] = parse_converted(value)
            else:
                segment.properties[key] = value
        if segment.device is not None:
            parse_choice(segment.device, "device", DEVICES)
        for name in ("since", "until"):
            if getattr(segment, name):
                parse_day(getattr(segment, name), name)
        return segment

    def bucket_label(self) -> str | None:
        """Which viewport bucket a width selects, and its range: `--viewport 1000x700` draws every
        tablet, which nobody guesses from the number alone."""
        if not self.viewport_w:
            return None
        name, low, high = viewport_bucket(self.viewport_w)
        span = f"{low}-{high} px wide" if high < VIEWPORT_BUCKETS[-1][2] else f"{low} px wide and up"
        return f"{name} viewports ({span})"

    def label(self) -> str:
        parts = []
        if self.url:
            parts.append(self.url)
        if self.device:
            parts.append(self.device)
        if self.viewport_w:
            parts.append(f"{viewport_bucket(self.viewport_w)[0]} viewport")
        if self.since or self.until:
            parts.append(f"{self.since or '…'} to {self.until or '…'}")
        parts += [f"{k}={v}" + (f" ({' or '.join(map(str, self.goals))})" if k == CONVERTED and self.goals else "")
                  for k, v in sorted(self.properties.items())]
        return ", ".join(parts) or "all pageviews"

    def select(self, store: SessionStore) -> list[dict[str, Any]]:
        """The matching pageviews, each with its session's segment columns, from one origin
        (see select_one_origin)."""
        return self.select_one_origin(store).pageviews

    def select_one_origin(self, store: SessionStore, prefer: str | None = None) -> "OriginChoice":
        """The matching pageviews, from one origin only: a path-only URL (`/index.html`) can match
        pages of several sites (staging, the demo, a colleague's port), and their layouts have
        nothing in common. The origin with most pageviews is kept, and the others are named, so
        nobody reads one site's clicks as "not on this layout" of another's. `prefer` keeps that
        origin instead when it has any (a compare draws both sides from one site)."""
        return self.one_origin(self.select_all(store), prefer)

    def one_origin(self, rows: list[dict[str, Any]], prefer: str | None = None) -> "OriginChoice":
        """`select_one_origin` over rows already read (`select_all`), without going back to the store."""
        if not self.url or urlsplit(self.url).netloc:
            return OriginChoice(rows, None, {}, self.url or "")
        counts: dict[str, int] = {}
        for row in rows:
            counts[origin_of(row["url"])] = counts.get(origin_of(row["url"]), 0) + 1
        if len(counts) < 2:
            return OriginChoice(rows, next(iter(counts), None), {}, self.url)
        kept = prefer if prefer in counts else min(counts, key=lambda o: (-counts[o], o))
        others = {o: n for o, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if o != kept}
        return OriginChoice([r for r in rows if origin_of(r["url"]) == kept], kept, others, self.url)

    def to_filter(self) -> SessionFilter:
        """This segment in the store's one filter model (what the session list narrows with too)."""
        bucket = viewport_bucket(self.viewport_w)[1:] if self.viewport_w else None
        return SessionFilter(
            device=self.device, width_range=bucket,
            since_ms=day_ms(parse_day(self.since, "since"), end=False) if self.since else None,
            until_ms=day_ms(parse_day(self.until, "until"), end=True) if self.until else None,
            properties=dict(self.properties), goals=tuple(self.goals),
            page_path=page_path(self.url) if self.url is not None else None)

    def select_all(self, store: SessionStore) -> list[dict[str, Any]]:
        """Every matching pageview, whatever its origin."""
        rows = store.find_pageviews(self.to_filter())
        return [r for r in rows if url_matches(self.url, r["url"])] if self.url else rows


@dataclass
class OriginChoice:
    """Pageviews of one origin, and the origins set aside (origin -> pageviews) with their count."""

    pageviews: list[dict[str, Any]]
    origin: str | None  # scheme://host:port kept; None when the URL named it or nothing matched
    others: dict[str, int]
    url: str

    def note(self) -> str | None:
        """What a reader must be told when other sites' pageviews were set aside, and how to pick."""
        if not self.others:
            return None
        path = urlsplit(self.url).path or "/"
        aside = ", ".join(f"{o} ({n})" for o, n in self.others.items())
        example = next(iter(self.others)) + path
        return (f"{path} is on {len(self.others) + 1} sites: drew {self.origin} "
                f"({counted(len(self.pageviews), 'pageview')}), not {aside}; "
                f"give a full URL to choose, e.g. {example}")

    def as_json(self) -> dict[str, Any]:
        return {"origin": self.origin,
                "other_origins": [{"origin": o, "pageviews": n} for o, n in self.others.items()]}


def url_matches(wanted: str, url: str) -> bool:
    """Same page: the path must match; scheme and host too when `wanted` names them. The query
    and fragment are ignored (campaign tags, variant flags), as are a trailing slash and a
    directory's index file (`/` is `/index.html`)."""
    want, have = urlsplit(wanted), urlsplit(url)
    if want.netloc and want.netloc != have.netloc:
        return False
    return page_path(wanted) == page_path(url)
