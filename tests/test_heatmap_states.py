"""Heatmaps that know the page's state: hits inside an open dialog are drawn on a photograph of
the page with that dialog open, and hits inside a scrolling list on the list's whole content,
not listed as "not on this layout" and never drawn where the base photograph shows something else.

Visits are recorded ONCE for the module (real Chromium, tests/assets/states.html, 1280x800):

    a   opens the dialog, accepts (top-left of the button); scrolls the list to item 30, clicks it,
        then item 36; scrolls the list back to its top and clicks item 2; opens the "Sort" menu (a
        floating role=menu) and picks "Newest" (bottom-right)
    b   opens the dialog, declines (bottom-right); opens it again, "Later"; scrolls the list to its
        end and clicks item 38; scrolls a row of tabs (300 px showing 1000) to its end, clicks tab 9;
        opens the "Help" popover and clicks its "Got it"; opens the "Country" dropdown (a listbox
        that scrolls, 4 of 20 options shown), scrolls it to its end and picks country 18
"""

from __future__ import annotations

import colorsys
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from recorded_visits import Visit, record_visits

import heatmap
from heatmap import Heatmap, Segment
from heatmap.states import StateGroup, split_by_state
from recorder import SessionStore, record

DESKTOP = (1280, 800)
DIALOG_COLOURS = {"#accept": (0, 200, 0), "#decline": (230, 0, 0), "#later": (0, 0, 230)}  # RGB


def _open(page: Any) -> None:
    page.locator("#open").click()
    page.locator("#accept").wait_for()
    page.wait_for_timeout(150)


def _visit_a(page: Any) -> None:
    _open(page)
    page.locator("#accept").click(position={"x": 12, "y": 10})
    page.wait_for_timeout(200)
    page.evaluate("document.getElementById('list').scrollTop = 29 * 48 - 60")
    page.wait_for_timeout(300)
    page.locator("#item-30").click(position={"x": 30, "y": 20})
    page.evaluate("document.getElementById('list').scrollTop = 35 * 48 - 120")
    page.wait_for_timeout(300)
    page.locator("#item-36").click(position={"x": 300, "y": 30})
    page.evaluate("document.getElementById('list').scrollTop = 0")
    page.wait_for_timeout(300)
    page.locator("#item-2").click()
    page.wait_for_timeout(200)
    page.locator("#sort").click()
    page.locator("#newest").click(position={"x": 150, "y": 30})
    page.wait_for_timeout(200)


def _visit_b(page: Any) -> None:
    _open(page)
    box = page.locator("#decline").bounding_box()
    page.locator("#decline").click(position={"x": box["width"] - 10, "y": box["height"] - 8})
    page.wait_for_timeout(200)
    _open(page)
    page.locator("#later").click()
    page.wait_for_timeout(200)
    page.evaluate("const l = document.getElementById('list'); l.scrollTop = l.scrollHeight")
    page.wait_for_timeout(300)
    page.locator("#item-38").click(position={"x": 100, "y": 24})
    page.wait_for_timeout(200)
    page.evaluate("document.getElementById('tabs').scrollLeft = 700")
    page.wait_for_timeout(300)
    page.locator("#tab-9").click(position={"x": 80, "y": 20})
    page.wait_for_timeout(200)
    page.locator("#help").click()
    page.locator("#got-it").click()
    page.wait_for_timeout(200)
    page.locator("#country").click()
    page.evaluate("document.getElementById('countries').scrollTop = 1000")
    page.wait_for_timeout(300)
    page.locator("#country-18").click(position={"x": 150, "y": 8})
    page.wait_for_timeout(200)


@dataclass
class Recorded:
    store: SessionStore
    ids: dict[str, str]
    browser: Any
    url: str

    def build(self, kind: str = "click", reference: str | None = None) -> Heatmap:
        return heatmap.build_heatmap(self.store, Segment(url=self.url, viewport_w=DESKTOP[0]), kind,
                                     reference=self.ids[reference] if reference else None, browser=self.browser)


