"""An offline player's assets inlined: what pages loaded becomes data: URLs, links and page text stay."""

from __future__ import annotations

import base64
import copy

from conftest import AssetServer

from replay.host import AssetCache, NetworkGuard
from replay.inline_assets import inline_assets, loaded_urls

PICTURE = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


def element(node_id: int, tag: str, attributes: dict, children: list | None = None) -> dict:
    return {"type": 2, "id": node_id, "tagName": tag, "attributes": attributes, "childNodes": children or []}


def site_events(origin: str) -> list[dict]:
    head = element(3, "head", {}, [
        element(10, "link", {"rel": "stylesheet", "href": f"{origin}/sheet.css"}),  # rrweb could not read it
        element(11, "style", {}, [{"type": 3, "id": 12, "isStyle": True,
                                   "textContent": f"body {{ background: url({origin}/pic.svg) }}"}]),
    ])
    body = element(4, "body", {}, [
        element(20, "img", {"src": f"{origin}/pic.svg", "srcset": f"{origin}/pic.svg 1x, {origin}/pic.svg 2x"}),
        element(21, "a", {"href": f"{origin}/pic.svg"}, [{"type": 3, "id": 22,
                                                          "textContent": f"url({origin}/pic.svg)"}]),
        element(23, "img", {"src": f"{origin}/missing.svg"}),
        element(24, "img", {"src": "http://elsewhere.invalid/pic.svg"}),
        element(25, "img", {"class": "lazy"}),
    ])
    doc = {"type": 0, "id": 1, "childNodes": [element(2, "html", {}, [head, body])]}
    return [
        {"type": 4, "timestamp": 1, "data": {"href": f"{origin}/page.html", "width": 800, "height": 600}},
        {"type": 2, "timestamp": 2, "data": {"node": doc, "initialOffset": {"left": 0, "top": 0}}},
        {"type": 3, "timestamp": 3, "data": {"source": 0, "texts": [], "removes": [], "adds": [],
                                             "attributes": [{"id": 25, "attributes": {"src": f"{origin}/pic.svg"}},
                                                            {"id": 21, "attributes": {"href": f"{origin}/x"}}]}},
    ]


def nodes(events: list[dict]) -> dict[int, dict]:
    found, stack = {}, [events[1]["data"]["node"]]
    while stack:
        node = stack.pop()
        found[node["id"]] = node
        stack.extend(node.get("childNodes", []))
    return found


def test_what_pages_load_is_inlined_and_nothing_else(tmp_path):
    (tmp_path / "pic.svg").write_bytes(PICTURE)
    (tmp_path / "sheet.css").write_text(".hero { background-image: url('pic.svg') }")
    server = AssetServer(tmp_path)
    try:
        events = site_events(server.origin)
        before = copy.deepcopy(events)
        guard = NetworkGuard(frozenset({server.origin}), cache=AssetCache(directory=tmp_path / "cache"),
                             vouched_origins=frozenset({server.origin}), site=server.origin)
        inlined, left = inline_assets(events, guard)
    finally:
        server.close()
    assert events == before  # the events given are not changed
    picture = "data:image/svg+xml;base64," + base64.b64encode(PICTURE).decode()
    after = nodes(inlined)
    assert after[20]["attributes"] == {"src": picture, "srcset": f"{picture} 1x, {picture} 2x"}
    assert f'url("{picture}")' in after[12]["textContent"]
    sheet = after[10]["attributes"]["href"]
    assert sheet.startswith("data:text/css")
    assert f'url("{picture}")' in base64.b64decode(sheet.split(",", 1)[1]).decode()  # its relative url()
    # A link stays a link, page text stays text, what could not be had keeps its address.
    assert after[21]["attributes"]["href"] == f"{server.origin}/pic.svg"
    assert after[22]["textContent"] == f"url({server.origin}/pic.svg)"
    assert after[23]["attributes"]["src"] == f"{server.origin}/missing.svg"
    assert after[24]["attributes"]["src"] == "http://elsewhere.invalid/pic.svg"
    assert left == 2  # missing.svg (404), elsewhere.invalid (never recorded)
    assert guard.blocked["http://elsewhere.invalid"] == 1
    # A late src (a lazy image) is inlined in its mutation; a link's new href is not.
    changes = inlined[2]["data"]["attributes"]
    assert changes == [{"id": 25, "attributes": {"src": picture}}, {"id": 21, "attributes": {"href": f"{server.origin}/x"}}]


def test_an_asset_seen_before_comes_from_the_store_cache_with_the_site_gone(tmp_path):
    (tmp_path / "pic.svg").write_bytes(PICTURE)
    server = AssetServer(tmp_path)
    cache = tmp_path / "cache"
    origin = server.origin
    try:
        events = site_events(origin)
        first = NetworkGuard(frozenset({origin}), cache=AssetCache(directory=cache),
                             vouched_origins=frozenset({origin}), site=origin)
        inline_assets(events, first)
    finally:
        server.close()
    later = NetworkGuard(frozenset({origin}), cache=AssetCache(directory=cache),
                         vouched_origins=frozenset({origin}), site=origin)
    inlined, _ = inline_assets(events, later)
    assert nodes(inlined)[20]["attributes"]["src"].startswith("data:image/svg+xml;base64,")


def test_loaded_urls_lists_what_loads_once_in_order():
    urls = loaded_urls(site_events("http://s.example"))
    assert urls == ["http://s.example/sheet.css", "http://s.example/pic.svg", "http://s.example/missing.svg",
                    "http://elsewhere.invalid/pic.svg"]
