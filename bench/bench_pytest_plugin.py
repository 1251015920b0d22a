"""`pytest --sessionheat`: the wall time of a browser test suite recorded against not recorded.

A suite of 24 pytest-playwright tests against the demo site (navigation, clicks, a dialog, a form,
scrolling) runs in pytest processes of its own, with and without `--sessionheat`, interleaved in the
same run so machine noise hits both alike. Each run's wall time includes pytest's and Chromium's
start-up, as a CI job's does.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import entry_points
from pathlib import Path

from plumbing.browser import CHROMIUM_ARGS, chromium_executable

from bench import Figure
from demo import serve_demo

ROOT = Path(__file__).resolve().parent.parent

CONFTEST = '''
import pytest

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {{**browser_type_launch_args, "executable_path": {executable!r}, "args": {args!r}}}
'''

SUITE = '''
import pytest

PAGES = ["index.html", "product.html", "pricing.html", "signup.html"]
PINNED = "banner=none&promo=0&imgdelay=0"  # the demo draws a visitor's layout at random otherwise


@pytest.mark.parametrize("page_name", PAGES)
def test_page_has_its_nav(page, page_name):
    page.goto(f"/{page_name}?{PINNED}")
    assert page.locator("[data-demo-id=nav-home]").count() == 1


@pytest.mark.parametrize("target", ["nav-product", "nav-pricing", "nav-signup", "hero-product"])
def test_links_lead_somewhere(page, target):
    page.goto(f"/index.html?{PINNED}")
    page.click(f"[data-demo-id={target}]")
    page.wait_for_load_state("load")
    assert not page.url.endswith("/index.html")


@pytest.mark.parametrize("variant", ["A", "B"])
def test_cta_starts_a_trial(page, variant):
    page.goto(f"/index.html?variant={variant}&{PINNED}")
    page.click("[data-demo-id=cta]")
    page.wait_for_url("**/signup.html*")


@pytest.mark.parametrize("round", range(6))
def test_demo_dialog_opens_and_closes(page, round):
    page.goto(f"/index.html?{PINNED}")
    page.click("[data-demo-id=modal-open]")
    assert page.locator("#demo-modal").evaluate("d => d.open")
    page.click("[data-demo-id=modal-close]")


@pytest.mark.parametrize("name", ["Ada", "Grace", "Linus", "Barbara"])
def test_signup_form_takes_a_name(page, name):
    page.goto(f"/signup.html?{PINNED}")
    field = page.locator("[data-demo-id=signup-name]")
    field.fill(name)
    assert field.input_value() == name


@pytest.mark.parametrize("steps", [2, 4, 6, 8])
def test_scrolling_down_the_home_page(page, steps):
    page.goto(f"/index.html?{PINNED}")
    for _ in range(steps):
        page.mouse.wheel(0, 400)
        page.wait_for_timeout(50)
    assert page.evaluate("window.scrollY") > 0
'''
N_TESTS = 24
PLUGIN_MODULE = "sessionheat.pytest_plugin"


def _suite(folder: Path) -> None:
    (folder / "conftest.py").write_text(CONFTEST.format(executable=chromium_executable(),
                                                        args=list(CHROMIUM_ARGS)))
    (folder / "test_site.py").write_text(SUITE)


def _plugin_args() -> list[str]:
    """`-p` the plugin only where its `pytest11` entry point does not load it already (an
    installed copy): loading it twice is an error."""
    installed = any(ep.value == PLUGIN_MODULE for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", PLUGIN_MODULE]


def _run(folder: Path, base_url: str, *extra: str) -> float:
    """Seconds one pytest run of the suite took; it must pass."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_plugin_args(),
            "--base-url", base_url, *extra]
    start = time.perf_counter()
    done = subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    took = time.perf_counter() - start
    if done.returncode != 0 or f"{N_TESTS} passed" not in done.stdout:
        raise RuntimeError(f"the bench suite did not pass:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return took


def run(quick: bool = False) -> list[Figure]:
    """Runs in pairs, one without and one with (alternating which goes first); the figure is the
    median of the pairs' ratios, so a load that drifts over the minutes hits both sides of a pair."""
    rounds = 1 if quick else 9  # single pairs range from 1.01x to 1.19x (0.96x to 1.40x once): 5 pairs' median moved by +-0.08
    off: list[float] = []
    on: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, serve_demo() as server:
        folder = Path(tmp)
        _suite(folder)
        _run(folder, server.url)  # warm the disk cache and Python's bytecode first
        for n in range(rounds):
            recorded = ("--sessionheat", "--sessionheat-db", str(folder / f"run{n}.db"))
            if n % 2:
                on.append(_run(folder, server.url, *recorded))
                off.append(_run(folder, server.url))
            else:
                off.append(_run(folder, server.url))
                on.append(_run(folder, server.url, *recorded))
    ratios = [b / a for a, b in zip(off, on)]
    note = f"median of {rounds}, {N_TESTS} tests, one process"
    return [
        Figure("pytest plugin", "suite wall time, without --sessionheat", statistics.median(off), "s", note=note),
        Figure("pytest plugin", "suite wall time, with --sessionheat", statistics.median(on), "s", note=note),
        Figure("pytest plugin", "with / without", statistics.median(ratios), "x", "<= 1.15",
               note=f"median of {rounds} pairs: {', '.join(f'{r:.2f}' for r in ratios)}"),
    ]
