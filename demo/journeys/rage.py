"""A frustrated visit: rapid clicks on something that is not a control, then leave.

Produces a rage/dead-click cluster on the hero heading or the hero image
(neither reacts to clicks), for rage-click detection and heatmap tests.
"""
from __future__ import annotations

import random

from playwright.sync_api import Page

from demo.journeys.visitor import el, wheel_to

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
    wheel_to(page, rng, target, above=(20, 80), below=(40, 120))
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
