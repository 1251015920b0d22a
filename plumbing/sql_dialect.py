"""The two SQL dialects the store speaks, SQLite and PostgreSQL, and a connection that hides which.

The store's SQL is written once, in the common ground of both (with `?` placeholders and SQLite's
`INSERT OR IGNORE`, `instr`, `INDEXED BY`, which `Dialect.sql` rewrites for PostgreSQL). Where the
two differ in more than spelling (JSON properties, GLOB, arrays of ids), a `Dialect` method gives
the fragment. Nothing here knows the schema; plumbing/store/ does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

_INSERT_OR_IGNORE = re.compile(r"^\s*INSERT OR IGNORE INTO", re.I)
_INDEXED_BY = re.compile(r"\s+INDEXED BY \w+", re.I)


class Dialect:
    """SQLite: the SQL as written."""

    name = "sqlite"

    def sql(self, text: str) -> str:
        return text

    def params(self, params: Sequence[Any] | None) -> Sequence[Any]:
        """The values as this database can take them (SQLite: any text)."""
        return () if params is None else params

    def property_text(self, column: str) -> str:
        """A JSON object column's value at a key (its `?`s: `property_params(key)`), as text, as
        PostgreSQL's `->>` gives it: a JSON true is 'true' (json_extract alone says 1)."""
        path = "'$.' || json_quote(?)"
        return (f"CASE json_type({column}, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'"
                f" ELSE CAST(json_extract({column}, {path}) AS TEXT) END")

    def property_params(self, key: str) -> list[str]:
        return [key, key]

    def glob(self, column: str) -> str:
        """`column` matches a pattern (one `?`: `glob_pattern(...)`), where `*` is any run of characters."""
        return f"{column} GLOB ?"

    def glob_pattern(self, pattern: str) -> str:
        """A pattern whose only wildcard is `*`, as `glob` takes it: everything else literal."""
        return "".join(f"[{c}]" if c in "?[" else c for c in pattern)

    def int_array(self) -> str:
        """A SELECT of one column `v`: the integers of a JSON array (one `?`: its text)."""
        return "SELECT value AS v FROM json_each(?)"

    def group_array(self, column: str) -> str:
        """An aggregate: the column's values as a JSON array's text ('[]' for none)."""
        return f"json_group_array({column})"

    def set_property(self, column: str, key: str, value_sql: str) -> str:
        """A JSON object column with `key` (a plain word, not a parameter) set to `value_sql`."""
        return f"json_set({column}, '$.{key}', {value_sql})"

    def remove_property(self, column: str, key: str) -> str:
        return f"json_remove({column}, '$.{key}')"

    def has_property(self, column: str, key: str) -> str:
        return f"json_type({column}, '$.{key}') IS NOT NULL"

    def valid_object(self, column: str) -> str:
        """True where the column holds readable JSON (a damaged row is left alone, never fatal)."""
        return f"json_valid({column})"


class PostgresDialect(Dialect):
    """PostgreSQL: `?` becomes `%s`; properties are a JSONB column."""

    name = "postgresql"

    def sql(self, text: str) -> str:
        return _postgres_sql(text)

    def params(self, params: Sequence[Any] | None) -> Sequence[Any]:
        """PostgreSQL's text and JSONB cannot hold NUL, which a recorded page may send (a custom
        event's name, a property): it becomes U+FFFD, in writes and searches alike, instead of an
        error that would refuse the chunk for ever. Chunks keep the events exactly (BYTEA)."""
        if params is None:
            return ()
        if not any(type(p) is str and ("\x00" in p or "\\u0000" in p) for p in params):
            return params
        return [_without_nul(p) if type(p) is str else p for p in params]

    def property_text(self, column: str) -> str:
        return f"({column} ->> ?)"

    def property_params(self, key: str) -> list[str]:
        return [key]

    def glob(self, column: str) -> str:
        return f"{column} LIKE ?"

    def glob_pattern(self, pattern: str) -> str:
        escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return escaped.replace("*", "%")

    def int_array(self) -> str:
        return "SELECT jsonb_array_elements_text(?::jsonb)::bigint AS v"

    def group_array(self, column: str) -> str:
        return f"COALESCE(json_agg({column})::text, '[]')"

    def set_property(self, column: str, key: str, value_sql: str) -> str:
        return f"({column} || jsonb_build_object('{key}', {value_sql}))"

    def remove_property(self, column: str, key: str) -> str:
        return f"({column} - '{key}')"

    def has_property(self, column: str, key: str) -> str:
        return f"jsonb_exists({column}, '{key}')"

    def valid_object(self, column: str) -> str:
        return "TRUE"  # a JSONB column holds nothing else


SQLITE = Dialect()
POSTGRES = PostgresDialect()


_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")  # \u0000 in JSON text, not an escaped backslash's "u0000"


def _without_nul(text: str) -> str:
    return _JSON_NUL.sub(lambda m: m.group(1) + "\\ufffd", text.replace("\x00", "\ufffd"))


@lru_cache(maxsize=1024)
def _postgres_sql(text: str) -> str:
    out = text.replace("%", "%%").replace("?", "%s")
    out = _INDEXED_BY.sub("", out)
    out = out.replace("instr(", "strpos(")
    if _INSERT_OR_IGNORE.match(out):
        out = _INSERT_OR_IGNORE.sub("INSERT INTO", out, count=1) + " ON CONFLICT DO NOTHING"
    return out


class SqlConnection:
    """A DB-API connection (sqlite3 or psycopg) that takes the store's SQL in either dialect."""

    def __init__(self, raw: Any, dialect: Dialect):
        self.raw = raw
        self.dialect = dialect
        self._cursor: Any = None  # see _statements

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """The cursor (fetchone, fetchall, iteration, description, rowcount)."""
        return self.raw.execute(self.dialect.sql(sql), self.dialect.params(params))

    def one(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """The first row of the result, or None. For statements run many times a second (ingest)."""
        return self._statements().execute(self.dialect.sql(sql), self.dialect.params(params)).fetchone()

    def run(self, sql: str, params: Sequence[Any] | None = None) -> int:
        """Run a statement whose rows nobody reads: its rowcount. For the same statements as `one`."""
        return int(self._statements().execute(self.dialect.sql(sql), self.dialect.params(params)).rowcount)

    def _statements(self) -> Any:
        """What `one` and `run` execute on. PostgreSQL: one cursor, kept, as its results are read
        at once (a new psycopg cursor per statement, what `execute` makes, cost 10-30 us of Python,
        and ingest runs about six statements per chunk). SQLite: the connection, whose cursors are
        cheap (a kept one would hold a read open while a result had rows left)."""
        if self._cursor is None:
            self._cursor = self.raw if self.dialect is SQLITE else self.raw.cursor()
        return self._cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if self.dialect is SQLITE:
            self.raw.executemany(sql, rows)
            return
        rows = [self.dialect.params(row) for row in rows]
        if rows:
            with self.raw.cursor() as cur:
                cur.executemany(self.dialect.sql(sql), rows)

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """The result as dicts by column name."""
        cur = self.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]
