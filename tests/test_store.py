"""The session store on a real SQLite file and a real PostgreSQL database: idempotent chunks,
import/export, damage. `store` here is conftest's `backend_store` (once per backend); the tests
named for SQLite look inside its file and run on SQLite only."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plumbing.store import ListedSession, PageviewRow, SessionRow, SessionStore, StoreError
from plumbing.vocabulary import TAG_ANNOTATION

T0 = 1_790_000_000_000


def meta(t: int, href: str = "http://127.0.0.1:1/", w: int = 1280, h: int = 800) -> dict:
    return {"type": 4, "data": {"href": href, "width": w, "height": h}, "timestamp": t}


def snapshot(t: int) -> dict:
    return {"type": 2, "data": {"node": {"type": 0, "childNodes": [], "id": 1}, "initialOffset":
                                {"left": 0, "top": 0}}, "timestamp": t}


def move(t: int, x: float = 1.5) -> dict:
    return {"type": 3, "data": {"source": 1, "positions": [{"x": x, "y": 2, "id": 1, "timeOffset": 0}]},
            "timestamp": t}


def route(t: int, href: str, kind: str = "push") -> dict:
    return {"type": 5, "data": {"tag": "sessionheat.route", "payload": {"href": href, "kind": kind}},
            "timestamp": t}


@pytest.fixture
def store(backend_store):
    return backend_store


@pytest.fixture
def sqlite_store(tmp_path):
    with SessionStore(tmp_path / "sessions.db") as s:
        yield s


def damage(store: SessionStore, sql: str, params: tuple = ()) -> None:
    """Change rows behind the store's back (what a disk or a hand with a SQL shell might do)."""
    with store._write() as conn:
        conn.execute(sql, params)


def count(store: SessionStore, table: str) -> int:
    with store._read() as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def table_counts(store: SessionStore) -> dict[str, int]:
    return {t: count(store, t) for t in ("sessions", "chunks", "pageviews")}


def test_duplicate_chunk_write_changes_nothing(store):
    sid = store.create_session("session-0001", site="http://x", viewport=(390, 844))
    assert store.append_chunk(sid, 0, [meta(T0, w=390, h=844), snapshot(T0 + 1), move(T0 + 5)])
    before = (store.get_session(sid), store.pageviews(sid), store.chunk_rows(sid))
    assert not store.append_chunk(sid, 0, [meta(T0 + 9), move(T0 + 10)])  # a retry, other content
    assert (store.get_session(sid), store.pageviews(sid), store.chunk_rows(sid)) == before
    assert before[0]["device"] == "mobile" and before[0]["n_events"] == 3


def test_out_of_order_chunks_give_ordered_pageviews(store):
    sid = "session-ooo-1"
    store.append_chunk(sid, 1, [meta(T0 + 1000, "http://h/b"), snapshot(T0 + 1001), move(T0 + 1500)])
    store.append_chunk(sid, 0, [meta(T0, "http://h/a"), snapshot(T0 + 1), route(T0 + 500, "http://h/a?t=2")])
    views = store.pageviews(sid)
    assert [(v["index"], v["url"], v["t_start"], v["t_end"]) for v in views] == [
        (0, "http://h/a", 0, 500), (1, "http://h/a?t=2", 500, 1000), (2, "http://h/b", 1000, 1500)]
    assert views[1]["width"] == 1280  # a route change keeps the page's size
    session = store.get_session(sid)
    assert session["duration_ms"] == 1500 and session["entry_url"] == "http://h/a"


def test_export_import_export_is_byte_identical(store, tmp_path):
    sid = store.create_session("session-rt-01")
    store.append_chunk(sid, 0, [meta(T0), snapshot(T0 + 1)])
    store.append_chunk(sid, 1, [move(T0 + 2, 0.1 + 0.2), {"type": 5, "timestamp": T0 + 3,
                                "data": {"tag": "x", "payload": {"ü": "✓", "n": 1.0}}}])
    first = store.export_events(sid)
    other = SessionStore(tmp_path / "other.db")
    new_id, created = other.import_events(json.loads(first))
    assert created and new_id != sid
    assert other.export_events(new_id) == first
    assert other.import_events({"events": json.loads(first)}) == (new_id, False)  # same file again


