"""Element keys are the same for the same element across layouts, and unique within each."""

from __future__ import annotations

import itertools

import pytest

from heatmap.keys import element_key_js
from heatmap.reference import locate_keys_js

PAGES = ["index.html", "pricing.html", "product.html?tab=specs", "signup.html"]
LAYOUTS = [  # (viewport, query): variants, banners, promo and breakpoints that move things around
    ((1280, 800), "variant=A&banner=none&promo=0"),
    ((1280, 800), "variant=B&banner=tall&promo=1"),
    ((820, 1180), "variant=B&banner=short&promo=1"),
    ((390, 844), "variant=A&banner=medium&promo=0"),
]

KEYS_OF_TARGETS = """(js) => {
  const keyOf = eval(js);
  return Object.fromEntries([...document.querySelectorAll('[data-demo-id]')].map((el) => {
    const k = keyOf(el);
    const matches = [...document.querySelectorAll(k.key)];
    const target = el.closest('a[href],button,input,select,textarea,label,summary,[role=button],[role=tab]') || el;
    return [el.dataset.demoId, {...k, unique: matches.length === 1 && matches[0] === target}];
  }));
}"""


@pytest.fixture(scope="module")
def keys_by_layout(browser, demo_server):
    """{page: {layout: {demo-id: key info}}}, measured on the live demo site."""
    found: dict[str, dict[int, dict]] = {}
    for page_name, (i, (viewport, query)) in itertools.product(PAGES, enumerate(LAYOUTS)):
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        page = context.new_page()
        sep = "&" if "?" in page_name else "?"
        page.goto(f"{demo_server.url}{page_name}{sep}{query}")
        page.wait_for_timeout(150)
        found.setdefault(page_name, {})[i] = page.evaluate(KEYS_OF_TARGETS, element_key_js())
        context.close()
    return found


@pytest.mark.parametrize("page_name", PAGES)
def test_keys_are_stable_across_layouts_and_unique(keys_by_layout, page_name):
    layouts = keys_by_layout[page_name]
    assert len(layouts) == len(LAYOUTS) and all(len(targets) >= 3 for targets in layouts.values()), (
        f"{page_name}: the demo lost its [data-demo-id] targets, so nothing would be checked")
    for demo_id in layouts[0]:
        keys = {layouts[i][demo_id]["key"] for i in layouts if demo_id in layouts[i]}
        assert len(keys) == 1, f"{page_name} {demo_id}: {keys}"
        for i in layouts:
            info = layouts[i].get(demo_id)
            if info:
                assert info["unique"], f"{page_name} {demo_id} in layout {i}: {info['key']} is not unique"
                assert "demo" not in info["key"], "keys must not rely on the demo's test attributes"


def test_distinct_targets_get_distinct_keys(keys_by_layout):
    assert set(keys_by_layout) == set(PAGES)
    for page_name, layouts in keys_by_layout.items():
        keys = [info["key"] for info in layouts[1].values()]
        ids = list(layouts[1])
        assert len(keys) >= 3, f"{page_name}: no [data-demo-id] targets to compare"
        assert len(set(keys)) == len(keys), f"{page_name}: every target is its own element: {dict(zip(ids, keys))}"


KEY_OF = "([js, sel]) => eval(js)(document.querySelector(sel))"


def test_generated_ids_and_state_classes_are_ignored(browser, asset_server):
    page = browser.new_page()
    page.set_content("""
      <main id="app">
        <div id="ember1234" class="card css-1x9zq7 :hover is-active">
          <span id="react-select-5-input">x</span><p class="note">first</p></div>
        <div id="ember5678" class="card"><p class="note">second</p></div>
        <button aria-label="Close dialog"><svg><path d="M0 0"/></svg></button>
        <a href="http://127.0.0.1:9/pricing.html?x=1">Pricing</a>
      </main>""")
    js = element_key_js()
    first = page.evaluate(KEY_OF, [js, "#ember1234 .note"])
    assert first["key"] == "#app > :nth-child(1 of div.card) > p.note" and first["label"] == "first"
    second = page.evaluate(KEY_OF, [js, "#ember5678 .note"])
    assert second["key"] == "#app > :nth-child(2 of div.card) > p.note"
    icon = page.evaluate(KEY_OF, [js, "svg path"])  # a click on the icon counts for its button
    assert icon["key"] == 'button[aria-label="Close dialog"]' and icon["label"] == "Close dialog"
    assert icon["tag"] == "button" and icon["interactive"]
    assert icon["box"] == page.evaluate("() => { const r = document.querySelector('button')"
                                        ".getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }")
    link = page.evaluate(KEY_OF, [js, "a"])
    assert link["key"] == 'a[href$="pricing.html?x=1"]' and link["label"] == "Pricing"
    page.close()


