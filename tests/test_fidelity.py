"""Replay fidelity on real third-party front ends (issue 17): the suite in bench/frontends.py.

One test per front end: a scripted visit is recorded with click evidence (what each click really hit,
`composedPath()[0]` at dispatch, and its live box) and live screenshots of settled moments; the replay
must put every clicked element within 1 px of its live box, and its picture at each marked moment
must match the live screenshot (at most MAX_DIFFERING_SHARE of pixels off by more than
PIXEL_TOLERANCE on a channel; see bench/frontends.py for why those numbers).

Pictures of every moment (live, replay, and the replay with differing pixels in magenta) are left
in tests/artifacts/fidelity/ for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.frontends import (
    BY_PAGE,
    MAX_DIFFERING_SHARE,
    check_clicks,
    check_shots,
    diff_picture,
    installed,
    serve_frontends,
)
from recorder import SessionStore, record
from replay import open_session

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "fidelity"


@pytest.fixture(scope="module")
def servers():
    if not installed():
        pytest.fail("the fidelity front ends are not installed: run scripts/setup.sh (npm ci in bench/frontends)")
    with serve_frontends() as s:
        yield s


def check_frontend(name: str, servers, browser, tmp_path: Path) -> None:
    from bench.frontends import record_frontend

    frontend = BY_PAGE[name]
    store = SessionStore(tmp_path / f"{name}.db")
    try:
        run = record_frontend(frontend, servers, store, browser)
        assert run.error is None, run.error
        with open_session(store, run.session_id, browser=browser) as rp:
            clicks = check_clicks(rp)
            shots = check_shots(rp, run.shots)
            missing = dict(rp.guard.missing)
            blocked = dict(rp.guard.blocked)
    finally:
        store.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for i, ((_t, _share, replayed), live) in enumerate(zip(shots, run.shots)):
        (ARTIFACTS / f"{name}-{i}-live.png").write_bytes(live)
        (ARTIFACTS / f"{name}-{i}-replay.png").write_bytes(replayed)
        (ARTIFACTS / f"{name}-{i}-diff.png").write_bytes(diff_picture(live, replayed))

    assert len(clicks) >= frontend.min_clicks, f"the journey clicked {len(clicks)} times"
    assert all(c.node_id > 0 for c in clicks), "every click's element must be in the recording's mirror"
    assert len(shots) == len(run.shots) >= 3
    misses = sorted((c for c in clicks if c.offset > 1), key=lambda c: -c.offset)
    off_shots = [(i, t, f"{100 * share:.3f} %") for i, (t, share, _) in enumerate(shots)
                 if share > MAX_DIFFERING_SHARE]
    assert not misses and not off_shots and not missing, (
        f"{len(clicks) - len(misses)}/{len(clicks)} clicks within 1 px; worst: "
        + "; ".join(f"t={c.t} <{c.tag}> live {c.live} replayed {c.replayed}" for c in misses[:4])
        + f"; moments whose picture differs (index, t, share): {off_shots}; assets missing: {missing}"
        + f"; requests the replay refused: {blocked}")


def test_web_components_shoelace(servers, browser, tmp_path):
    """Open shadow roots styled by adopted sheets, slots, dialog, dropdown, tabs, details, an alert
    inserted after load, components restyled after load."""
    check_frontend("shoelace", servers, browser, tmp_path)


def test_react_spa_swagger_ui(servers, browser, tmp_path):
    """Expanding operations, "Try it out", Execute, model expanders, a deep link."""
    check_frontend("swagger", servers, browser, tmp_path)


def test_canvas_chart_chartjs(servers, browser, tmp_path):
    """A chart drawn in a 2D canvas, clicked on its legend, redrawn by buttons."""
    check_frontend("chart", servers, browser, tmp_path)


def test_css_in_js_emotion_and_constructed_sheet(servers, browser, tmp_path):
    """Rules inserted by @emotion/css at click time; a document-adopted constructed sheet changed
    by insertRule and replaceSync."""
    check_frontend("cssinjs", servers, browser, tmp_path)


def test_same_origin_iframe(servers, browser, tmp_path):
    check_frontend("iframe", servers, browser, tmp_path)


def test_scrolling_container(servers, browser, tmp_path):
    """Items clicked after the list itself was scrolled."""
    check_frontend("scroller", servers, browser, tmp_path)


def test_top_layer_dialog_and_popover(servers, browser, tmp_path):
    check_frontend("toplayer", servers, browser, tmp_path)


def test_web_font_from_another_origin(servers, browser, tmp_path):
    check_frontend("webfont", servers, browser, tmp_path)


def test_click_evidence_names_the_element_inside_a_shadow_root_and_an_iframe(servers, browser, tmp_path):
    """Ground truth is `composedPath()[0]` read at dispatch, not the retargeted `ev.target` (the shadow
    host), and clicks inside a same-origin iframe are evidence too, boxed in top-document px."""
    store = SessionStore(tmp_path / "evidence.db")
    try:
        with record(servers.url("evidence.html"), store=store, browser=browser, evidence=True) as session:
            page = session.page
            page.frame_locator("#frame").locator("#pay").wait_for()
            page.locator("#panel #inner").click()
            page.frame_locator("#frame").locator("#invoice").click()
            page.wait_for_timeout(100)
            inner = page.locator("#panel #inner").bounding_box()
            invoice = page.frame_locator("#frame").locator("#invoice").bounding_box()
        with open_session(store, session.id, browser=browser) as rp:
            live = rp.live_clicks()
            replayed = rp.resolve([(c.t, c.node_id) for c in live])
    finally:
        store.close()
    assert [r.tag for r in replayed] == ["button", "button"]  # not the host <x-panel>, none missing
    for click, box in zip(live, [inner, invoice]):  # the page does not scroll: viewport = document px
        assert max(abs(a - b) for a, b in zip(click.box, (box["x"], box["y"], box["width"], box["height"]))) <= 1
    for click, r in zip(live, replayed):
        assert max(abs(a - b) for a, b in zip(click.box, (r.box.x, r.box.y, r.box.w, r.box.h))) <= 1