@pytest.mark.parametrize("payload, message", [
    ({"nope": 1}, "JSON array"),
    ([1, 2], "event 0"),
    ([{"type": 4, "data": {"href": "x", "width": 1, "height": 1}}], "timestamp"),
    ([{"type": 99, "data": {}, "timestamp": T0}], "unknown event type"),
    ([meta(T0), {"type": 3, "data": {}, "timestamp": T0}], "event 1"),
    ([meta(T0), {"type": 2, "data": {"node": {}}, "timestamp": 12}], "plausible"),
    ([], "no events"),
])
def test_bad_imports_are_refused_and_leave_the_store_untouched(store, payload, message):
    store.import_events([meta(T0), snapshot(T0 + 1)])
    before = table_counts(store)
    with pytest.raises(StoreError, match=message):
        store.import_events(payload)
    assert table_counts(store) == before


def test_a_corrupt_chunk_stops_reading_there_and_says_so(store):
    sid = "session-bad-1"
    for seq in range(3):
        store.append_chunk(sid, seq, [meta(T0 + seq * 10) if seq == 0 else move(T0 + seq * 10)])
    damage(store, "UPDATE chunks SET data = ? WHERE session_id = ? AND seq = 1", (b"\x00\xff\x00", sid))
    read = store.read_events(sid)
    assert len(read.events) == 1 and not read.complete
    assert read.problems[0].seq == 1 and "unreadable" in read.problems[0].reason
    # the rest of the store is unharmed
    assert store.list_sessions()[0]["id"] == sid


def test_a_missing_chunk_stops_reading_there(store):
    sid = "session-gap-1"
    store.append_chunk(sid, 0, [meta(T0), snapshot(T0 + 1)])
    store.append_chunk(sid, 2, [move(T0 + 20)])
    read = store.read_events(sid)
    assert len(read.events) == 2 and read.problems[0].reason.startswith("chunk 1 is missing")


def test_damaged_properties_do_not_take_the_sqlite_store_down(sqlite_store):
    # (PostgreSQL keeps properties as JSONB, which holds nothing else.)
    store = sqlite_store
    sid = store.create_session("session-prop-1", properties={"a": 1})
    store.db.conn.execute("UPDATE sessions SET properties = '{not json' WHERE id = ?", (sid,))
    assert store.get_session(sid)["properties"] == {}
    store.append_chunk(sid, 0, [meta(T0)])
    assert store.get_session(sid)["n_events"] == 1


@pytest.mark.parametrize("bad_id", ["short", "has space in it", "../../etc/passwd", "x" * 65])
def test_session_ids_have_a_safe_form(store, bad_id):
    with pytest.raises(StoreError):
        store.append_chunk(bad_id, 0, [meta(T0)])


def test_sqlite_store_uses_wal_and_compresses(sqlite_store):
    store = sqlite_store
    sid = "session-wal-1"
    events = [meta(T0), snapshot(T0 + 1)] + [move(T0 + i, i) for i in range(2, 400)]
    store.append_chunk(sid, 0, events)
    assert store.db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    row = store.get_session(sid)
    assert row["n_bytes"] < row["n_raw_bytes"] * 0.25
    conn = sqlite3.connect(store.path)  # a second reader sees committed data
    assert conn.execute("SELECT n_events FROM sessions WHERE id = ?", (sid,)).fetchone()[0] == 400
    conn.close()


def test_long_strings_are_stored_once_and_round_trip_exactly(store, tmp_path):
    css = "body { color: red; }\n" * 300  # like an inlined stylesheet in every page's snapshot
    tricky = {"$sh_blob": "not a reference"}  # recorded data that looks like our own marker
    events = [meta(T0), {"type": 5, "timestamp": T0 + 1, "data": {"tag": "css", "payload": {
        "css": css, "again": [css], "tricky": tricky, "lit": {"$sh_lit": 1}, "hex": {"$sh_blob": "ab" * 32}}}}]
    plain = [{"type": 5, "timestamp": T0 + 2, "data": {"tag": "css", "payload": {"css": css}}}]  # no literal in it
    for sid in ("session-blob-1", "session-blob-2"):
        store.append_chunk(sid, 0, events)
        store.append_chunk(sid, 1, plain)
        assert store.read_events(sid).events == events + plain
    assert count(store, "blobs") == 1
    assert store.get_session("session-blob-1")["n_bytes"] < len(css) / 10
    exported = store.export_events("session-blob-1")
    other = SessionStore(tmp_path / "o.db")
    assert other.export_events(other.import_events(json.loads(exported))[0]) == exported


def test_a_missing_blob_is_damage_not_a_crash(store):
    store.append_chunk("session-blob-3", 0, [meta(T0, href="http://h/" + "x" * 2000)])
    damage(store, "DELETE FROM blobs")
    read = store.read_events("session-blob-3")
    assert not read.events and "missing" in read.problems[0].reason


