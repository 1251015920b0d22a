"""Goals and `converted`, and the visit's properties, in the store (plumbing/conversions.py,
plumbing/traffic.py as the store applies them): a real SQLite file, no browser."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from plumbing.conversions import Goal, parse_goal, parse_goals
from plumbing.store import SessionFilter, SessionStore
from plumbing.user_input import InputError
from plumbing.vocabulary import TAG_ANNOTATION, TAG_SET_PROPERTIES, TAG_VISIT

from sessionheat.cli import main

T0 = 1_790_000_000_000
SHOP = "http://shop.example"
SIGNUP = Goal("event", "signup")
DONE = Goal("url", "/signup/done")


def meta(t: int, path: str = "/") -> dict:
    return {"type": 4, "data": {"href": SHOP + path, "width": 1280, "height": 800}, "timestamp": t}


def custom(t: int, tag: str, payload: dict) -> dict:
    return {"type": 5, "data": {"tag": tag, "payload": payload}, "timestamp": t}


def event(t: int, name: str) -> dict:
    return custom(t, TAG_ANNOTATION, {"name": name, "data": {}})


def visit(t: int, href: str = SHOP + "/", referrer: str = "", **note: object) -> dict:
    return custom(t, TAG_VISIT, {"href": href, "referrer": referrer, **note})


def session(store: SessionStore, *chunks: list[dict], site: str = "shop") -> str:
    sid = store.create_session(site=site)
    for seq, events in enumerate(chunks):
        store.append_chunk(sid, seq, events)
    return sid


def props(store: SessionStore, sid: str) -> dict:
    return store.get_session(sid)["properties"]


def test_goals_parse_one_way_and_refuse_what_they_cannot_match():
    assert parse_goal("url:/signup/done/") == DONE  # a page path, as pageviews are matched
    assert parse_goal(" URL:/index.html") == Goal("url", "/")
    assert parse_goal("event:signup") == SIGNUP and str(SIGNUP) == "event:signup"
    assert parse_goals(["event:signup", "url:/signup/done", "event:signup"]) == (SIGNUP, DONE)
    for bad in ("signup", "url:", "page:/x", "event:", "url:https://shop.example/done", "url:done"):
        with pytest.raises(InputError, match="goal"):
            parse_goal(bad)


def test_the_first_visit_of_a_session_gives_its_properties_and_the_page_has_the_last_word(store):
    sid = session(store, [meta(T0), visit(T0 + 1, SHOP + "/?utm_source=news&utm_medium=email",
                                          "https://mail.google.com/", visitor="returning",
                                          first_seen=T0 - 86_400_000)],
                  [visit(T0 + 50, SHOP + "/?utm_campaign=other", "https://www.google.com/")],
                  [custom(T0 + 60, TAG_SET_PROPERTIES, {"utm_source": "partner"})])
    assert props(store, sid) == {"referrer_host": "mail.google.com", "utm_source": "partner",
                                 "utm_medium": "email", "channel": "email", "visitor": "returning",
                                 "first_seen": "2026-09-20"}
    listed = store.query_sessions(SessionFilter(properties={"channel": "email", "visitor": "returning"}))
    assert [s["id"] for s in listed.sessions] == [sid]


def test_a_goal_named_later_applies_to_the_sessions_recorded_before_it(store):
    signed = session(store, [meta(T0), event(T0 + 5, "signup")])
    reached = session(store, [meta(T0), meta(T0 + 10, "/signup/done?plan=pro")])
    left = session(store, [meta(T0), event(T0 + 5, "newsletter")])
    other_site = session(store, [meta(T0), event(T0 + 5, "signup")], site="blog")
    assert all("converted" not in props(store, s) for s in (signed, reached, left, other_site))

    store.set_goals("shop", [SIGNUP])
    assert [props(store, s).get("converted") for s in (signed, reached, left, other_site)] == [
        "yes", "no", "no", None]
    store.set_goals("shop", [SIGNUP, DONE])
    assert [props(store, s).get("converted") for s in (signed, reached, left)] == ["yes", "yes", "no"]
    assert store.goals("shop") == (SIGNUP, DONE) and store.goals("blog") == ()
    yes = store.query_sessions(SessionFilter(properties={"converted": "yes"})).sessions
    assert {s["id"] for s in yes} == {signed, reached}
    store.set_goals("shop", [])  # no goal any more: no stale answer either
    assert all("converted" not in props(store, s) for s in (signed, reached, left))


def test_new_chunks_keep_converted_up_to_date_and_the_moment_is_the_first_goal_reached(store):
    store.set_goals("shop", [SIGNUP, Goal("url", "/order/*/done")])
    sid = session(store, [meta(T0), move_free(T0 + 1)])
    assert props(store, sid)["converted"] == "no"  # not yet
    store.append_chunk(sid, 1, [meta(T0 + 100, "/order/42/done"), event(T0 + 150, "signup")])
    assert props(store, sid)["converted"] == "yes"
    assert store.conversion(sid) == (T0 + 100, Goal("url", "/order/*/done"))
    assert store.conversion(sid, [SIGNUP]) == (T0 + 150, SIGNUP)
    assert store.conversion(sid, [Goal("event", "refund")]) is None


def move_free(t: int) -> dict:
    return {"type": 3, "data": {"source": 1, "positions": [{"x": 1, "y": 2, "id": 1, "timeOffset": 0}]},
            "timestamp": t}


def test_a_goal_given_at_query_time_answers_converted_whatever_the_site_says(store):
    signed = session(store, [meta(T0), event(T0 + 5, "signup")], site="http://127.0.0.1:9")
    left = session(store, [meta(T0), meta(T0 + 5, "/pricing.html")], site="http://127.0.0.1:9")
    by_goal = SessionFilter(properties={"converted": "yes"}, goals=(SIGNUP,))
    assert [s["id"] for s in store.query_sessions(by_goal).sessions] == [signed]
    by_goal.properties["converted"] = "no"
    assert [s["id"] for s in store.query_sessions(by_goal).sessions] == [left]
    assert store.query_sessions(SessionFilter(properties={"converted": "no"})).sessions == []  # no site goals
    pvs = store.find_pageviews(properties={"converted": "no"}, goals=(Goal("url", "/pricing.html"),))
    assert {p["session_id"] for p in pvs} == {signed}


def test_glob_characters_other_than_star_match_themselves(store):
    sid = session(store, [meta(T0), meta(T0 + 5, "/a[1]/x")])
    other = session(store, [meta(T0), meta(T0 + 5, "/a1/x")])
    store.set_goals("shop", [parse_goal("url:/a[1]/*")])
    assert props(store, sid)["converted"] == "yes" and props(store, other)["converted"] == "no"


def test_damaged_properties_do_not_stop_goals_from_being_named(store):
    sid = session(store, [meta(T0), event(T0 + 5, "signup")])
    store.db.conn.execute("UPDATE sessions SET properties = 'not json' WHERE id = ?", (sid,))
    store.set_goals("shop", [SIGNUP])
    assert store.conversion(sid) == (T0 + 5, SIGNUP)


def test_a_store_from_before_event_goals_learns_its_sessions_events_when_opened(tmp_path):
    path = tmp_path / "old.db"
    with SessionStore(path) as store:
        sid = session(store, [meta(T0), event(T0 + 5, "signup")])
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE named_events")  # as a store written by the version before
    conn.commit()
    conn.close()
    with SessionStore(path) as store:
        store.set_goals("shop", [SIGNUP])
        assert props(store, sid)["converted"] == "yes"


def test_sites_cli_names_goals_and_visitor_notes(tmp_path):
    db = str(tmp_path / "s.db")
    run = CliRunner().invoke
    result = run(main, ["sites", "add", "shop", "--origin", "https://shop.example", "--goal", "event:signup",
                        "--db", db])
    assert result.exit_code == 0, result.output
    with SessionStore(db) as store:
        site = store.list_sites()[0]
        assert site["goals"] == ["event:signup"] and site["remember_visitors"] is False
    result = run(main, ["sites", "set", "shop", "--remember-visitors", "--goal", "url:/done/", "--goal",
                        "event:signup", "--db", db])
    assert result.exit_code == 0, result.output
    assert "visitor notes kept, goals event:signup url:/done" in result.output
    result = run(main, ["sites", "set", "shop", "--no-goals", "--forget-visitors", "--db", db])
    assert "visitor notes not kept, goals none" in result.output
    result = run(main, ["sites", "set", "shop", "--goal", "signup", "--db", db])
    assert result.exit_code == 2 and "give url:PATH" in result.output


def test_the_timeline_shows_the_moment_of_conversion(store):
    from sessionheat.web.session_timeline import build_timeline

    store.set_goals("shop", [SIGNUP])
    sid = session(store, [meta(T0), move_free(T0 + 10), event(T0 + 2500, "signup")])
    events, pageviews = store.read_events(sid).events, store.pageviews(sid)
    at, goal = store.conversion(sid)
    entries = build_timeline(events, pageviews, conversion=(at, str(goal)))
    (converted,) = [e for e in entries if e.kind == "conversion"]
    assert (converted.t, converted.label) == (2500, "Converted: reached goal event:signup")
    assert not [e for e in build_timeline(events, pageviews) if e.kind == "conversion"]
