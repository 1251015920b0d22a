"""A visit that looks around and leaves without signing up: home -> product tabs -> pricing.

The demo's visitors who do not convert (`converted=no`): on the home page they go to the product
page through the nav instead of the trial CTA, and at pricing they read rather than pick a plan.
Choices come from ``rng``, as in the visitor journey whose steps this reuses.
"""
from __future__ import annotations

import random

from playwright.sync_api import Page

from demo.journeys.visitor import EXTRAS, click, el, navigate, pause, product, scroll, wander


def journey(page: Page, rng: random.Random) -> None:
    extras = set(rng.sample(EXTRAS, rng.randint(1, 3)))
    if not el(page, "cta").count():
        navigate(page, rng, "nav-home", "**/index.html*")
    pause(page, rng, 100, 300)
    accept = el(page, "banner-accept")
    if accept.count() and rng.random() < 0.7:
        click(page, rng, "banner-accept")
    wander(page, rng, rng.randint(1, 2))
    scroll(page, rng, rng.randint(1, 3))
    product(page, rng, extras)
    navigate(page, rng, "nav-pricing", "**/pricing.html*")
    pause(page, rng, 100, 250)
    wander(page, rng, rng.randint(1, 2))
    click(page, rng, rng.choice(["faq-trial", "faq-switch", "faq-data"]))
    pause(page, rng, 200, 500)
