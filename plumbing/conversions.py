"""Goals, and whether a session reached one: `converted` = yes | no.

A goal is a page reached or a custom event fired:

    url:/signup/done     a pageview whose path (plumbing.page_paths.page_path: no query, no
                         trailing slash or index.html) matches; `*` stands for any run of characters
                         (url:/order/*/done)
    event:signup         a custom event of that name: `sessionheat.event("signup")` in the snippet's
                         pages, `session.annotate("signup")` in `record()`

A session converted when it reached any goal of its site. The answer is worked out in SQL from two
things the store keeps at ingest: the pageviews (already indexed by page path) and the names of the
custom events each session fired (`named_events`). So a goal added later applies to the sessions
recorded before it as well: `SessionStore.set_goals` writes `converted` into every session of
the site at once, and the ingest of each new chunk refreshes its own session's. A command can also
name goals of its own (`sessionheat heatmap --goal ...`): then `converted=` in its segments is
answered by the same SQL at query time, whatever the sessions' sites say.

The store's helper: only plumbing/store/ calls the functions that take a connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plumbing.page_paths import page_path
from plumbing.sql_dialect import SQLITE, Dialect, SqlConnection
from plumbing.user_input import InputError, parse_choice
from plumbing.vocabulary import CONVERTED, CONVERTED_VALUES, GOAL_KINDS

MAX_GOAL_CHARS = 300
MAX_EVENT_NAME_CHARS = 200  # longer custom-event names are kept cut to this (and so matched)
GOAL_HOW = "give url:PATH (e.g. url:/signup/done; * matches any part) or event:NAME (e.g. event:signup)"


@dataclass(frozen=True, order=True)
class Goal:
    """A page reached (`kind` url, `target` a page path, `*` allowed) or a custom event fired
    (`kind` event, `target` its name)."""

    kind: str
    target: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}"


def parse_goal(text: str, field: str = "goal") -> Goal:
    """`url:/path` or `event:name` -> Goal; InputError otherwise. A URL goal is a path: a full URL
    is refused rather than half-matched, since goals match on every origin of the site."""
    kind, sep, target = text.strip().partition(":")
    kind, target = kind.strip().lower(), target.strip()
    if not sep or kind not in GOAL_KINDS or not target or len(text) > MAX_GOAL_CHARS:
        raise InputError(field, text, GOAL_HOW)
    if kind == "url":
        if not target.startswith("/"):
            raise InputError(field, text, "give the page's path, e.g. url:/signup/done (a goal matches "
                                          "that path on any of the site's origins)")
        target = page_path(target)
    return Goal(kind, target[:MAX_EVENT_NAME_CHARS] if kind == "event" else target)


def parse_goals(texts: Iterable[str], field: str = "goal") -> tuple[Goal, ...]:
    """Several goals, each checked, without repeats, in a stable order."""
    return tuple(sorted({parse_goal(text, field) for text in texts}))


def parse_converted(value: str, field: str = CONVERTED) -> str:
    """The value of a `converted=` filter: yes or no."""
    return parse_choice(value.strip().lower(), field, CONVERTED_VALUES)


def reached_sql(goals: Sequence[Goal], session_id_sql: str = "s.id", dialect: Dialect = SQLITE
                ) -> tuple[str, list[Any]]:
    """A SQL condition true when the session whose id is `session_id_sql` reached any goal."""
    terms, params = [], []
    for goal in goals:
        if goal.kind == "url":
            terms.append("EXISTS (SELECT 1 FROM pageviews gp WHERE gp.session_id = "
                         f"{session_id_sql} AND {dialect.glob('gp.page_path')})")
            params.append(dialect.glob_pattern(goal.target))
        else:
            terms.append("EXISTS (SELECT 1 FROM named_events ge WHERE ge.session_id = "
                         f"{session_id_sql} AND ge.name = ?)")
            params.append(goal.target)
    return ("(" + " OR ".join(terms) + ")" if terms else "(1 = 0)"), params


def property_terms(properties: Mapping[str, str], goals: Sequence[Goal] = (), dialect: Dialect = SQLITE,
                   ) -> tuple[list[str], list[Any]]:
    """WHERE terms (over `sessions s`) for property filters. `converted=` is read from the stored
    property, unless `goals` are given: then it is whether the session reached one of those."""
    terms: list[str] = []
    params: list[Any] = []
    for key, value in properties.items():
        if key == CONVERTED and goals:
            reached, reached_params = reached_sql(goals, dialect=dialect)
            terms.append(reached if str(value) == "yes" else f"NOT {reached}")
            params += reached_params
        else:
            terms.append(f"{dialect.property_text('s.properties')} = ?")
            params += [*dialect.property_params(key), str(value)]
    return terms, params


def note_named_events(conn: SqlConnection, session_id: str, named: Sequence[tuple[int, str]]) -> None:
    """Keep the (epoch ms, name) of the custom events a chunk fired, for event goals."""
    conn.executemany("INSERT INTO named_events (session_id, ts, name) VALUES (?, ?, ?)",
                     [(session_id, ts, name[:MAX_EVENT_NAME_CHARS]) for ts, name in named])


def site_goals(conn: SqlConnection, site: str) -> tuple[Goal, ...]:
    """The goals a site names (none for a site that names none)."""
    rows = conn.execute("SELECT goal FROM goals WHERE site = ? ORDER BY goal", (site,)).fetchall()
    goals = []
    for (text,) in rows:
        try:
            goals.append(parse_goal(text))
        except InputError:  # a damaged row: that goal counts for nothing
            continue
    return tuple(goals)


def refresh_converted(conn: SqlConnection, site: str, goals: Sequence[Goal],
                      session_id: str | None = None) -> None:
    """Write `converted` into the site's sessions (or one of them) by `goals`, the site's goals now;
    without goals it is removed, so no stale answer outlives the goals it came from."""
    d = conn.dialect
    where, params = f"site = ? AND {d.valid_object('properties')}", [site]
    if session_id is not None:
        where += " AND id = ?"
        params.append(session_id)
    if not goals:
        conn.execute(f"UPDATE sessions SET properties = {d.remove_property('properties', CONVERTED)}"
                     f" WHERE {where} AND {d.has_property('properties', CONVERTED)}", params)
        return
    reached, reached_params = reached_sql(goals, "sessions.id", d)
    value = f"CASE WHEN {reached} THEN 'yes' ELSE 'no' END"
    conn.execute(f"UPDATE sessions SET properties = {d.set_property('properties', CONVERTED, value)}"
                 f" WHERE {where}",
                 [*reached_params, *params])


def first_conversion(conn: SqlConnection, session_id: str,
                     goals: Sequence[Goal]) -> tuple[int, Goal] | None:
    """When the session first reached one of `goals` (epoch ms), and which; None if it never did."""
    best: tuple[int, Goal] | None = None
    for goal in goals:
        if goal.kind == "url":
            row = conn.execute("SELECT MIN(ts_start) FROM pageviews WHERE session_id = ? AND "
                               + conn.dialect.glob("page_path"),
                               (session_id, conn.dialect.glob_pattern(goal.target))).fetchone()
        else:
            row = conn.execute("SELECT MIN(ts) FROM named_events WHERE session_id = ? AND name = ?",
                               (session_id, goal.target)).fetchone()
        if row and row[0] is not None and (best is None or row[0] < best[0]):
            best = (int(row[0]), goal)
    return best
