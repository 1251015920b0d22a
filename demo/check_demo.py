"""Smoke check of the demo site: ``python -m demo.check_demo [--shots DIR]``.

Runs every journey at three viewports and both variants in Debian's Chromium
and fails on any exception, console error or failed request, because
benchmarks built on these journeys must not be measuring a broken site.
Also checks layout variation, profile persistence, tabs, the server and
mutations.html. Not a pytest test: it needs a real browser and takes ~1 min.
"""
from __future__ import annotations

import argparse
import random
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

from playwright.sync_api import Browser, Page, sync_playwright

if not __package__:  # run as a script: make the repo root importable
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo import DemoServer, journey_names, load_journey, serve_demo

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORTS = [(1280, 800), (820, 1180), (390, 844)]
RECORDER_STUB = "window.sessionheat = {set(t) { (window.__tags = window.__tags || []).push(t); }};"
# Ground truth of what each real click hit, kept across page loads of the tab.
CLICK_LOG = """addEventListener('click', e => {
  const t = e.target.closest('[data-demo-id]');
  sessionStorage.__clicks = (sessionStorage.__clicks || '') + (t ? t.dataset.demoId : '-') + ' ';
}, true);"""

failures: list[str] = []
passed = 0


def check(ok: bool, what: str) -> None:
    global passed
    if ok:
        passed += 1
    else:
        failures.append(what)
        print("FAIL", what)


def open_page(browser: Browser, size: tuple[int, int], errors: list[str], stub: bool = False) -> Page:
    """New visitor (fresh context) whose console errors and bad requests land in ``errors``."""
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    if stub:
        ctx.add_init_script(RECORDER_STUB)
    ctx.add_init_script(CLICK_LOG)
    page = ctx.new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"HTTP {r.status} {r.url}"))
    return page


def box(page: Page, demo_id: str) -> dict[str, float]:
    return page.locator(f'[data-demo-id="{demo_id}"]').bounding_box() or {}


def check_server(server: DemoServer) -> None:
    def get(path: str) -> tuple[int, Any, float]:
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(server.url + path) as r:
                r.read()
                return r.status, r.headers, time.perf_counter() - t0
        except urllib.error.HTTPError as e:
            return e.code, e.headers, time.perf_counter() - t0
    for path, ctype in [("", "text/html"), ("site.css", "text/css"), ("site.js", "text/javascript"),
                        ("img/hero.svg", "image/svg+xml"), ("favicon.ico", "image/svg+xml")]:
        status, headers, _ = get(path)
        check(status == 200 and headers["Content-Type"].startswith(ctype)
              and headers["Cache-Control"] == "no-store", f"serve {path!r}")
    check(get("img/")[0] == 404, "no directory listing")
    check(get("img/hero.svg?delay=300")[2] >= 0.3, "image ?delay works")


def check_layout(browser: Browser, server: DemoServer, shots: Path) -> None:
    for width, height in [(1280, 800), (390, 844)]:
        tops = {}
        for variant in "AB":
            errors: list[str] = []
            page = open_page(browser, (width, height), errors, stub=True)
            page.goto(server.url_for(variant=variant, banner="medium", promo=1, imgdelay=0))
            page.wait_for_timeout(700)  # lazy images in
            tags = page.evaluate("window.__tags")
            check(tags == [{"variant": variant, "banner": "medium", "promo": "1"}], f"sessionheat.set {tags}")
            cta, features = box(page, "cta"), page.locator("#features").bounding_box() or {}
            below = cta["y"] > features["y"] + features["height"]
            check(below == (variant == "B"), f"CTA position variant {variant} at {width}")
            tops[variant] = cta["y"]
            check(page.locator('[data-demo-id="menu-open"]').is_visible() == (width < 768), f"menu at {width}")
            page.screenshot(path=str(shots / f"home-{variant}-{width}.png"), full_page=True)
            check(not errors, f"layout {variant}@{width}: {errors}")
            page.context.close()
        print(f"  CTA top at {width}px: A={tops['A']:.0f} B={tops['B']:.0f}")