def test_pages_are_matched_by_an_indexed_path_also_in_a_sqlite_store_from_version_1(tmp_path):
    """Heatmaps select pageviews by page path in SQL (fast at 100 000 sessions); a store written
    before that column existed gets it filled in when opened."""
    import sqlite3

    from plumbing.store import SessionStore, page_path

    assert page_path("http://h/index.html?variant=B#x") == page_path("http://h/") == "/"
    assert page_path("http://h/docs/") == "/docs" and page_path("/pricing.html") == "/pricing.html"
    db = tmp_path / "v1.db"
    with SessionStore(db) as store:
        store.append_chunk("session-0001", 0, [meta(T0, "http://h/index.html?x=1"), snapshot(T0 + 1),
                                               meta(T0 + 500, "http://h/pricing.html"), snapshot(T0 + 501)])
    conn = sqlite3.connect(db)  # make it look as version 1 wrote it
    conn.execute("DROP INDEX pageviews_page_path")
    conn.execute("ALTER TABLE pageviews DROP COLUMN page_path")
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()
    with SessionStore(db) as store:
        assert [p["url"] for p in store.find_pageviews(path="/")] == ["http://h/index.html?x=1"]
        assert [p["page_path"] for p in store.find_pageviews()] == ["/", "/pricing.html"]
        plan = store.db.conn.execute("EXPLAIN QUERY PLAN SELECT * FROM pageviews WHERE page_path = '/'")
        assert "pageviews_page_path" in " ".join(str(row) for row in plan)


def test_text_a_page_may_hold_but_strict_json_refuses_still_round_trips(store):
    # Broken text (a lone surrogate) and a huge integer: the fast JSON path refuses both, and the
    # standard library takes over, for chunks and for what the replay gets. (Read back, the integer
    # is a float of the same value, as it was in the recording browser.)
    import base64
    import zlib

    from replay.session import packed

    odd = {"short": "a\ud800b", "long": "\udfff" + "x" * 2000, "big": 2**70, "f": 0.1}
    events = [meta(T0), {"type": 5, "timestamp": T0 + 1, "data": {"tag": "odd", "payload": odd}}]
    store.append_chunk("session-odd-1", 0, events)
    read = store.read_events("session-odd-1")
    assert not read.problems and read.events == events
    assert json.loads(zlib.decompress(base64.b64decode(packed({"events": events})))) == {"events": events}


def test_new_session_ids_never_start_like_a_command_line_option():
    # `sessionheat export -Dwu…` would read the id as an option (one id in 64 started so).
    from plumbing.store import SESSION_ID_RE, new_session_id

    ids = [new_session_id() for _ in range(3000)]
    assert all(SESSION_ID_RE.match(i) and not i.startswith("-") for i in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("name", ["", "import", "http://127.0.0.1:8123", "x://y"])
def test_a_site_cannot_be_named_like_a_trusted_path(store, name):
    """Those names mark sessions recorded or imported here, whose origins a replay trusts."""
    with pytest.raises(StoreError, match="cannot name a site"):
        store.add_site(name, ["*"])
    assert store.list_sites() == []


_LONG = "a" * 1100


@given(st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.text(max_size=8)
    | st.sampled_from([_LONG, "é\u2028\"\\ " * 300, "\\" * 1100, "x\"" * 600, "\ud800" + _LONG, "ab" * 520]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(max_size=4) | st.sampled_from([_LONG]), inner, max_size=4),
    max_leaves=20))
@settings(max_examples=300, deadline=None)
def test_long_strings_moved_from_the_text_are_those_the_walker_moves(value):
    # The recorder's batches arrive as JSON text; moving long strings out of the text itself must
    # give what walking the parsed events gives: long values moved, keys and short strings (and
    # strings long only when escaped) left, a lone surrogate kept inline.
    from plumbing.store import _extract_blobs, _extract_blobs_text
    walked: dict[str, str] = {}
    expected = _extract_blobs(value, walked)
    for raw in (json.dumps(value, separators=(",", ":"), ensure_ascii=False), json.dumps(value, indent=1)):
        moved: dict[str, str] = {}
        assert json.loads(_extract_blobs_text(raw, moved)) == expected
        assert moved == walked