@pytest.fixture(scope="module")
def rec(browser, asset_server, tmp_path_factory):
    store = SessionStore(tmp_path_factory.mktemp("states") / "states.db")
    ids = record_visits(store, browser, {
        name: Visit(asset_server.url("states.html"), act, viewport=DESKTOP, properties={"who": name})
        for name, act in (("a", _visit_a), ("b", _visit_b))})
    yield Recorded(store, ids, browser, "/states.html")
    store.close()


def clicks(rec: Recorded) -> list[dict]:
    return rec.store.hits([(rec.ids[n], 0) for n in ("a", "b")], kinds=("click",))


def inside(box: Any, x: float, y: float) -> bool:
    bx, by, bw, bh = box
    return bx - 0.5 <= x <= bx + bw + 0.5 and by - 0.5 <= y <= by + bh + 0.5


def middle_colour(image: np.ndarray, box: Any) -> np.ndarray:
    """Median RGB of the inner part of a box on a photograph (BGR), away from the text."""
    x, y, w, h = (int(round(v)) for v in box)
    inner = image[y + 4:y + h - 4, x + w - 40:x + w - 6].reshape(-1, 3)
    return np.median(inner, axis=0)[::-1]


def item_rgb(i: int) -> np.ndarray:
    r, g, b = colorsys.hls_to_rgb(((i * 37) % 360) / 360, 0.6, 0.8)
    return np.array([r, g, b]) * 255


def test_the_index_knows_the_state_each_click_was_made_in(rec):
    found = {h["element_key"]: h for h in clicks(rec)}
    for key in DIALOG_COLOURS:
        assert found[key]["state_key"] == "#consent", found[key]
        assert found[key]["state_kind"] == "dialog" and found[key]["state_label"] == "Cookies"
    for key in ("#item-30", "#item-36", "#item-2", "#item-38"):
        assert found[key]["container_key"] == "#list" and found[key]["state_key"] is None, found[key]
    assert found["#open"]["state_key"] is None and found["#open"]["container_key"] is None
    assert (found["#newest"]["state_key"], found["#newest"]["state_kind"], found["#newest"]["state_label"]) == (
        "#sort-menu", "menu", "Sort by")
    depths = rec.store.hits([(rec.ids[n], 0) for n in ("a", "b")], kinds=("container_max",))
    assert {h["session_id"] for h in depths} == set(rec.ids.values())
    assert {h["container_key"] for h in depths} == {"#list", "#countries"}


def test_dialog_buttons_are_drawn_inside_their_elements_on_a_photograph_of_the_open_dialog(rec):
    hm = rec.build()
    # The base photograph is of the page with the dialog closed: its buttons are not on it.
    assert all(hm.reference.boxes.get(key) is None for key in DIALOG_COLOURS)
    (panel,) = [p for p in hm.states if p.group.key == "#consent"]
    assert panel.group.kind == "overlay" and panel.group.overlay_kind == "dialog"
    placed = {(p.session_id, p.t): p for p in panel.placement.points}
    dialog_clicks = [h for h in clicks(rec) if h["state_key"] == "#consent"]
    assert len(dialog_clicks) == 3 and len(placed) == 3
    for hit in dialog_clicks:
        box = panel.boxes[hit["element_key"]]
        point = placed[(hit["session_id"], hit["t"])]
        assert inside(box, point.x, point.y), (hit["element_key"], point, box)
        # ... and the panel's photograph shows that very button there.
        colour = middle_colour(panel.image, box)
        assert np.allclose(colour, DIALOG_COLOURS[hit["element_key"]], atol=30), (hit["element_key"], colour)
    # Where inside the button each click landed is kept: top-left vs bottom-right.
    accept = placed[next((h["session_id"], h["t"]) for h in dialog_clicks if h["element_key"] == "#accept")]
    decline = placed[next((h["session_id"], h["t"]) for h in dialog_clicks if h["element_key"] == "#decline")]
    ax, ay, aw, ah = panel.boxes["#accept"]
    dx, dy, dw, dh = panel.boxes["#decline"]
    assert accept.x - ax < aw / 4 and accept.y - ay < ah / 2
    assert decline.x - dx > 3 * dw / 4 and decline.y - dy > ah / 2
    # Nothing of the dialog is "not on this layout"; every click is drawn exactly once.
    assert not hm.placement.not_on_layout
    drawn = len(hm.placement.points) + sum(len(p.placement.points) for p in hm.states)
    assert drawn == len(clicks(rec))


