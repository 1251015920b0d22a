"""The team: users, API tokens, logins and server-wide settings (policy lives in sessionheat/web/auth.py)."""

from __future__ import annotations

import time
from typing import Any

from plumbing.store.connection import StoreConnection
from plumbing.store.formats import (
    _now_iso,
)
from plumbing.store.rows import (
    StoreError,
)


class TeamRegistry(StoreConnection):
    """Who may read recordings; secrets are stored hashed."""

    def setting(self, name: str, make: Any) -> str:
        """A server-wide value (the cookie-signing secret), made by `make()` on first use and then
        shared by every process on this store, so restarts and sibling processes agree."""
        with self._read() as conn:
            row = conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return str(row[0])
        with self._write() as conn:  # two processes starting at once: the first insert wins, both read it
            conn.execute("INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)", (name, str(make())))
            return str(conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()[0])

    def add_user(self, name: str, role: str, password_hash: str | None) -> None:
        with self._write() as conn:  # one statement: two adding the same name at once get a clean refusal
            added = conn.execute("INSERT OR IGNORE INTO users (name, role, password_hash, created_at)"
                                 " VALUES (?, ?, ?, ?)", (name, role, password_hash, _now_iso())).rowcount
            if not added:
                raise StoreError(f"a user named {name!r} already exists")

    def get_user(self, name: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT name, role, password_hash, created_at FROM users WHERE name = ?", (name,)).fetchone()
        return dict(zip(("name", "role", "password_hash", "created_at"), row)) if row else None

    def list_users(self) -> list[dict[str, Any]]:
        """Every user with its role and how many API tokens it holds (never a secret)."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT u.name, u.role, u.password_hash IS NOT NULL, u.created_at,"
                " (SELECT COUNT(*) FROM api_tokens t WHERE t.\"user\" = u.name) FROM users u ORDER BY u.name"
            ).fetchall()
        return [{"name": n, "role": r, "password": bool(p), "created_at": c, "tokens": t}
                for n, r, p, c, t in rows]

    def count_users(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])

    def update_user(self, name: str, *, password_hash: str | None = None, role: str | None = None) -> None:
        """Change a user's password or role; either way its logins end (a changed password must
        lock out whoever had the old one)."""
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is None:
                raise StoreError(f"no user named {name!r}")
            if password_hash is not None:
                conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name))
            if role is not None:
                conn.execute("UPDATE users SET role = ? WHERE name = ?", (role, name))
            conn.execute("DELETE FROM logins WHERE \"user\" = ?", (name,))

    def remove_user(self, name: str) -> None:
        """A user, its API tokens and its logins, gone at once."""
        with self._write() as conn:
            if conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
                raise StoreError(f"no user named {name!r}")
            conn.execute("DELETE FROM api_tokens WHERE \"user\" = ?", (name,))
            conn.execute("DELETE FROM logins WHERE \"user\" = ?", (name,))

    def add_api_token(self, user: str, token_hash: str, label: str = "") -> None:
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (user,)).fetchone() is None:
                raise StoreError(f"no user named {user!r}")
            conn.execute("INSERT INTO api_tokens (hash, \"user\", label, created_at) VALUES (?, ?, ?, ?)",
                         (token_hash, user, label, _now_iso()))

    def revoke_api_tokens(self, user: str) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM api_tokens WHERE \"user\" = ?", (user,)).rowcount

    def user_for_api_token(self, token_hash: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT u.name, u.role FROM api_tokens t JOIN users u ON u.name = t.\"user\" WHERE t.hash = ?",
                (token_hash,)).fetchone()
        return {"name": row[0], "role": row[1]} if row else None

    def add_login(self, login_hash: str, user: str, expires_at: int) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM logins WHERE expires_at < ?", (int(time.time()),))
            conn.execute("INSERT INTO logins (hash, \"user\", expires_at, created_at) VALUES (?, ?, ?, ?)",
                         (login_hash, user, expires_at, _now_iso()))

    def login(self, login_hash: str) -> dict[str, Any] | None:
        """The login's user and role while it lasts (user '' is the one-time link's admin)."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT l.\"user\", l.expires_at, u.role FROM logins l LEFT JOIN users u ON u.name = l.\"user\""
                " WHERE l.hash = ?", (login_hash,)).fetchone()
        if row is None or row[1] < time.time() or (row[0] and row[2] is None):
            return None
        return {"user": row[0], "role": row[2] or "admin", "expires_at": row[1]}

    def end_login(self, login_hash: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM logins WHERE hash = ?", (login_hash,))
