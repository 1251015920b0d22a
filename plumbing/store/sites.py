"""Sites (collector keys, allowed origins, policy) and their goals."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from plumbing.conversions import (
    Goal,
    first_conversion,
    refresh_converted,
    site_goals,
)
from plumbing.sql_dialect import SqlConnection
from plumbing.store.connection import StoreConnection
from plumbing.store.formats import (
    _new_site_key,
    _now_iso,
)
from plumbing.store.rows import (
    StoreError,
)

SITE_POLICY = ("record_inputs", "max_session_events", "max_session_bytes", "remember_visitors")  # `set_site`


class SiteRegistry(StoreConnection):
    """Who may send, under what policy, and what counts as converting."""

    def list_sites(self) -> list[dict[str, Any]]:
        """Every site with its key, allowed origins and policy (the collector caches this)."""
        with self._read() as conn:
            cur = conn.execute(
                "SELECT name, key, origins, created_at, record_inputs, max_session_events,"
                " max_session_bytes, remember_visitors,"
                f" (SELECT {conn.dialect.group_array('goal')} FROM goals g WHERE g.site = sites.name)"
                " FROM sites ORDER BY name")
            rows = cur.fetchall()
        return [{"name": name, "key": key, "origins": json.loads(origins), "created_at": created,
                 "record_inputs": bool(record_inputs), "max_session_events": max_events,
                 "max_session_bytes": max_bytes, "remember_visitors": bool(remember),
                 "goals": sorted(json.loads(goals))}
                for name, key, origins, created, record_inputs, max_events, max_bytes, remember, goals in rows]

    def site_origins(self) -> dict[str, list[str]]:
        """Each registered site's name with the origins it may send from (`*`: any)."""
        return {site["name"]: site["origins"] for site in self.list_sites()}

    def add_site(self, name: str, origins: Iterable[str], **policy: Any) -> str:
        """Register a site allowed to send events; returns its new key. `policy`: see `set_site`.

        A session's site tells a replay how far to trust it (`plumbing.addresses.vouched_origins`):
        `record()` stores an origin, `import_events` "import", the Python API "". A collector site
        is named otherwise, so its sessions can never pass for one of those trusted paths.
        """
        if not name or "://" in name or name == "import":
            raise StoreError(f"{name!r} cannot name a site: it must be non-empty, not \"import\", "
                             "and not contain \"://\" (those mark sessions recorded or imported here)")
        key = _new_site_key()
        with self._write() as conn:  # one statement: two adding the same name at once get a clean refusal
            added = conn.execute(
                "INSERT OR IGNORE INTO sites (name, key, origins, created_at) VALUES (?, ?, ?, ?)",
                (name, key, json.dumps(sorted(set(origins))), _now_iso()),
            ).rowcount
            if not added:
                raise StoreError(f"a site named {name!r} already exists")
            self._set_policy(conn, name, policy)
        return key

    def set_site(self, name: str, **policy: Any) -> None:
        """Change a site's policy: `record_inputs` and `remember_visitors` (bool),
        `max_session_events` and `max_session_bytes` (an int, 0 for no cap, None for the
        collector's default)."""
        with self._write() as conn:
            if not conn.execute("SELECT 1 FROM sites WHERE name = ?", (name,)).fetchone():
                raise StoreError(f"no site named {name!r}")
            self._set_policy(conn, name, policy)

    @staticmethod
    def _set_policy(conn: SqlConnection, name: str, policy: dict[str, Any]) -> None:
        unknown = policy.keys() - set(SITE_POLICY)
        if unknown:
            raise StoreError(f"unknown site setting {sorted(unknown)[0]!r}")
        for column, value in policy.items():  # column names come from SITE_POLICY only
            conn.execute(f"UPDATE sites SET {column} = ? WHERE name = ?",
                         (int(value) if value is not None else None, name))

    def remove_site(self, name: str) -> int:
        """Stop accepting a site's key; its sessions stay. Returns how many sessions it has here."""
        with self._write() as conn:
            if conn.execute("DELETE FROM sites WHERE name = ?", (name,)).rowcount == 0:
                raise StoreError(f"no site named {name!r}")
            conn.execute("DELETE FROM goals WHERE site = ?", (name,))  # its sessions keep `converted`
            return int(conn.execute("SELECT COUNT(*) FROM sessions WHERE site = ?", (name,)).fetchone()[0])

    def rotate_site_key(self, name: str) -> str:
        """Give a site a new key (the old one, leaked or shared too widely, is refused from now on)."""
        key = _new_site_key()
        with self._write() as conn:
            if conn.execute("UPDATE sites SET key = ? WHERE name = ?", (key, name)).rowcount == 0:
                raise StoreError(f"no site named {name!r}")
        return key

    def set_goals(self, site: str, goals: Iterable[Goal]) -> None:
        """Name a site's goals (replacing those it had; none: it names none), and write `converted`
        into every session of that site by them, those recorded before included. `site` is what
        the sessions store: a collector site's name, or the origin `record()` stores."""
        with self._write() as conn:
            conn.execute("DELETE FROM goals WHERE site = ?", (site,))
            conn.executemany("INSERT OR IGNORE INTO goals (site, goal) VALUES (?, ?)",
                             [(site, str(goal)) for goal in goals])
            refresh_converted(conn, site, site_goals(conn, site))

    def goals(self, site: str) -> tuple[Goal, ...]:
        with self._read() as conn:
            return site_goals(conn, site)

    def conversion(self, session_id: str, goals: Iterable[Goal] | None = None) -> tuple[int, Goal] | None:
        """When (epoch ms) the session first reached a goal (`goals`, else its site's), and which."""
        with self._read() as conn:
            if goals is None:
                row = conn.execute("SELECT site FROM sessions WHERE id = ?", (session_id,)).fetchone()
                goals = site_goals(conn, row[0]) if row else ()
            return first_conversion(conn, session_id, tuple(goals))