def test_a_menu_item_is_drawn_inside_it_on_a_photograph_of_the_open_menu(rec):
    hm = rec.build()
    (panel,) = [p for p in hm.states if p.group.key == "#sort-menu"]
    assert panel.group.overlay_kind == "menu" and panel.group.title == "menu 'Sort by'"
    (point,) = panel.placement.points
    box = panel.boxes["#newest"]
    assert inside(box, point.x, point.y) and point.x - box[0] > 140 and point.y - box[1] > 25
    assert np.allclose(middle_colour(panel.image, box), (255, 220, 0), atol=30)
    # The panel is the menu and a margin of the page around it, not the whole page.
    assert panel.image.shape[1] < 300 and panel.image.shape[0] < 200 and panel.root[2] == 182  # 180 + border


def test_a_popover_the_replay_shows_closed_is_opened_for_its_photograph(rec):
    # rrweb records no popover's open state: the replay has it closed, and the click inside it
    # has no box of its own (it is placed at its element's middle). The click says it was open.
    (hit,) = [h for h in clicks(rec) if h["element_key"] == "#got-it"]
    assert (hit["state_key"], hit["state_kind"], hit["state_label"]) == ("#help-tip", "popover", "Help")
    hm = rec.build()
    (panel,) = [p for p in hm.states if p.group.key == "#help-tip"]
    (point,) = panel.placement.points
    box = panel.boxes["#got-it"]
    assert inside(box, point.x, point.y)
    assert np.allclose(middle_colour(panel.image, box), (160, 0, 200), atol=30)


def test_an_option_of_a_dropdown_listbox_that_scrolls_is_drawn_on_its_whole_content(rec):
    (hit,) = [h for h in clicks(rec) if h["element_key"] == "#country-18"]
    # Inside an open floating listbox, which is itself the scrolling container.
    assert (hit["state_key"], hit["state_kind"], hit["container_key"]) == ("#countries", "listbox", "#countries")
    hm = rec.build()
    (panel,) = [p for p in hm.states if p.group.key == "#countries"]
    assert panel.group.kind == "container" and panel.group.title == "scrolling container 'Countries'"
    assert 600 <= panel.root[3] <= 604  # all 20 options, not the 4 the dropdown shows at once
    (point,) = panel.placement.points
    box = panel.boxes["#country-18"]
    assert inside(box, point.x, point.y) and abs(box[1] - panel.root[1] - (1 + 17 * 30)) <= 2
    assert np.allclose(middle_colour(panel.image, box), item_rgb(18), atol=30)


def test_list_items_scrolled_into_view_are_drawn_inside_their_elements_on_the_list_content(rec):
    hm = rec.build(reference="a")  # a scrolled its list back to the top before the end
    # The base photograph shows the list scrolled to its top: items 30, 36, 38 are under its clip
    # (they have a box, below the list, where the page shows something else).
    for key in ("#item-30", "#item-36", "#item-38"):
        assert hm.reference.boxes.get(key) is None, key
    (panel,) = [p for p in hm.states if p.group.key == "#list"]
    assert panel.group.kind == "container"
    # The panel is the list's whole content: 40 items of 48 px, plus its border.
    x0, y0, w, h = panel.root
    assert 40 * 48 <= h <= 40 * 48 + 4 and 360 <= w <= 364
    list_clicks = [h for h in clicks(rec) if h["container_key"] == "#list"]
    assert len(list_clicks) == 4
    placed = {(p.session_id, p.t): p for p in panel.placement.points}
    for hit in list_clicks:
        key = hit["element_key"]
        box = panel.boxes[key]
        point = placed[(hit["session_id"], hit["t"])]
        assert inside(box, point.x, point.y), (key, point, box)
        i = int(key.rsplit("-", 1)[1])
        assert abs(box[1] - y0 - (1 + (i - 1) * 48)) <= 2, (key, box)  # its place in the content
        colour = middle_colour(panel.image, box)
        assert np.allclose(colour, item_rgb(i), atol=30), (key, colour, item_rgb(i))
    assert not hm.placement.not_on_layout