def check_profile_and_tabs(browser: Browser, server: DemoServer) -> None:
    errors: list[str] = []
    page = open_page(browser, (1280, 800), errors)
    page.goto(server.url_for(variant="B", banner="tall", promo=0, imgdelay=100))
    first = page.evaluate("window.demoProfile")
    page.goto(server.url_for("pricing.html"))
    check(page.evaluate("window.demoProfile") == first, "profile persists across pages")
    page.locator('[data-demo-id="banner-accept"]').click()
    page.goto(server.url_for("index.html"))
    check(page.locator('[data-demo-id="banner-accept"]').count() == 0, "banner stays accepted")
    page.goto(server.url_for("index.html", variant="A", promo=1))
    p = page.evaluate("window.demoProfile")
    check((p["variant"], p["promo"], p["banner"]) == ("A", "1", "tall"), f"later query overrides {p}")
    page.goto(server.url_for("product.html", tab="specs"))
    check(page.locator("#panel-specs").is_visible(), "?tab=specs opens specs")
    page.locator('[data-demo-id="tab-reviews"]').click()
    check(page.url.endswith("product.html?tab=reviews"), "tab pushState")
    page.go_back()
    check(page.locator("#panel-specs").is_visible(), "popstate restores tab")
    check(not errors, f"profile/tabs: {errors}")
    page.context.close()


def run_journeys(browser: Browser, server: DemoServer) -> None:
    seed = 0
    for name in journey_names():
        journey: Callable[..., None] = load_journey(name)
        for size in VIEWPORTS:
            for variant in "AB":
                seed += 1
                rng = random.Random(seed)
                errors: list[str] = []
                page = open_page(browser, size, errors, stub=seed % 2 == 0)
                page.goto(server.url_for(variant=variant, banner=rng.choice(["none", "short", "medium", "tall"]),
                                         promo=rng.choice("01"), imgdelay=rng.choice([0, 300, 800, 1500])))
                t0 = time.perf_counter()
                try:
                    journey(page, rng)
                except Exception as e:  # report and go on with the others
                    errors.append(f"exception: {type(e).__name__}: {str(e).splitlines()[0]}")
                took = time.perf_counter() - t0
                label = f"{name} {size[0]}x{size[1]} {variant} seed={seed}"
                clicks = page.evaluate("sessionStorage.__clicks || ''").split()
                print(f"  {label}: {took:.1f}s, clicks: {' '.join(clicks)}")
                check(not errors, f"{label}: {errors}")
                if name == "visitor":
                    check("cta" in clicks and clicks[-1] == "signup-submit", f"{label}: clicks {clicks}")
                if name == "rage":
                    check(len([c for c in clicks if c.startswith("hero-")]) >= 3, f"{label}: clicks {clicks}")
                page.context.close()


def run_mutations(browser: Browser, server: DemoServer) -> None:
    errors: list[str] = []
    page = open_page(browser, (1280, 800), errors)
    page.goto(server.url_for("mutations.html", rounds=60, nodes=400))
    page.wait_for_timeout(300)
    check(page.evaluate("window.mutationResult") is None, "mutations.html waits for startMutations()")
    page.evaluate("window.startMutations()")
    result = page.evaluate("window.mutationResult")
    print(f"  mutationResult = {result}")
    check(bool(result) and result["rounds"] == 60 and result["nodes"] == 400, "mutationResult")
    check(page.locator("#mut-list li").count() == 400, "list has 400 nodes")
    check(not errors, f"mutations: {errors}")
    page.context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shots", type=Path, default=Path("/tmp/demo-shots"), help="screenshot folder")
    args = parser.parse_args()
    args.shots.mkdir(parents=True, exist_ok=True)
    with serve_demo() as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        print(f"demo at {server.url}")
        check_server(server)
        check_layout(browser, server, args.shots)
        check_profile_and_tabs(browser, server)
        run_journeys(browser, server)
        run_mutations(browser, server)
        browser.close()
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
