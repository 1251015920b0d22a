"""A varied, realistic visit: home -> trial CTA -> product tabs -> pricing -> sign-up.

Every choice comes from ``rng`` so a seed reproduces a visit. Clicks are real
mouse clicks at random points inside the target (heatmaps need spread, not
element centres); scrolling uses the mouse wheel. Targets are found only by
``data-demo-id`` (benchmark ground truth) or visible structure. Works from
390 px to desktop widths; below 768 px the nav is reached via the menu button.
"""
from __future__ import annotations

import random

from playwright.sync_api import Locator, Page

HEADER_PX = 72  # sticky header height plus a margin
EXTRAS = ["modal", "promo", "scroll-up", "back", "yearly", "faq", "name", "typo", "updates"]


def el(page: Page, demo_id: str) -> Locator:
    return page.locator(f'[data-demo-id="{demo_id}"]')


def pause(page: Page, rng: random.Random, lo: int, hi: int) -> None:
    page.wait_for_timeout(rng.randint(lo, hi))


def scroll(page: Page, rng: random.Random, steps: int, down: bool = True) -> None:
    """Wheel-scroll in uneven steps, like a person skimming."""
    for _ in range(steps):
        page.mouse.wheel(0, rng.randint(180, 420) * (1 if down else -1))
        pause(page, rng, 60, 140)


def wheel_to(page: Page, rng: random.Random, target: Locator, *, above: tuple[int, int] = (20, 120),
             below: tuple[int, int] = (60, 200)) -> None:
    """Bring ``target`` on screen with the wheel, leaving a random margin (px, from `above` when it
    was above the view, `below` when below); fall back to a jump."""
    if target.evaluate("e => !!e.closest('header')"):
        return  # the sticky header is always on screen
    height = (page.viewport_size or {"height": 800})["height"]
    for _ in range(12):
        box = target.bounding_box()
        if box is None:
            break
        if box["y"] < HEADER_PX:
            delta = box["y"] - HEADER_PX - rng.randint(*above)
        elif box["y"] + box["height"] > height - 20:
            delta = box["y"] + box["height"] - height + rng.randint(*below)
        else:
            return
        before = page.evaluate("scrollY")
        page.mouse.wheel(0, max(-500, min(500, delta)))
        pause(page, rng, 60, 110)
        if page.evaluate("scrollY") == before:
            break  # page edge: cannot scroll further
    target.scroll_into_view_if_needed()


def move_to(page: Page, rng: random.Random, target: Locator) -> tuple[float, float]:
    """Glide the mouse onto a random point of ``target``; return the offset used."""
    wheel_to(page, rng, target)
    box = target.bounding_box()
    if box is None:
        return 1.0, 1.0
    dx = box["width"] * rng.uniform(0.2, 0.8)
    dy = box["height"] * rng.uniform(0.25, 0.75)
    page.mouse.move(box["x"] + dx, box["y"] + dy, steps=rng.randint(3, 6))
    return dx, dy


def click(page: Page, rng: random.Random, demo_id: str) -> None:
    """Real mouse click somewhere inside the element, after a short hover."""
    target = el(page, demo_id)
    dx, dy = move_to(page, rng, target)
    pause(page, rng, 20, 90)
    target.click(position={"x": dx, "y": dy})


def wander(page: Page, rng: random.Random, count: int) -> None:
    """Hover over a few visible things (headings, images, buttons, cards)."""
    rects = page.evaluate(
        """() => Array.from(document.querySelectorAll('h1, h2, h3, p, img, .btn, .card'))
            .map(e => e.getBoundingClientRect())
            .filter(r => r.width > 8 && r.height > 8 && r.top >= 64 &&
                         r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth)
            .map(r => [r.left, r.top, r.width, r.height])""")
    for x, y, w, h in rng.sample(rects, min(count, len(rects))):
        page.mouse.move(x + w * rng.random(), y + h * rng.random(), steps=rng.randint(3, 7))
        pause(page, rng, 50, 160)