def test_a_tab_scrolled_into_a_row_of_tabs_is_drawn_inside_it_on_the_row_content(rec):
    hm = rec.build(reference="a")  # a never scrolled the row of tabs
    assert hm.reference.boxes.get("#tab-9") is None  # past the row's clip on the base photograph
    (panel,) = [p for p in hm.states if p.group.key == "#tabs"]
    assert panel.group.title == "scrolling container 'Categories'"
    assert 1000 <= panel.root[2] <= 1004  # the row's whole content
    (point,) = panel.placement.points
    box = panel.boxes["#tab-9"]
    assert inside(box, point.x, point.y) and abs(box[0] - panel.root[0] - (1 + 800)) <= 2
    assert np.allclose(middle_colour(panel.image, box), item_rgb(9), atol=30)


def test_png_and_json_list_the_states_beside_the_base_map(rec, tmp_path):
    hm = rec.build()
    hm.write(tmp_path / "map.png", tmp_path / "map.json")
    data = json.loads((tmp_path / "map.json").read_text())
    assert {s["key"] for s in data["states"]} == {"#consent", "#list", "#sort-menu", "#tabs", "#help-tip",
                                                  "#countries"}
    for state in data["states"]:
        png = tmp_path / state["png"]
        assert png.is_file() and state["png"].startswith("map-state-")
        assert state["hits"] == len(state["points"]) and state["photo"]["session_id"] in rec.ids.values()
    # The contract stays: points on the base, the element table, not on this layout.
    assert {p["element_key"] for p in data["points"]} == {"#open", "#sort", "#help", "#country"}
    assert data["not_on_layout"] == []
    shares = sum(e["share"] for e in data["elements"]) + sum(e["share"] for s in data["states"] for e in s["elements"])
    assert shares == pytest.approx(1.0, abs=0.01)


def test_scroll_depth_inside_the_list_is_measured_on_its_content(rec):
    hm = rec.build("scroll")
    assert {p.group.key for p in hm.states} == {"#list", "#countries"}  # the containers scrolled down
    (panel,) = [p for p in hm.states if p.group.key == "#list"]
    reach, top = panel.values, int(panel.root[1])
    assert reach[top] == 1.0 and reach[top + 200] == 1.0  # the list's visible part: every pageview
    assert reach[top + 35 * 48 + 10] == 1.0  # item 36: a reached it, b the end
    assert reach[top + 38 * 48 + 10] == 0.5  # item 39: only b scrolled that far (to the end)
    assert reach[-3:].max() == 0.0  # below the list's content: nobody


def test_split_by_state_keeps_an_overlay_the_base_photograph_shows_on_the_base():
    hits = [{"session_id": "s", "pageview": 0, "t": 1, "kind": "click", "element_key": "#a",
             "state_key": "#side", "state_kind": "drawer", "state_label": "Menu"},
            {"session_id": "s", "pageview": 0, "t": 2, "kind": "click", "element_key": "#b",
             "state_key": "#dlg", "state_kind": "dialog", "state_label": "Terms"},
            {"session_id": "s", "pageview": 0, "t": 3, "kind": "click", "element_key": "#c",
             "container_key": "#list"},
            {"session_id": "s", "pageview": 0, "t": 4, "kind": "click", "element_key": "#d"}]
    base, groups = split_by_state(hits, {"#side": (0, 0, 200, 800), "#dlg": None, "#list": (0, 0, 10, 10)})
    assert [h["element_key"] for h in base] == ["#a", "#d"]
    assert [(g.kind, g.key, [h["element_key"] for h in g.hits]) for g in groups] == [
        ("container", "#list", ["#c"]), ("overlay", "#dlg", ["#b"])]
    assert isinstance(groups[1], StateGroup) and groups[1].title == "dialog 'Terms'"


