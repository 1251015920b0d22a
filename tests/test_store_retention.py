"""Retention and moving house, on real stores: `prune` on SQLite and PostgreSQL, `migrate` from a
SQLite file into a PostgreSQL database, byte for byte; and a PostgreSQL store opened by several
processes at once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from plumbing.store import SessionStore, copy_store
from plumbing.vocabulary import TAG_ANNOTATION

ROOT = Path(__file__).resolve().parent.parent
DAY_MS = 86_400_000
NOW = int(time.time() * 1000)
CSS = "body { color: red; }\n" * 300  # long enough to go to the blobs table


def events(t: int, *, css: str = CSS, named: str | None = None) -> list[dict]:
    out = [{"type": 4, "data": {"href": "http://h.test/a", "width": 1280, "height": 800}, "timestamp": t},
           {"type": 2, "data": {"node": {"type": 0, "childNodes": [], "id": 1}, "initialOffset":
                                {"left": 0, "top": 0}, "css": css}, "timestamp": t + 1},
           {"type": 3, "data": {"source": 1, "positions": [{"x": 1, "y": 2, "id": 1, "timeOffset": 0}]},
            "timestamp": t + 2}]
    if named:
        out.append({"type": 5, "timestamp": t + 3, "data": {"tag": TAG_ANNOTATION, "payload": {"name": named}}})
    return out


def count(store: SessionStore, table: str) -> int:
    with store._read() as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def fill(store: SessionStore) -> None:
    """Two old sessions (one of site shop, one sharing the new one's stylesheet, one with a
    stylesheet of its own), one new; hits and a named event on an old one."""
    store.add_site("shop", ["http://h.test"])
    store.append_chunk("old-shop-0001", 0, events(NOW - 40 * DAY_MS, css="own " * 400, named="signup"))
    store.append_chunk("old-other-001", 0, events(NOW - 35 * DAY_MS))
    store.append_chunk("new-session-1", 0, events(NOW - DAY_MS))
    with store._write() as conn:
        conn.execute("UPDATE sessions SET site = 'shop' WHERE id = 'old-shop-0001'")
    store.replace_hits("old-shop-0001", [{"pageview": 0, "t": 2, "kind": "click", "element_key": "#a"}],
                       n_events=4)
    png = (200, {"content-type": "image/png"}, b"\x89PNG the logo")
    store.keep_replay_asset("shop", "http://h.test/logo.png", *png)  # a replay of shop's session fetched it
    store.keep_replay_asset("", "http://h.test/logo.png", *png)  # and one of the others: the same body
    store.keep_replay_asset("shop", "http://h.test/shop.css", 200, {}, b"shop only")


def test_prune_removes_old_sessions_their_rows_and_unused_blobs(backend_store):
    store = backend_store
    fill(store)
    assert count(store, "blobs") == 2
    dry = store.prune(NOW - 30 * DAY_MS, dry_run=True)
    assert (dry.sessions, dry.blobs, dry.rows["chunks"], dry.rows["hits"]) == (2, 1, 2, 1)
    assert (dry.asset_urls, dry.assets) == (2, 1)  # shop's answers go; the shared logo stays
    assert count(store, "sessions") == 3 and count(store, "blobs") == 2  # a dry run changes nothing
    only_shop = store.prune(NOW - 30 * DAY_MS, site="shop")
    assert only_shop.sessions == 1 and only_shop.rows["named_events"] == 1 and only_shop.blobs == 1
    assert only_shop.rows["hits"] == 1 and only_shop.rows["indexed"] == 1
    assert (only_shop.asset_urls, only_shop.assets) == (2, 1)
    assert store.replay_asset("shop", "http://h.test/logo.png") is None
    assert store.replay_asset("", "http://h.test/logo.png") == (200, {"content-type": "image/png"}, b"\x89PNG the logo")
    assert store.get_session("old-other-001") is not None
    report = store.prune(NOW - 30 * DAY_MS)
    assert report.sessions == 1 and report.blobs == 0  # its stylesheet is the new session's too
    assert [s["id"] for s in store.list_sessions()] == ["new-session-1"]
    assert count(store, "chunks") == 1 and count(store, "blobs") == 1
    assert store.read_events("new-session-1").complete
    assert store.prune(NOW - 30 * DAY_MS).sessions == 0  # nothing left to do


def test_prune_command_reports_and_refuses_a_bad_age(store_location):
    from sessionheat.cli import main

    with SessionStore(store_location) as store:
        fill(store)
    result = CliRunner().invoke(main, ["prune", "--db", store_location, "--older-than", "30d", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would remove 2 sessions older than 30d" in result.output and "1 unused blob" in result.output
    result = CliRunner().invoke(main, ["prune", "--db", store_location, "--older-than", "30d", "--json"])
    assert json.loads(result.output)["sessions"] == 2
    result = CliRunner().invoke(main, ["prune", "--db", store_location, "--older-than", "30 days"])
    assert result.exit_code == 2 and "give an age such as 30d" in result.output
    listed = CliRunner().invoke(main, ["sessions", "--json"], env={"SESSIONHEAT_DB": store_location})
    assert [s["id"] for s in json.loads(listed.output)] == ["new-session-1"]  # SESSIONHEAT_DB: every command's --db


def test_migrate_copies_a_sqlite_store_into_postgresql_byte_for_byte(tmp_path, postgres_url):
    source = SessionStore(tmp_path / "s.db")
    fill(source)
    source.add_user("ada", "admin", "argon2-hash")
    source.add_api_token("ada", "token-hash", "ci")
    for seq in range(1, 4):  # a longer session, in several chunks
        source.append_chunk("new-session-1", seq, events(NOW - DAY_MS + seq * 10)[2:])
    target = SessionStore(postgres_url)
    report = copy_store(source, target)
    assert report.ok and report.sessions == 3 and report.blobs == 2 and report.rows["assets"] == 2
    assert report.rows["chunks"] == 6 and report.rows["hits"] == 1 and report.rows["named_events"] == 1
    for sid in ("old-shop-0001", "old-other-001", "new-session-1"):
        assert target.export_events(sid) == source.export_events(sid)
        assert target.get_session(sid) == source.get_session(sid)
    with source._read() as a, target._read() as b:  # chunks travel as stored
        stored = "SELECT session_id, seq, codec, data FROM chunks ORDER BY session_id, seq"
        assert [tuple(r) for r in a.execute(stored).fetchall()] == [tuple(r) for r in b.execute(stored).fetchall()]
    assert target.user_for_api_token("token-hash") == {"name": "ada", "role": "admin"}
    assert [s["name"] for s in target.list_sites()] == ["shop"]
    assert target.replay_asset("shop", "http://h.test/shop.css") == (200, {}, b"shop only")
    again = copy_store(source, target)  # moving twice is moving once
    assert again.ok and again.rows == report.rows


def test_migrate_again_after_the_cutover_keeps_what_the_target_acknowledged_since(tmp_path, postgres_url):
    """Migrate, point the collectors at PostgreSQL, migrate again for stragglers: a session that
    went on in PostgreSQL keeps its newer chunks (it is left as the target has it, and said so);
    the others are copied as before."""
    source = SessionStore(tmp_path / "s.db")
    source.append_chunk("spans-cutover", 0, events(NOW - 1000))
    target = SessionStore(postgres_url)
    assert copy_store(source, target).ok
    assert target.append_chunk("spans-cutover", 1, events(NOW)[2:])  # acknowledged by a collector there
    source.append_chunk("straggler-01", 0, events(NOW - 500))  # recorded into SQLite meanwhile
    again = copy_store(source, target)
    assert again.ok and again.kept == ["spans-cutover"] and again.sessions == 2
    assert target.next_seq("spans-cutover") == 2 and target.get_session("spans-cutover")["n_chunks"] == 2
    assert target.export_events("straggler-01") == source.export_events("straggler-01")
    db = tmp_path / "s.db"
    source.close()
    done = subprocess.run([sys.executable, "-m", "sessionheat", "migrate", "--db", str(db), "--to", postgres_url],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "left 1 session as the target has them" in done.stdout and "spans-cutover" in done.stdout
    target.close()


def test_migrate_command_shows_progress_and_checks(tmp_path, postgres_url):
    db = tmp_path / "s.db"
    with SessionStore(db) as store:
        fill(store)
    done = subprocess.run([sys.executable, "-m", "sessionheat", "migrate", "--db", str(db), "--to", postgres_url],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "copied 3 sessions and 2 blobs" in done.stdout and "byte for byte" in done.stdout
    assert "sessions" in done.stderr  # the progress bars
    with SessionStore(postgres_url) as target:
        assert len(target.list_sessions()) == 3


def test_several_processes_open_a_new_postgresql_store_at_once(postgres_url):
    """Each creates the schema if missing; the advisory lock makes them take turns."""
    script = ("import sys; from plumbing.store import SessionStore; s = SessionStore(sys.argv[1]);"
              " s.append_chunk('racing-chunk-1', 0, " + repr(events(NOW)) + "); print(len(s.list_sessions()))")
    procs = [subprocess.Popen([sys.executable, "-c", script, postgres_url], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    with SessionStore(postgres_url) as store:  # the same chunk from four processes: stored once
        assert count(store, "chunks") == 1 and store.get_session("racing-chunk-1")["n_events"] == 3


def test_migrate_and_prune_refuse_what_is_not_a_store_or_an_age_without_a_traceback(tmp_path):
    db = tmp_path / "s.db"
    SessionStore(db).close()
    (tmp_path / "folder").mkdir()
    (tmp_path / "text.db").write_text("not a database, just text\n")
    from sessionheat.cli import main

    for target in ("folder", "text.db"):
        result = CliRunner().invoke(main, ["migrate", "--db", str(db), "--to", str(tmp_path / target)])
        assert result.exit_code == 1 and "not a sessionheat store" in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert (tmp_path / "text.db").read_text() == "not a database, just text\n"  # left alone
    result = CliRunner().invoke(main, ["prune", "--db", str(db), "--older-than", "\u00b2d"])
    assert result.exit_code == 2 and "give an age such as 30d" in result.output