def test_delete_session_removes_it_and_only_it(store):
    for sid in ("keep-this-one", "drop-this-one"):
        store.create_session(sid, site="http://127.0.0.1:1")
        store.append_chunk(sid, 0, [meta(T0), snapshot(T0 + 1), move(T0 + 2)])
    # a named event (a goal's `sessionheat.event`) is kept in a table of its own: it goes too
    store.append_chunk("drop-this-one", 1, [{"type": 5, "timestamp": T0 + 3, "data": {
        "tag": TAG_ANNOTATION, "payload": {"name": "signup", "data": {}}}}])
    assert count(store, "named_events") == 1
    assert store.delete_session("drop-this-one") is True
    assert store.get_session("drop-this-one") is None
    assert table_counts(store) == {"sessions": 1, "chunks": 1, "pageviews": 1}
    assert len(store.read_events("keep-this-one").events) == 3
    assert store.delete_session("drop-this-one") is False


def test_session_rows_are_typed_and_still_read_as_the_dicts_they_were(store):
    """`get_session`, `list_sessions` and the list's rows are dataclasses; code written for the
    dicts they were (row["site"], .get, dict(row), == a dict) reads them unchanged."""
    session_id, _ = store.import_events([meta(T0), snapshot(T0 + 1)], site="shop", properties={"plan": "pro"})
    row = store.get_session(session_id)
    assert isinstance(row, SessionRow)
    assert (row.site, row["site"], row.get("site"), row.properties["plan"]) == ("shop", "shop", "shop", "pro")
    assert (row.first_ts, row.n_pageviews, row.n_events) == (T0, 1, 2)
    as_dict = json.loads(json.dumps(dict(row)))
    assert list(as_dict) == list(SessionRow.names()) and row == as_dict
    assert row.get("no such column") is None and "no such column" not in row
    with pytest.raises(KeyError):
        row["no such column"]
    assert store.list_sessions() == [row]
    listed = store.query_sessions().sessions
    assert [type(r) for r in listed] == [ListedSession] and listed[0].indexed_events is None
    assert {k: listed[0][k] for k in SessionRow.names()} == dict(row)
    (view,) = store.pageviews(session_id)
    assert isinstance(view, PageviewRow) and (view.index, view["url"], view.t_start) == (0, meta(T0)["data"]["href"], 0)


def test_a_stores_old_asset_folder_moves_into_the_store_once(tmp_path):
    """Replay assets used to be kept in `<db>.assets/` beside a SQLite file: opening the store
    keeps them inside it (so replays of a site long gone keep their images) and renames the folder."""
    from replay import AssetCache

    db = tmp_path / "old.db"
    SessionStore(db).close()
    folder = tmp_path / "old.db.assets"
    old = AssetCache(directory=folder)
    old.put("http://shop.test/logo.png", (200, {"content-type": "image/png"}, b"\x89PNG logo"), site="shop")
    old.put("http://shop.test/gone.png", (404, {}, b"no"), site="shop")  # never kept
    with SessionStore(db) as store:
        assert store.replay_asset("shop", "http://shop.test/logo.png") == (
            200, {"content-type": "image/png"}, b"\x89PNG logo")
        assert store.replay_asset("other", "http://shop.test/logo.png") is None  # sites kept apart
        assert store.replay_asset_stats()["urls"] == 1
    assert not folder.exists() and (tmp_path / "old.db.assets.adopted").is_dir()
    with SessionStore(db) as store:  # read once
        assert store.replay_asset_stats()["urls"] == 1


def test_two_index_runs_of_one_session_at_once_leave_one_set_of_hits(store, store_location):
    """replace_hits from two processes' stores at the same moment (two UIs' Index buttons, a Dask
    task redone while its first worker still runs): the session ends with one run's hits, not both."""
    import threading

    session_id, _ = store.import_events([meta(T0), snapshot(T0 + 1)])
    hits = [{"pageview": 0, "t": t, "kind": "click", "element_key": f"k{t}", "x": 1, "y": 1} for t in range(2000)]
    others = [SessionStore(store_location) for _ in range(2)]
    start = threading.Barrier(len(others))

    def index(other: SessionStore) -> None:
        start.wait()
        other.replace_hits(session_id, hits, n_events=2)

    for _ in range(3):
        threads = [threading.Thread(target=index, args=(other,)) for other in others]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert count(store, "hits") == len(hits)
    for other in others:
        other.close()