def test_the_explorer_lists_the_states_with_counts_and_shows_each(rec, browser):
    from collector_helpers import TEAM, ThreadServer, team_get

    from sessionheat.web import create_app

    with ThreadServer(create_app(rec.store)) as server:
        context = browser.new_context(extra_http_headers=TEAM, viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(f"{server.url}/heatmaps?url=/states.html&kind=click&viewport=desktop")
            page.wait_for_function("() => { const i = document.querySelector('img.hm-map');"
                                   " return !!i && i.complete && i.naturalWidth > 0; }", timeout=180_000)
            states = page.locator("details.hm-state")
            assert states.count() == 6
            texts = [" ".join(t.split()) for t in states.locator("summary").all_inner_texts()]
            assert "dialog 'Cookies': 3 of 3 hits drawn, 2 sessions" in texts, texts
            assert "scrolling container 'Products': 4 of 4 hits drawn, 2 sessions" in texts, texts
            assert "menu 'Sort by': 1 of 1 hit drawn, 1 session" in texts, texts
            for k in range(6):  # open each: its photograph is there and loads
                details = states.nth(k)
                if not details.evaluate("d => d.open"):
                    details.locator("summary").click()
                img = details.locator("img.hm-state-map")
                img.scroll_into_view_if_needed()
                page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=img.element_handle())
                r = team_get(server.url + img.get_attribute("src"))
                assert r.status_code == 200 and r.headers["content-type"] == "image/png"
            # A state's element links to the sessions behind it, as the base table's do.
            menu = states.filter(has_text="Sort by")
            if not menu.evaluate("d => d.open"):
                menu.locator("summary").click()
            menu.locator("a.hm-element", has_text="Newest").click()
            page.locator("#hm-sessions").filter(has_text=rec.ids["a"]).wait_for()
            key = page.locator("img.hm-map").get_attribute("src").split("/")[3]
            data = team_get(f"{server.url}/heatmaps/maps/{key}/map.json").json()
            assert sorted(s["png"] for s in data["states"]) == [f"map-state-{n}.png" for n in range(1, 7)]
        finally:
            context.close()
        assert not errors, errors


def test_the_report_shows_each_state_beside_its_map(rec, tmp_path):
    from heatmap.report import ReportEntry, write_report

    hm = rec.build()
    hm.write(tmp_path / "clicks.png")
    page = write_report(tmp_path / "report.html", [ReportEntry("Clicks", Path("clicks.png"), hm)]).read_text()
    for panel in hm.states:
        assert f'<img src="{panel.png}"' in page and (tmp_path / panel.png).is_file()
    assert "Page state: dialog &#x27;Cookies&#x27;" in page and "3 of 3 hits drawn" in page


