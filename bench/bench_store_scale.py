"""The session list at 1,000,000 sessions (issue 14): the first page as the UI asks for it, on
SQLite and on PostgreSQL.

The sessions are made by the database itself, in a few statements (PostgreSQL's generate_series,
a recursive CTE in SQLite), not row by row through the API: 1,000,000 sessions over 90 days on
three sites, desktop / tablet / mobile with their viewports and user agents, one to five
pageviews each, properties as the snippet and pages set them (variant, plan, country, channel),
80 % indexed, some with rage or dead clicks. The store makes its own schema first
(`SessionStore(location)`); the loader fills the columns it knows that the schema has, cast to
their types there, and drops the schema's secondary indexes during the load and builds them again
after (then ANALYZE), as a bulk load does.

Then, through the store's public API: `query_sessions` (first page, default sort; a device and
date range; a property; rage clicks), `count_sessions` as the list page bounds it, and the whole
`/sessions` page through the real app, in process. PostgreSQL runs with auto_explain (plans of
statements over 50 ms, with ANALYZE) so a slow page comes with its plan.
`python3 -m bench.bench_store_scale [N]` prints the figures and the slow plans.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import Figure, team_headers

ROOT = Path(__file__).resolve().parent.parent
N_SESSIONS = 1_000_000
T_START = 1_780_000_000_000  # 2026-05-28
DAYS = 90
TARGET_MS = 200
SLOW_MS = 50  # auto_explain logs the plans of statements slower than this

SITES = [("shop", "https://shop.example"), ("docs", "https://docs.example"), ("blog", "https://blog.example")]
PAGES = [("/", "/"), ("/index.html?variant=A", "/"), ("/index.html?variant=B", "/"),
         ("/product.html", "/product.html"), ("/pricing.html", "/pricing.html"),
         ("/signup.html", "/signup.html"), ("/docs/getting-started.html", "/docs/getting-started.html"),
         ("/blog/launch.html", "/blog/launch.html")]  # (path as visited, its page_path)
VIEWPORTS = [(1280, 800, "desktop"), (1440, 900, "desktop"), (1920, 1080, "desktop"),
             (820, 1180, "tablet"), (390, 844, "mobile"), (412, 915, "mobile")]
USER_AGENTS = {
    "desktop": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "tablet": "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "mobile": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
}
PLANS = ["free"] * 70 + ["pro"] * 28 + ["enterprise"] * 2  # 2 %: the rare property
COUNTRIES = ["fr", "de", "us", "jp", "br"]
CHANNELS = ["direct", "search", "social", "email", "referral"]


# -- the load, in SQL both databases read -------------------------------------------------------------

def _rand(k: int) -> str:
    """The k-th pseudo-random non-negative integer of series row g (deterministic, well spread)."""
    multipliers = [2654435761, 2246822519, 3266489917, 668265263, 374761393, 1181783497, 2870177450,
                   1597334677, 3812015801, 1103515245]
    return f"(((g + {k * 7919}) * {multipliers[k]}) % 4294967291)"


def _pick(r: str, values: list[str]) -> str:
    """CASE on r % len(values) choosing a SQL literal from `values` (already quoted)."""
    whens = " ".join(f"WHEN {i} THEN {v}" for i, v in enumerate(values))
    return f"(CASE ({r}) % {len(values)} {whens} END)"


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


SITE_INDEX = "(CASE WHEN r4 % 10 < 6 THEN 0 WHEN r4 % 10 < 9 THEN 1 ELSE 2 END)"  # 60 / 30 / 10 %
HOST = _pick(SITE_INDEX, [_q(h) for _, h in SITES])


def _session_exprs(n: int, iso: Callable[[str], str]) -> dict[str, str]:
    """Each sessions column as a SQL expression of the series row g and its random numbers r0..r9."""
    spacing = DAYS * 86_400_000 // n
    first = f"({T_START} + g * {spacing} + r0 % 60000)"
    duration = "(1000 + r1 % 170000 * (CASE WHEN r2 % 100 < 8 THEN 20 ELSE 1 END))"
    viewport = "r3 % 6"
    device = _pick(viewport, [_q(d) for _, _, d in VIEWPORTS])
    site_i = SITE_INDEX
    host = HOST
    n_events = "(20 + r5 % 4980)"
    props = ("'{\"channel\":\"' || " + _pick("r6", [_q(c) for c in CHANNELS])
             + " || '\",\"country\":\"' || " + _pick("r7", [_q(c) for c in COUNTRIES])
             + " || '\",\"plan\":\"' || " + _pick("r8 % 100", [_q(p) for p in PLANS])
             + " || '\",\"variant\":\"' || " + _pick("r9", ["'A'", "'B'"]) + " || '\"}'")
    return {
        "id": "'scale-' || (10000000 + g)",
        "site": _pick(site_i, [_q(s) for s, _ in SITES]),
        "first_ts": first,
        "last_ts": f"({first} + {duration})",
        "duration_ms": duration,
        "started_at": iso(first),
        "ended_at": iso(f"({first} + {duration})"),
        "created_at": iso(f"({first} + {duration})"),
        "user_agent": _pick(viewport, [_q(USER_AGENTS[d]) for _, _, d in VIEWPORTS]),
        "device": device,
        "viewport_w": _pick(viewport, [str(w) for w, _, _ in VIEWPORTS]),
        "viewport_h": _pick(viewport, [str(h) for _, h, _ in VIEWPORTS]),
        "entry_url": f"{host} || " + _pick("r1", [_q(p) for p, _ in PAGES]),
        "properties": props,
        "n_events": n_events,
        "n_chunks": f"(1 + {n_events} / 250)",
        "n_bytes": f"({n_events} * 21)",
        "n_raw_bytes": f"({n_events} * 140)",
    }


def _randoms() -> str:
    return ", ".join(f"{_rand(k)} AS r{k}" for k in range(10))


class Dialect:
    """What differs between the two databases: the row series, ISO dates, and the schema lookups."""

    name = ""

    def series(self, n: int) -> str:
        raise NotImplementedError

    def iso(self, ms: str) -> str:
        raise NotImplementedError

    def columns(self, conn: Any, table: str) -> dict[str, str]:
        """Column name -> type, of the store's own schema."""
        raise NotImplementedError

    def cast(self, expr: str, sql_type: str) -> str:
        return expr

    def secondary_indexes(self, conn: Any, tables: list[str]) -> list[tuple[str, str]]:
        raise NotImplementedError