def test_keys_say_their_keyed_ancestor_and_the_ids_they_rely_on(browser):
    page = browser.new_page()
    page.set_content("""
      <main id="app">
        <div class="card" data-testid="card-1"><button aria-label="Remove">x</button>
          <p><button class="buy">Buy</button></p></div>
      </main>""")
    js = element_key_js()
    buy = page.evaluate(KEY_OF, [js, ".buy"])
    assert buy["key"] == 'div[data-testid="card-1"] > p > button.buy'
    assert buy["scope"] == 'div[data-testid="card-1"]'  # where the key path starts from
    remove = page.evaluate(KEY_OF, [js, "[aria-label=Remove]"])
    assert remove["key"] == 'button[aria-label="Remove"]' and remove["scope"] == 'div[data-testid="card-1"]'
    card = page.evaluate(KEY_OF, [js, ".card"])
    assert card["key"] == 'div[data-testid="card-1"]' and card["scope"] == "#app"
    # [id, place (said without ids), the anchor the key begins with, what stands for it without the id]
    assert card["ids"] == [["app", "body > main", "#app", "body > main"]]
    assert card["plain"] == {"key": 'div[data-testid="card-1"]', "scope": None}
    assert buy["ids"] == [] and buy["plain"]["key"] == buy["key"]
    page.set_content("""<main id="app"><div class="card" id="c7Xy="><button>Go</button></div></main>""")
    go = page.evaluate(KEY_OF, [js, "button"])
    assert go["key"] == "#c7Xy\\= > button" and go["scope"] == "#c7Xy\\="
    assert go["ids"] == [["c7Xy=", "body > main > div.card", "#c7Xy\\=", "#app > div.card"],
                         ["app", "body > main", "#app", "body > main"]]  # relied on by what stands in
    assert go["plain"] == {"key": "body > main > div.card > button", "scope": None}
    page.close()


LOCATE = "([js, wanted]) => eval(js)(document, wanted).boxes.map((b) => b && b[1])"


def test_a_stand_in_is_only_taken_inside_the_keyed_ancestor_the_hit_was_recorded_in(browser):
    """locate_keys on a live page: each card's top is 100 * its number, so a box's y says which."""
    page = browser.new_page()
    page.set_content("""<style>body { margin: 0 } .card { position: absolute; left: 0; height: 80px }
        button { display: block }</style>
      <main>
        <div class="card" data-testid="card-1" style="top: 100px"><button aria-label="Remove">x</button>
          <button class="more">Details</button><button class="buy">Buy</button></div>
        <div class="card" data-testid="card-2" style="top: 200px"><div class="wrap">
          <button class="buy">Buy</button></div></div>
      </main>""")
    card = 'div[data-testid="card-{}"]'.format

    def want(key, scope, label, tag="button"):
        return {"key": key, "tag": tag, "label": label, "scope": scope}
    boxes_y = page.evaluate(LOCATE, [locate_keys_js(), [
        want(card(2) + " > button.buy", card(2), "Buy"),  # moved into .wrap: stood in for inside card 2
        want(card(3) + " > button.more", card(3), "Details"),  # card 3 absent: not card 1's "Details"
        want('button[aria-label="Remove"]', card(2), ""),  # recorded in card 2: card 1's is a stranger
        want('button[aria-label="Remove"]', card(1), ""),
        want("button.buy", card(2), "Buy"),  # two match: the one inside card 2
        want("body > main > div.card > button.more", "", "Details"),  # nothing keyed above: the page
    ]])
    assert [y if y is None else int(y // 100) for y in boxes_y] == [2, None, None, 1, 2, 1]
    page.close()
