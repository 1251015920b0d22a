"""One parser for what people type, with one wording for what it cannot understand, whether the
CLI, the session list or the heatmap explorer was given it."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from plumbing.store import SessionStore, StoreError
from plumbing.user_input import (
    InputError,
    parse_choice,
    parse_day,
    parse_pair,
    parse_pairs,
    parse_seconds,
    parse_session_id,
    parse_size,
    parse_width,
)

from sessionheat.web.heatmap_request import MapRequest
from sessionheat.web.sessions_ui import parse_list_query

PARSERS = [
    lambda text: parse_pair(text, "field"),
    lambda text: parse_size(text, "field"),
    lambda text: parse_width(text, "field"),
    lambda text: parse_day(text, "field"),
    lambda text: parse_choice(text, "field", ["a", "b"]),
    lambda text: parse_seconds(text, "field"),
    lambda text: parse_session_id(text, "field"),
]


@given(st.text(max_size=30), st.sampled_from(PARSERS))
def test_every_refusal_is_worded_one_way(text, parse):
    try:
        parse(text)
    except InputError as exc:
        assert isinstance(exc, ValueError)
        assert str(exc).startswith(f"field {text!r}: ") and exc.given == text and exc.how


@given(st.integers(0, 100_000), st.integers(0, 100_000), st.sampled_from(["x", "X", " x "]))
def test_sizes_read_back(w, h, sep):
    assert parse_size(f"{w}{sep}{h}", "viewport") == (w, h)
    assert parse_width(f"{w}{sep}{h}", "viewport") == w == parse_width(str(w), "viewport")


@pytest.mark.parametrize("text", ["12x", "axb", "x800", "1280", "1280x800x2", "+1280x800", "99999999999999999999x1",
                                  "1280xabc", "１２８０x800"])
def test_what_is_not_a_size_is_refused_with_the_form_to_use(text):
    with pytest.raises(InputError, match="give WIDTHxHEIGHT, e.g. 1280x800"):
        parse_size(text, "viewport")


def test_sizes_out_of_bounds_say_the_bounds():
    with pytest.raises(InputError, match="each from 100 to 10000 px"):
        parse_size("50x50", "viewport", least=100, most=10_000)
    with pytest.raises(InputError, match="one of desktop, tablet, a width or WIDTHxHEIGHT"):
        parse_width("1280xabc", "viewport", names=["desktop", "tablet"])


@given(st.text(st.characters(blacklist_characters="=", blacklist_categories=["Cs"]), min_size=1, max_size=12)
       .filter(str.strip),
       st.text(st.characters(blacklist_categories=["Cs"]), max_size=12))
def test_pairs_read_back_trimmed(key, value):
    assert parse_pair(f"{key}={value}", "segment") == (key.strip(), value.strip())


def test_pairs_need_a_key_and_where_asked_a_value():
    for text in ("variant", "=B", " =B"):
        with pytest.raises(InputError, match="give key=value, e.g. variant=B"):
            parse_pair(text, "segment")
    assert parse_pair("variant=", "property") == ("variant", "")
    with pytest.raises(InputError):
        parse_pair("variant=", "segment", value_required=True)
    assert parse_pairs(["plan=pro, variant=B", " device=mobile "], "segment") == [
        ("plan", "pro"), ("variant", "B"), ("device", "mobile")]


@given(st.dates(min_value=date(1, 1, 1)))
def test_days_read_back(day):
    assert parse_day(f" {day.isoformat()} ", "since") == day.isoformat()


@pytest.mark.parametrize("text", ["yesterday", "2026-02-30", "2026-13-01", "20260101", "2026-1-1", ""])
def test_what_is_not_a_day_is_refused(text):
    with pytest.raises(InputError, match="give a date as YYYY-MM-DD"):
        parse_day(text, "since")


@pytest.mark.parametrize("text, seconds", [("0", 0.0), ("2.5", 2.5), ("30", 30.0)])
def test_durations(text, seconds):
    assert parse_seconds(text, "min_duration") == seconds


@pytest.mark.parametrize("text", ["-1", "nan", "inf", "1e400", "ten", "1e7"])
def test_what_is_not_a_duration_is_refused(text):
    with pytest.raises(InputError, match="give a number of seconds"):
        parse_seconds(text, "min_duration")


@pytest.fixture(scope="module")
def id_store(tmp_path_factory):
    return SessionStore(tmp_path_factory.mktemp("ids") / "s.db")


@given(text=st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=70)
       | st.from_regex(r"[A-Za-z0-9_-]{1,70}", fullmatch=True))
def test_a_session_id_is_what_the_store_takes(id_store, text):
    try:
        id_store.create_session(text)
        stored = True
    except StoreError:
        stored = False
    try:
        parse_session_id(text, "reference")
        parsed = True
    except InputError:
        parsed = False
    assert parsed == stored


# -- the same words in the CLI, the session list and the heatmap explorer -------------------------


def test_the_cli_the_list_and_the_explorer_say_the_same(tmp_path):
    from sessionheat.cli import main

    db = str(tmp_path / "s.db")
    listing = parse_list_query(QueryParams("since=yesterday&device=watch&viewport=12x&property=variant"))
    explorer = MapRequest.from_query({"url": ["/"], "since": ["yesterday"], "device": ["watch"]})
    said = {"since 'yesterday': give a date as YYYY-MM-DD", "device 'watch': one of desktop, tablet, mobile"}
    assert said <= set(listing.errors) and said <= set(explorer.errors)
    assert "viewport '12x': give WIDTHxHEIGHT, e.g. 1280x800" in listing.errors
    assert "property 'variant': give key=value, e.g. variant=B" in listing.errors
    cli = CliRunner().invoke(main, ["record", "http://127.0.0.1:1/", "--viewport", "12x", "--db", db])
    assert cli.exit_code == 2 and "viewport '12x': give WIDTHxHEIGHT, e.g. 1280x800" in cli.output
    cli = CliRunner().invoke(main, ["import", "-", "--property", "variant", "--db", db], input="[]")
    assert cli.exit_code == 2 and "property 'variant': give key=value, e.g. variant=B" in cli.output
    heat = MapRequest.from_query({"url": ["/"], "kind": ["heat"]}).errors
    cli = CliRunner().invoke(main, ["heatmap", "--url", "/", "--kind", "heat", "--out", "x.png", "--db", db])
    assert cli.exit_code == 2 and heat == ("kind 'heat': one of click, move, scroll, attention, rage, dead",)
    assert heat[0] in " ".join(cli.output.split())


def test_the_explorer_refuses_what_the_store_would_not_call_a_session():
    assert MapRequest.from_query({"url": ["/"], "reference": ["abc"]}).errors == (
        "reference 'abc': a session id is 8-64 characters of A-Z a-z 0-9 _ -",)
    assert not MapRequest.from_query({"url": ["/"], "reference": ["abcdefgh"]}).errors


def test_a_property_value_is_written_as_filters_read_it():
    """What the session list, the session page and the explorer's one-click filters show of a
    property is what a filter must say to match it (JSON's true, not Python's True)."""
    from plumbing.user_input import property_text

    assert [property_text(v) for v in (True, False, None, 3, 1.5, "pro", {"a": [1]})] == [
        "true", "false", "null", "3", "1.5", "pro", '{"a":[1]}']
    assert parse_pair(f"beta={property_text(True)}", "property") == ("beta", "true")