class SQLiteDialect(Dialect):
    name = "sqlite"

    def series(self, n: int) -> str:
        return f"(WITH RECURSIVE s(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM s WHERE g < {n - 1}) SELECT g FROM s)"

    def iso(self, ms: str) -> str:
        return f"(strftime('%Y-%m-%dT%H:%M:%f', {ms} / 1000.0, 'unixepoch') || '+00:00')"

    def columns(self, conn: Any, table: str) -> dict[str, str]:
        return {row[1]: row[2].lower() for row in conn.execute(f"PRAGMA table_info({table})")}

    def secondary_indexes(self, conn: Any, tables: list[str]) -> list[tuple[str, str]]:
        marks = ", ".join("?" * len(tables))
        return list(conn.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                                 f" AND tbl_name IN ({marks})", tables))


class PostgresDialect(Dialect):
    name = "postgresql"

    def series(self, n: int) -> str:
        return f"(SELECT g::bigint AS g FROM generate_series(0, {n - 1}) AS t(g))"

    def iso(self, ms: str) -> str:
        return (f"(to_char(to_timestamp({ms} / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS')"
                " || '+00:00')")

    def columns(self, conn: Any, table: str) -> dict[str, str]:
        rows = conn.execute("SELECT column_name, data_type FROM information_schema.columns"
                            " WHERE table_name = %s AND table_schema = current_schema()", (table,)).fetchall()
        return {name: sql_type for name, sql_type in rows}

    def cast(self, expr: str, sql_type: str) -> str:
        return expr if sql_type in ("text", "character varying") else f"CAST({expr} AS {sql_type})"

    def secondary_indexes(self, conn: Any, tables: list[str]) -> list[tuple[str, str]]:
        return conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema()"
            " AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
            " WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)",
            (tables,)).fetchall()


def _insert(dialect: Dialect, conn: Any, table: str, exprs: dict[str, str], source: str) -> None:
    """INSERT INTO table (the columns the schema has) SELECT their expressions FROM source."""
    have = dialect.columns(conn, table)
    missing = [c for c in exprs if c not in have]
    if "id" in missing or "session_id" in missing:
        raise RuntimeError(f"the store's {table} table has no {missing[0]} column: {sorted(have)}")
    names = [c for c in exprs if c in have]
    quoted = ", ".join(f'"{c}"' for c in names)
    values = ", ".join(dialect.cast(exprs[c], have[c]) for c in names)
    conn.execute(f"INSERT INTO {table} ({quoted}) SELECT {values} FROM {source}")


LOADED_TABLES = ["sessions", "pageviews", "hits", "indexed"]


