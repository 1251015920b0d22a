"""How the store writes times, ids, origins and properties, and reads them back."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit


def _properties(raw: str | dict[str, Any] | None) -> dict[str, Any]:
    """A session's stored properties (JSON text in SQLite, already an object from PostgreSQL's
    JSONB); a damaged value reads as none rather than failing a page."""
    if isinstance(raw, dict):
        return dict(raw)
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lowercased as browsers compare origins; '' for a bare path."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else ""


def day_ms(day: str, *, end: bool = False) -> int:
    """Where a YYYY-MM-DD day starts (UTC, epoch ms), or with `end` where the next one starts: the
    bounds of a date filter whose since and until days are both inclusive. ValueError if no date."""
    d = date.fromisoformat(day)
    start = datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000
    return int(start + (86_400_000 if end else 0))


def _new_site_key() -> str:
    return "shk_" + secrets.token_urlsafe(18)


def new_session_id() -> str:
    """Never starting with "-": an id is typed as a command-line argument (`sessionheat export ID`),
    where it would be taken for an option."""
    while True:
        session_id = secrets.token_urlsafe(12)
        if not session_id.startswith("-"):
            return session_id


def _iso(ts_ms: float | None) -> str | None:
    if ts_ms is None:
        return None
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def _now_iso() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="milliseconds")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
