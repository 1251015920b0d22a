"""A sample pytest-playwright suite against the demo site, run by pytester the way a user runs
theirs: in a process of its own, with pytest-playwright, pytest-xdist and pytest-rerunfailures."""

from __future__ import annotations

import subprocess
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from plumbing.browser import CHROMIUM_ARGS, chromium_executable

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_MODULE = "sessionheat.pytest_plugin"

# The suite's own conftest points pytest-playwright at the Chromium the product launches (no
# browser can be downloaded here): a user's suite does the same with `--browser-channel` or this.
CONFTEST = '''
import pytest

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {{**browser_type_launch_args, "executable_path": {executable!r}, "args": {args!r}}}
'''

SAMPLE_TESTS = '''
import json
from pathlib import Path

import pytest

PINNED = "?banner=none&promo=0&imgdelay=0"  # the demo draws a visitor's layout at random otherwise

def test_passes(page):
    page.goto("/index.html" + PINNED)
    page.click("[data-demo-id=nav-pricing]")
    page.wait_for_url("**/pricing.html")
    assert page.url.endswith("/pricing.html")

def test_fails(page):
    page.goto("/index.html" + PINNED)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # the lazy images load
    page.wait_for_function("[...document.images].every((i) => i.complete && i.naturalWidth > 0)")
    shown = page.evaluate("[...document.images].map((i) => i.currentSrc)")
    Path("live-images.json").write_text(json.dumps(shown))  # what the replay must show too
    assert page.title() == "A title this page does not have"

@pytest.mark.flaky(reruns=1)
def test_flaky(page):
    page.goto("/pricing.html" + PINNED)
    first_run = Path({marker!r})
    if not first_run.exists():
        first_run.write_text("ran once")
        assert False, "fails the first time only"

def test_without_a_browser():
    assert 1 + 1 == 2
'''

IMPORT_PROBE = '''
import sys

def test_nothing_of_sessionheat_is_loaded_but_the_plugin():
    ours = sorted(m for m in sys.modules
                  if m.split(".")[0] in ("plumbing", "recorder", "replay", "heatmap", "sessionheat"))
    assert ours == ["sessionheat", "sessionheat.pytest_plugin"], ours
'''


def plugin_args() -> list[str]:
    """Load the plugin by its entry point when the installed sessionheat declares it, else by name."""
    installed = any(ep.value == PLUGIN_MODULE for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", PLUGIN_MODULE]


def write_sample_suite(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.format(executable=chromium_executable(), args=list(CHROMIUM_ARGS)))
    pytester.makepyfile(test_sample=SAMPLE_TESTS.format(marker=str(pytester.path / "flaky-ran-once")))
    git = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=CI"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "sample suite"]):
        subprocess.run([*git, *args], cwd=pytester.path, check=True, capture_output=True)


def run_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, base_url: str,
              *args: str) -> Any:
    """Run the sample suite in a process of its own, with this checkout's sessionheat."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    return pytester.runpytest_subprocess(*plugin_args(), "--base-url", base_url, "-p", "no:cacheprovider",
                                         *args, timeout=240)


def git_head(folder: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, check=True, capture_output=True,
                          text=True).stdout.strip()