def load(dialect: Dialect, conn: Any, n: int) -> dict[str, int]:
    """Fill the store's tables with `n` sessions (see the module's docstring); returns row counts.
    `conn` is a plain connection to the store (autocommit off: one transaction)."""
    indexes = dialect.secondary_indexes(conn, LOADED_TABLES)
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    rows = f"(SELECT g, {_randoms()} FROM {dialect.series(n)} AS base) AS x"
    _insert(dialect, conn, "sessions", _session_exprs(n, dialect.iso), rows)
    # Pageviews: 1 to 5 a session, evenly over its duration, the first at its entry URL.
    session = _session_exprs(n, dialect.iso)
    views = "(SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) AS v"
    count = "(1 + r2 % 5)"
    step = f"({session['duration_ms']} / {count})"
    page = "(CASE WHEN k = 0 THEN r1 ELSE r1 + k * 3 + r9 END)"
    _insert(dialect, conn, "pageviews", {
        "session_id": session["id"], "index": "k",
        "url": f"{HOST} || " + _pick(page, [_q(p) for p, _ in PAGES]),
        "ts_start": f"({session['first_ts']} + k * {step})",
        "t_start": f"(k * {step})", "t_end": f"((k + 1) * {step})",
        "width": session["viewport_w"], "height": session["viewport_h"],
        "page_path": _pick(page, [_q(p) for _, p in PAGES]),
    }, f"{rows} CROSS JOIN {views} WHERE k < {count}")
    # Index marks for 80 %; of those, 5 % with a rage click (three clicks), 8 % with a dead click.
    indexed = f"{rows} WHERE r3 % 10 < 8"
    _insert(dialect, conn, "indexed", {
        "session_id": session["id"], "n_events": session["n_events"], "indexed_at": session["created_at"],
    }, indexed)
    clicks = "(SELECT 0 AS j UNION ALL SELECT 1 UNION ALL SELECT 2) AS c"
    _insert(dialect, conn, "hits", {
        "session_id": session["id"], "pageview": "0", "t": "(1000 + j * 150)", "kind": "'click'",
        "interactive": "1", "rage": "1", "dead": "0", "x": "100", "y": "200",
    }, f"{rows} CROSS JOIN {clicks} WHERE r3 % 10 < 8 AND r5 % 100 < 5")
    _insert(dialect, conn, "hits", {
        "session_id": session["id"], "pageview": "0", "t": "1000", "kind": "'click'",
        "interactive": "0", "rage": "0", "dead": "1", "x": "300", "y": "400",
    }, f"{rows} WHERE r3 % 10 < 8 AND r5 % 100 >= 5 AND r5 % 100 < 13")
    for _, sql in indexes:
        conn.execute(sql)
    counts = {table: int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]) for table in LOADED_TABLES}
    conn.commit()
    return counts


def load_sqlite(path: Path, n: int) -> dict[str, int]:
    from plumbing.store import SessionStore

    SessionStore(path).close()  # the store's own schema
    conn = sqlite3.connect(path, isolation_level="DEFERRED")
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")  # a throwaway bulk load; the store sets its own on open
        counts = load(SQLiteDialect(), conn, n)
        conn.execute("ANALYZE")
        conn.commit()
    finally:
        conn.close()
    return counts


def load_postgresql(url: str, n: int) -> dict[str, int]:
    import psycopg

    from plumbing.store import SessionStore

    SessionStore(url).close()  # the store's own schema
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")  # no per-row foreign-key triggers
        conn.execute("SET maintenance_work_mem = '256MB'")
        counts = load(PostgresDialect(), conn, n)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")  # also sets the visibility map, for index-only scans
    return counts


# -- the timings --------------------------------------------------------------------------------------

def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def cases() -> list[tuple[str, dict[str, Any], str]]:
    """(name, SessionFilter fields, the /sessions query string the UI sends for it)."""
    end = T_START + DAYS * 86_400_000
    since, until = end - 7 * 86_400_000, end - 86_400_000
    return [
        ("first page, no filter", {}, ""),
        ("mobile, last week's dates", {"device": "mobile", "since_ms": since, "until_ms": until},
         f"device=mobile&since={_day(since)}&until={_day(until)}"),
        ("rare property plan=enterprise (2 %)", {"properties": {"plan": "enterprise"}},
         "property=plan%3Denterprise"),
        ("has rage clicks", {"rage": True}, "rage=1"),
    ]


def _median_ms(fn: Callable[[], Any], rounds: int) -> tuple[float, float]:
    fn()  # warm: caches, plans
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