def test_the_cli_names_each_state_and_its_png(rec, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from click.testing import CliRunner

    from sessionheat.cli import main

    out = tmp_path / "clicks.png"
    args = ["heatmap", "--db", str(rec.store.path), "--url", rec.url, "--out", str(out), "--json",
            str(tmp_path / "clicks.json")]
    with ThreadPoolExecutor(1) as pool:  # the CLI starts its own Playwright, as in a fresh process
        result = pool.submit(CliRunner().invoke, main, args).result()
    assert result.exit_code == 0, result.output
    assert "6 placed, 0 not on this layout" in result.output  # "Open the dialog" x3, Sort, Help, Country
    assert "dialog 'Cookies': 3 placed, on " + str(tmp_path / "clicks-state-") in result.output
    data = json.loads((tmp_path / "clicks.json").read_text())
    assert all((tmp_path / s["png"]).is_file() for s in data["states"]) and len(data["states"]) == 6


def test_a_link_in_the_demo_phone_drawer_is_drawn_on_a_photograph_of_the_open_drawer(demo_server, browser, store):
    phone = (390, 844)
    url = demo_server.url_for("index.html", imgdelay=0, variant="A", banner="none", promo="0")
    with record(url, store=store, browser=browser, viewport=phone) as session:
        session.page.wait_for_load_state()
        session.page.locator("[data-demo-id=menu-open]").click()
        session.page.locator("[data-demo-id=nav-pricing]").wait_for(state="visible")
        session.page.wait_for_timeout(400)  # the drawer's slide
        session.page.locator("[data-demo-id=nav-pricing]").click(position={"x": 20, "y": 10})
        session.page.wait_for_url("**/pricing.html*")
    assert not session.errors, session.errors
    heatmap.index_sessions(store, browser=browser)
    (hit,) = [h for h in store.hits([(session.id, 0)], kinds=("click",)) if "pricing" in h["element_key"]]
    assert (hit["state_key"], hit["state_kind"], hit["state_label"]) == ("#site-nav", "drawer", "Main")
    hm = heatmap.build_heatmap(store, Segment(url="/index.html", viewport_w=phone[0]), "click", browser=browser)
    assert hm.reference.boxes.get(hit["element_key"]) is None  # the base photograph: drawer closed
    (panel,) = hm.states
    assert panel.group.title == "drawer 'Main'" and not hm.placement.not_on_layout
    (point,) = panel.placement.points
    box = panel.boxes[hit["element_key"]]
    assert inside(box, point.x, point.y) and point.x - box[0] < box[2] / 4
    rx, ry, rw, rh = panel.root
    assert rx - 1 <= box[0] and box[0] + box[2] <= rx + rw + 1  # inside the drawer, on its photograph
    assert abs(rw - 300) <= 2  # the drawer: min(300 px, 82vw)


def test_compare_draws_each_side_s_hits_on_the_state_panels_photographed_once(rec, tmp_path):
    seg = {"url": rec.url, "viewport_w": DESKTOP[0]}
    a, b, _ = heatmap.build_compare(rec.store, Segment(**seg, properties={"who": "a"}),
                                    Segment(**seg, properties={"who": "b"}), browser=rec.browser)
    keys = {side: {p.group.key: p for p in hm.states} for side, hm in (("a", a), ("b", b))}
    assert set(keys["a"]) == {"#consent", "#list", "#sort-menu"}  # a's clicks: its own states only
    assert set(keys["b"]) == {"#consent", "#list", "#tabs", "#help-tip", "#countries"}
    dialog_a, dialog_b = keys["a"]["#consent"], keys["b"]["#consent"]
    assert dialog_a.image is dialog_b.image and dialog_a.id == dialog_b.id  # one photograph
    assert [p.element_key for p in dialog_a.placement.points] == ["#accept"]
    assert sorted(p.element_key for p in dialog_b.placement.points) == ["#decline", "#later"]
    assert not a.placement.not_on_layout and not b.placement.not_on_layout
    for hm in (a, b):  # every click drawn once, on the base map or on one of its side's panels
        n = len(hm.placement.points) + sum(len(p.placement.points) for p in hm.states)
        assert n == len(rec.store.hits([(rec.ids[hm.segment.properties["who"]], 0)], kinds=("click",)))
    written = heatmap.write_compare(tmp_path / "cmp.png", a, b, _, tmp_path / "cmp.json")
    data = json.loads((tmp_path / "cmp.json").read_text())
    assert {s["png"] for s in data["a"]["states"]} == {f"cmp-a-{p.id}.png" for p in a.states}
    assert all((tmp_path / s["png"]).is_file() for side in ("a", "b") for s in data[side]["states"])
    assert written[0] == tmp_path / "cmp.png"
