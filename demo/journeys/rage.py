"""A frustrated visit: rapid clicks on something that is not a control, then leave.

Produces a rage/dead-click cluster on the hero heading or the hero image
(neither reacts to clicks), for rage-click detection and heatmap tests.
"""
from __future__ import annotations

import random

from playwright.sync_api import Locator, Page

HEADER_PX = 72


def el(page: Page, demo_id: str) -> Locator:
    return page.locator(f'[data-demo-id="{demo_id}"]')


def wheel_to(page: Page, rng: random.Random, target: Locator) -> None:
    """Bring ``target`` fully on screen with the mouse wheel."""
    if target.evaluate("e => !!e.closest('header')"):
        return  # the sticky header is always on screen
    height = (page.viewport_size or {"height": 800})["height"]
    for _ in range(12):
        box = target.bounding_box()
        if box is None:
            break
        if box["y"] < HEADER_PX:
            delta = box["y"] - HEADER_PX - rng.randint(20, 80)
        elif box["y"] + box["height"] > height - 20:
            delta = box["y"] + box["height"] - height + rng.randint(40, 120)
        else:
            return
        before = page.evaluate("scrollY")
        page.mouse.wheel(0, max(-500, min(500, delta)))
        page.wait_for_timeout(rng.randint(60, 110))
        if page.evaluate("scrollY") == before:
            break  # page edge: cannot scroll further
    target.scroll_into_view_if_needed()


def journey(page: Page, rng: random.Random) -> None:
    if not el(page, "hero-title").count():
        el(page, "logo").click()
        page.wait_for_url("**/index.html*")
    page.wait_for_timeout(rng.randint(300, 700))
    accept = el(page, "banner-accept")
    if accept.count() and rng.random() < 0.5:
        accept.click()
        page.wait_for_timeout(rng.randint(150, 300))

    target_id = rng.choice(["hero-title", "hero-image"])
    target = el(page, target_id)
    if target_id == "hero-image":  # lazy: wait until it has a real size
        target.evaluate("img => img.naturalWidth > 0 || new Promise(r => {"
                        " img.addEventListener('load', r, {once: true}); setTimeout(r, 8000); })")
    wheel_to(page, rng, target)
    box = target.bounding_box()
    assert box is not None, f"{target_id} has no box"
    x = box["x"] + box["width"] * rng.uniform(0.3, 0.7)
    y = box["y"] + box["height"] * rng.uniform(0.3, 0.7)
    page.mouse.move(x, y, steps=rng.randint(8, 16))
    page.wait_for_timeout(rng.randint(150, 400))
    for _ in range(rng.randint(3, 6)):
        page.mouse.click(x + rng.uniform(-6, 6), y + rng.uniform(-6, 6), delay=rng.randint(20, 50))
        page.wait_for_timeout(rng.randint(50, 140))
    page.wait_for_timeout(rng.randint(400, 900))
    page.mouse.move(x, 2, steps=rng.randint(6, 12))  # heads for the tab bar: leaves
