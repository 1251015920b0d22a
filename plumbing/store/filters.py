"""The filter model: what the session list, heatmap segments and the explorer narrow to, as SQL."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from plumbing.conversions import (
    Goal,
    property_terms,
)
from plumbing.sql_dialect import SQLITE, Dialect
from plumbing.store.rows import (
    StoreError,
)

SESSION_SORTS = {"started": "first_ts", "duration": "duration_ms", "events": "n_events"}


@dataclass
class SessionFilter:
    """The one filter model: what the session list, a heatmap's segment and the explorer narrow
    to. Everything unset matches every session (or pageview). `filter_terms` compiles it to SQL."""

    url: str | None = None  # some pageview's URL contains this text
    since_ms: int | None = None  # started at or after (epoch ms)
    until_ms: int | None = None  # started before (epoch ms)
    device: str | None = None  # desktop / tablet / mobile
    viewport: tuple[int, int] | None = None  # exact width x height
    properties: dict[str, str] = field(default_factory=dict)  # all must match, as strings
    goals: tuple[Goal, ...] = ()  # when given, `converted` in `properties` is answered by these
    rage: bool = False  # has at least one rage click (indexed sessions only)
    dead: bool = False  # has at least one dead click (indexed sessions only)
    min_duration_ms: int | None = None
    # Over pageviews (`pageviews p`, joined to their session) only: a heatmap's selection.
    page_path: str | None = None  # the pageview's `page_path` is this (hosts are the caller's to compare)
    width_range: tuple[int, int] | None = None  # the pageview's width, inclusive (a viewport bucket)


def _encode_cursor(value: Any, session_id: str) -> str:
    raw = json.dumps([value, session_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[Any, str]:
    """(sort value, session id) from a cursor; StoreError for anything that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, session_id = json.loads(raw)
    except Exception:
        raise StoreError("not a page cursor") from None
    if not isinstance(session_id, str) or isinstance(value, bool) or not isinstance(value, int) \
            or not -2**63 <= value < 2**63:  # past SQLite's integers: not one of ours
        raise StoreError("not a page cursor")
    return value, session_id


URL_RARE_SHARE = 0.01  # below this share of pageviews, a URL filter starts from the pageviews


def filter_terms(filters: SessionFilter, url_share: float | None = None, dialect: Dialect = SQLITE
                 ) -> tuple[list[str], list[Any]]:
    """WHERE terms (ANDed) and their parameters for a filter over `sessions s` (and, when it has
    pageview terms, `pageviews p` joined to them).

    `url_share` (the share of pageviews whose URL matches) picks the plan for the URL filter: a
    common URL is checked session by session in list order, which stops as soon as a page is full;
    a rare one starts from the few matching pageviews instead of probing every session.
    """
    terms = ["s.first_ts IS NOT NULL"]  # a session that sent no event yet has nothing to show
    params: list[Any] = []
    if filters.page_path is not None:
        terms.append("p.page_path = ?")
        params.append(filters.page_path)
    if filters.width_range:
        terms.append("p.width BETWEEN ? AND ?")
        params += [int(filters.width_range[0]), int(filters.width_range[1])]
    if filters.url:
        if url_share is not None and url_share < URL_RARE_SHARE:
            terms.append("s.id IN (SELECT p.session_id FROM pageviews p WHERE instr(p.url, ?) > 0)")
        else:
            terms.append("EXISTS (SELECT 1 FROM pageviews p WHERE p.session_id = s.id"
                         " AND instr(p.url, ?) > 0)")
        params.append(filters.url)
    if filters.since_ms is not None:
        terms.append("s.first_ts >= ?")
        params.append(int(filters.since_ms))
    if filters.until_ms is not None:
        terms.append("s.first_ts < ?")
        params.append(int(filters.until_ms))
    if filters.device:
        terms.append("s.device = ?")
        params.append(filters.device)
    if filters.viewport:
        terms.append("s.viewport_w = ? AND s.viewport_h = ?")
        params += [int(filters.viewport[0]), int(filters.viewport[1])]
    property_sql, property_params = property_terms(filters.properties, filters.goals, dialect)
    terms += property_sql
    params += property_params
    if filters.rage:
        terms.append("EXISTS (SELECT 1 FROM hits h WHERE h.session_id = s.id AND h.rage = 1)")
    if filters.dead:
        terms.append("EXISTS (SELECT 1 FROM hits h WHERE h.session_id = s.id AND h.dead = 1)")
    if filters.min_duration_ms:
        terms.append("s.duration_ms >= ?")
        params.append(int(filters.min_duration_ms))
    return terms, params