async def _page_ms(app: Any, path: str, rounds: int, headers: dict[str, str]) -> tuple[float, float]:
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1",
                                 headers=headers) as client:
        times = []
        for i in range(rounds + 1):
            start = time.perf_counter()
            response = await client.get(path)
            if i:
                times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return statistics.median(times), max(times)


def measure(location: str, backend: str, rounds: int) -> list[Figure]:
    from plumbing.store import SessionFilter, SessionStore

    from sessionheat.web import create_app
    from sessionheat.web.sessions_ui import COUNT_BUDGET_MS, COUNT_CAP, PAGE_SIZE

    area = f"store scale ({backend})"
    figures = []
    with SessionStore(location) as store:
        headers = team_headers(store)
        app = create_app(store)
        median, worst = _median_ms(store.session_viewports, rounds)
        figures.append(Figure(area, "session_viewports (the list's viewport choices)", median, "ms",
                              note=f"asked by every /sessions page; max {worst:.0f} ms"))
        for name, fields, query in cases():
            filters = SessionFilter(**fields)
            shown = len(store.query_sessions(filters, limit=PAGE_SIZE).sessions)
            median, worst = _median_ms(lambda f=filters: store.query_sessions(f, limit=PAGE_SIZE), rounds)
            figures.append(Figure(area, f"query_sessions, {name}", median, "ms", f"< {TARGET_MS}",
                                  f"median of {rounds}, max {worst:.0f} ms; {shown} rows"))
            median, worst = _median_ms(
                lambda f=filters: store.count_sessions(f, cap=COUNT_CAP, budget_ms=COUNT_BUDGET_MS), rounds)
            figures.append(Figure(area, f"count_sessions, {name}", median, "ms",
                                  note=f"cap {COUNT_CAP:,}, budget {COUNT_BUDGET_MS} ms; max {worst:.0f} ms"))
            median, worst = asyncio.run(_page_ms(app, f"/sessions?{query}", rounds, headers))
            figures.append(Figure(area, f"/sessions page, {name}", median, "ms", f"< {TARGET_MS}",
                                  f"server time in process, median of {rounds}, max {worst:.0f} ms"))
    return figures


def slow_plans(log_text: str) -> list[str]:
    """auto_explain's entries in a server log: each slow statement with its analysed plan."""
    entries = re.split(r"\n(?=\S.*?LOG:  duration: )", log_text)
    return [e.strip() for e in entries if "LOG:  duration: " in e and "plan:" in e]


def run(quick: bool = False, n: int | None = None, show_plans: bool = False) -> list[Figure]:
    n = n or (100_000 if quick else N_SESSIONS)
    rounds = 3 if quick else 10
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scale.db"
        start = time.perf_counter()
        counts = load_sqlite(path, n)
        figures.append(Figure("store scale (sqlite)", f"load {n:,} sessions", time.perf_counter() - start, "s",
                              note=f"{counts['pageviews']:,} pageviews, {counts['hits']:,} hits, in SQL"))
        figures += measure(str(path), "sqlite", rounds)
        path.unlink()
    sys.path.insert(0, str(ROOT / "tests"))
    from postgres_server import PostgresServer

    settings = {"shared_preload_libraries": "auto_explain", "auto_explain.log_min_duration": f"{SLOW_MS}ms",
                "auto_explain.log_analyze": "on", "auto_explain.log_buffers": "on",
                "shared_buffers": "256MB", "work_mem": "16MB"}
    with PostgresServer(settings=settings) as server:
        url = server.create_database("bench_scale")
        start = time.perf_counter()
        counts = load_postgresql(url, n)
        figures.append(Figure("store scale (postgresql)", f"load {n:,} sessions", time.perf_counter() - start,
                              "s", note=f"{counts['pageviews']:,} pageviews, {counts['hits']:,} hits, "
                                        f"generate_series; PostgreSQL {server.version()}"))
        mark = server.log_path.stat().st_size
        figures += measure(url, "postgresql", rounds)
        with open(server.log_path, errors="replace") as log:
            log.seek(mark)
            plans = slow_plans(log.read())
    figures.append(Figure("store scale (postgresql)", f"statements over {SLOW_MS} ms", len(plans), "",
                          note="their plans: python3 -m bench.bench_store_scale"))
    if show_plans:
        for plan in plans:
            print(plan + "\n", file=sys.stderr)
    return figures


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else None
    for figure in run(n=size, show_plans=True):
        print(f"{figure.area:26s} {figure.name:58s} {figure.value:10.1f} {figure.unit:3s} {figure.target:6s} {figure.note}")