def test_processes_starting_together_agree_on_a_setting_and_refuse_a_second_user_cleanly(store, store_location):
    """Two `serve`s starting at once on a new store both make the cookie secret: the first insert
    wins and both read it (PostgreSQL raised a unique violation in one). Adding one user or site
    name twice at once is a StoreError for the second, never an IntegrityError."""
    import threading

    others = [SessionStore(store_location) for _ in range(2)]
    start = threading.Barrier(2)
    got: dict[int, object] = {}

    def race(n: int, other: SessionStore, name: str) -> None:
        start.wait()
        try:
            got[n] = other.setting(name, lambda: f"made by {n}")
        except Exception as exc:  # noqa: BLE001 - what the test looks for
            got[n] = exc

    for round_ in range(5):
        threads = [threading.Thread(target=race, args=(n, o, f"secret-{round_}")) for n, o in enumerate(others)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert got[0] == got[1] and str(got[0]).startswith("made by"), got
    store.add_user("ada", "admin", None)
    with pytest.raises(StoreError, match="already exists"):
        others[0].add_user("ada", "viewer", None)
    store.add_site("shop", ["http://shop.test"])
    with pytest.raises(StoreError, match="already exists"):
        others[1].add_site("shop", ["http://shop.test"])
    for other in others:
        other.close()


def test_another_apps_table_with_a_session_id_is_left_alone(store):
    """delete_session (and prune, migrate) act on the store's own tables, never on whatever else
    shares the database: another app's `session_id` column may be a number, or its rows not ours."""
    damage(store, "CREATE TABLE web_events (session_id BIGINT, note TEXT)")
    damage(store, "CREATE TABLE web_visits (session_id TEXT, note TEXT)")
    damage(store, "INSERT INTO web_events VALUES (7, 'theirs')")
    session_id, _ = store.import_events([meta(T0), snapshot(T0 + 1)])
    damage(store, "INSERT INTO web_visits VALUES (?, 'theirs too')", (session_id,))
    assert store.delete_session(session_id)
    assert (count(store, "web_events"), count(store, "web_visits"), count(store, "sessions")) == (1, 1, 0)


def test_a_property_filter_reads_values_alike_on_both_backends(store):
    """A segment selects the same sessions after `migrate`: JSON true is `true`, numbers and
    strings their text, on SQLite as on PostgreSQL."""
    from plumbing.store import SessionFilter

    props = {"beta": True, "gamma": False, "n": 3, "r": 1.5, "quote": 'say "hi"', "none": None}
    session_id, _ = store.import_events([meta(T0), snapshot(T0 + 1)], properties=props)

    def matches(key: str, value: str) -> bool:
        return [r.id for r in store.query_sessions(SessionFilter(properties={key: value})).sessions] == [session_id]

    assert matches("beta", "true") and matches("gamma", "false") and matches("n", "3")
    assert matches("r", "1.5") and matches("quote", 'say "hi"')
    assert not matches("beta", "1") and not matches("none", "None") and not matches("missing", "")


def test_text_with_nul_characters_is_stored_and_searched_on_both_backends(store):
    """A recorded page may send NUL (a custom event's name, a property, a URL). PostgreSQL's
    text and JSONB cannot hold it: there it reads back as U+FFFD (searches alike), never as an
    error that would have the collector refuse the chunk for ever. The events keep it exactly."""
    from plumbing.store import SessionFilter
    from plumbing.vocabulary import TAG_SET_PROPERTIES

    events = [meta(T0, href="http://127.0.0.1:1/a\x00b"), snapshot(T0 + 1),
              {"type": 5, "timestamp": T0 + 2, "data": {"tag": TAG_ANNOTATION, "payload": {"name": "step\x00one"}}},
              {"type": 5, "timestamp": T0 + 3, "data": {"tag": TAG_SET_PROPERTIES, "payload": {"k\x00": "v\x00"}}}]
    store.append_chunk("nul-session-1", 0, events)
    assert json.loads(store.export_events("nul-session-1")) == events
    shown = "\x00" if store.backend_name == "sqlite" else "\ufffd"
    row = store.get_session("nul-session-1")
    assert row.properties == {f"k{shown}": f"v{shown}"} and row.entry_url == f"http://127.0.0.1:1/a{shown}b"
    for filters in (SessionFilter(url="a\x00b"), SessionFilter(properties={"k\x00": "v\x00"}),
                    SessionFilter(url="\x00")):
        found = [r.id for r in store.query_sessions(filters).sessions]
        assert store.count_sessions(filters) == (len(found), True)
        if store.backend_name == "postgresql":  # SQLite's string functions may stop at a NUL
            assert found == ["nul-session-1"]