def navigate(page: Page, rng: random.Random, demo_id: str, url_glob: str) -> None:
    """Use the main nav; on narrow screens open the drawer first."""
    menu = el(page, "menu-open")
    if menu.is_visible():
        click(page, rng, "menu-open")
        el(page, demo_id).wait_for(state="visible")
        pause(page, rng, 80, 180)
    click(page, rng, demo_id)
    page.wait_for_url(url_glob)


def home(page: Page, rng: random.Random, extras: set[str]) -> None:
    accept = el(page, "banner-accept")
    pause(page, rng, 100, 300)
    if accept.count() and rng.random() < 0.7:
        click(page, rng, "banner-accept")
    wander(page, rng, rng.randint(1, 2))
    if "modal" in extras:
        click(page, rng, "modal-open")
        pause(page, rng, 300, 600)
        click(page, rng, "modal-close")
    scroll(page, rng, rng.randint(2, 4))
    wander(page, rng, 1)
    if "promo" in extras and el(page, "promo-cta").count():
        click(page, rng, "promo-cta")
        pause(page, rng, 150, 350)
    if "scroll-up" in extras:
        scroll(page, rng, rng.randint(1, 3), down=False)
    click(page, rng, "cta")
    page.wait_for_url("**/signup.html*")


def product(page: Page, rng: random.Random, extras: set[str]) -> None:
    navigate(page, rng, "nav-product", "**/product.html*")
    pause(page, rng, 100, 250)
    for tab in rng.sample(["tab-specs", "tab-reviews"], 2)[: rng.randint(1, 2)]:
        click(page, rng, tab)
        pause(page, rng, 120, 300)
    if "back" in extras:
        page.go_back()  # popstate: previous tab comes back
        pause(page, rng, 150, 300)
    scroll(page, rng, rng.randint(1, 2))


def pricing(page: Page, rng: random.Random, extras: set[str]) -> None:
    navigate(page, rng, "nav-pricing", "**/pricing.html*")
    pause(page, rng, 100, 250)
    if "yearly" in extras:
        click(page, rng, "billing-yearly")
        pause(page, rng, 100, 250)
    wander(page, rng, rng.randint(0, 1))
    if "faq" in extras:
        click(page, rng, rng.choice(["faq-trial", "faq-switch", "faq-data"]))
        pause(page, rng, 200, 500)
    click(page, rng, rng.choice(["plan-starter", "plan-pro", "plan-pro", "plan-enterprise"]))
    page.wait_for_url("**/signup.html?plan=*")


def signup(page: Page, rng: random.Random, extras: set[str]) -> None:
    name = rng.choice(["Ada", "Bo", "Chen", "Dara", "Emil", "Farah"])
    email = f"{name.lower()}.{rng.randint(10, 999)}@example.com"
    password = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(12))
    pause(page, rng, 100, 250)
    if "name" in extras:
        click(page, rng, "signup-name")
        el(page, "signup-name").fill(f"{name} Example")
    click(page, rng, "signup-email")
    el(page, "signup-email").press_sequentially(email, delay=rng.randint(5, 12))
    click(page, rng, "signup-password")
    if "typo" in extras:  # too short first: the form shows an error
        el(page, "signup-password").fill(password[:5])
        click(page, rng, "signup-submit")
        pause(page, rng, 250, 450)
        click(page, rng, "signup-password")
    el(page, "signup-password").fill(password)
    if "updates" in extras:
        click(page, rng, "signup-updates")
    click(page, rng, "signup-submit")
    page.get_by_role("heading", name="Thanks for signing up!").wait_for()
    pause(page, rng, 50, 150)


def journey(page: Page, rng: random.Random) -> None:
    # A few optional detours per visit: varied, yet ~4-8 s of wall time.
    extras = set(rng.sample(EXTRAS, rng.randint(1, 3)))
    if not el(page, "cta").count():
        navigate(page, rng, "nav-home", "**/index.html*")
    home(page, rng, extras)
    pause(page, rng, 50, 200)
    product(page, rng, extras)
    pricing(page, rng, extras)
    signup(page, rng, extras)
