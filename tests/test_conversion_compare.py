"""Converted vs not, drawn: people who reached the goal clicked one element, the others another;
the difference map and its JSON must say so. Real Chromium, record(), the index, the compare."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from click.testing import CliRunner

from plumbing.conversions import Goal
from plumbing.store import origin_of

import heatmap
from heatmap import LEGEND_HEIGHT, Segment
from recorder import SessionStore, record
from sessionheat.cli import main

SIGNUP = Goal("event", "signup")
PAGE = "/goal.html"


@pytest.fixture(scope="module")
def recorded(browser, asset_server, tmp_path_factory):
    """Three converters click #trial and then sign up (session.annotate, as a journey marks a goal);
    two others click #tour and leave."""
    store = SessionStore(tmp_path_factory.mktemp("goal") / "goal.db")
    for who, target in (("c1", "#trial"), ("c2", "#trial"), ("c3", "#trial"), ("o1", "#tour"), ("o2", "#tour")):
        with record(asset_server.url("goal.html"), store=store, browser=browser, properties={"who": who}) as s:
            s.page.click(target)
            s.page.wait_for_timeout(100)
            if target == "#trial":
                s.annotate("signup", {"plan": "pro"})
        assert not s.errors, s.errors
    results = heatmap.index_sessions(store, browser=browser)
    assert len(results) == 5 and not any(r.problem for r in results)
    yield store
    store.close()


def _orange(image: np.ndarray, box: list[float]) -> np.ndarray:
    """The compare's colour at the middle of an element box (document px; the legend is on top)."""
    x, y, w, h = box
    return image[LEGEND_HEIGHT + int(y + h / 2), int(x + w / 2)].astype(int)


def test_converters_and_the_others_differ_where_each_clicked(recorded, browser, tmp_path):
    yes = Segment.parse(["converted=yes"], url=PAGE, goals=(SIGNUP,))
    no = Segment.parse(["converted=no"], url=PAGE, goals=(SIGNUP,))
    a, b, diff = heatmap.build_compare(recorded, yes, no, browser=browser)
    assert (a.n_sessions, b.n_sessions) == (3, 2)
    assert "converted=yes (event:signup)" in a.segment.label()
    written = heatmap.write_compare(tmp_path / "cv.png", a, b, diff, tmp_path / "cv.json")
    data = json.loads(written[-1].read_text())
    rows = {r["element_key"]: r for r in data["difference"]}
    assert (rows["#trial"]["a_clicks"], rows["#trial"]["b_clicks"]) == (3, 0)
    assert (rows["#tour"]["a_clicks"], rows["#tour"]["b_clicks"]) == (0, 2)
    assert rows["#trial"]["delta"] == pytest.approx(1.0) and rows["#tour"]["delta"] == pytest.approx(-1.0)
    at_trial, at_tour = _orange(diff, rows["#trial"]["box"]), _orange(diff, rows["#tour"]["box"])
    assert at_trial[2] > at_trial[0] + 80  # orange (BGR): a larger share of converters' clicks
    assert at_tour[0] > at_tour[2] + 80  # blue: a larger share of the others'


def test_the_sites_goal_makes_converted_a_segment_like_any_property(recorded, browser):
    site = origin_of(recorded.list_sessions()[0]["entry_url"])
    recorded.set_goals(site, [SIGNUP])  # named after recording: applies to them all
    try:
        marked = {s["properties"]["who"]: s["properties"]["converted"] for s in recorded.list_sessions()}
        assert marked == {"c1": "yes", "c2": "yes", "c3": "yes", "o1": "no", "o2": "no"}
        only = heatmap.build_heatmap(recorded, Segment.parse(["converted=no"], url=PAGE), browser=browser)
        assert {e.element_key for e in only.placement.elements} == {"#tour"}
        sid = next(s["id"] for s in recorded.list_sessions() if s["properties"]["who"] == "c1")
        moment = recorded.conversion(sid)
        assert moment is not None and moment[1] == SIGNUP
    finally:
        recorded.set_goals(site, [])


def invoke_cli(*args: str) -> object:
    """CliRunner in a thread of its own: this thread's event loop is the tests' sync Playwright's,
    and the CLI starts its own Playwright, as it would in a fresh process."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(CliRunner().invoke, main, list(args)).result()


def test_the_cli_draws_converted_vs_not_by_a_goal_it_names(recorded, tmp_path):
    out, js = tmp_path / "cli.png", tmp_path / "cli.json"
    args = ["heatmap", "--db", str(recorded.path), "--url", PAGE, "--segment", "converted=yes",
            "--compare", "converted=no", "--goal", "event:signup", "--out", str(out), "--json", str(js)]
    result = invoke_cli(*args)
    assert result.exit_code == 0, result.output
    assert "converted=yes (event:signup), 3 sessions" in result.output
    trial = next(r for r in json.loads(js.read_text())["difference"] if r["element_key"] == "#trial")
    assert trial["a_clicks"] == 3 and trial["b_clicks"] == 0
    refused = invoke_cli(*args[:-4], "--segment", "converted=maybe", "--out", str(out))
    assert refused.exit_code != 0 and "converted 'maybe': one of yes, no" in refused.output
