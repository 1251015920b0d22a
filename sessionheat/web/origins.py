"""Which origins a site's sessions may come from, and may claim to be from.

A site key is public, so whoever holds it can send anything. Two things bound what it can do: the
`Origin` header a browser sends (a page elsewhere cannot use the key), and the URLs the events
themselves claim (a Meta event's `data.href`, our route event's `payload.href`). The second matters
to replay and indexing, which load what a session claims: an unchecked href of
`http://127.0.0.1:9997/` would make them fetch inside our network.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

from plumbing.events import EventType
from plumbing.vocabulary import TAG_ROUTE

ANY_ORIGIN = "*"


def normalize_origin(url: str) -> str:
    """`scheme://host[:port]` as browsers send it in `Origin`, or `*` for any origin."""
    if url == ANY_ORIGIN:
        return url
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) origin such as https://staging.example")
    default = {"http": 80, "https": 443}[parts.scheme]
    port = "" if parts.port in (None, default) else f":{parts.port}"
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}{port}"


def origin_allowed(origins: Collection[str], origin: str) -> bool:
    """Whether `origin` (a header or a URL) is one of `origins`; `*` allows any http(s) origin."""
    try:
        normalized = normalize_origin(origin)
    except ValueError:  # "null" (sandboxed frames, file://), other schemes, bad ports
        return False
    return normalized != ANY_ORIGIN and (ANY_ORIGIN in origins or normalized in origins)


# Plain ints: compared with every event of every chunk, where an enum member costs a lookup each time.
_META, _CUSTOM = int(EventType.META), int(EventType.CUSTOM)


def claimed_hrefs(events: list[dict[str, Any]]) -> list[Any]:
    """Every page address the events claim: Meta `data.href` and route `payload.href`."""
    hrefs = []
    for event in events:
        etype = event["type"]
        if etype == _META:
            hrefs.append(event["data"]["href"])
        elif etype == _CUSTOM and event["data"]["tag"] == TAG_ROUTE:
            payload = event["data"].get("payload")
            if isinstance(payload, dict) and "href" in payload:
                hrefs.append(payload["href"])
    return hrefs


def unclaimable_href(events: list[dict[str, Any]], origins: Collection[str]) -> str | None:
    """Why these events claim a page the site may not, naming the href's origin; None if all may."""
    for href in claimed_hrefs(events):
        if not isinstance(href, str):
            return "a page's href must be a string"
        if not origin_allowed(origins, href):
            try:
                origin = normalize_origin(href)
            except ValueError:
                return f"the page address {href[:100]!r} is not an http(s) URL"
            return f"the page origin {origin[:100]!r} is not one of this site's origins"
    return None
