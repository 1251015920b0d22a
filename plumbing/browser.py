"""The one place that decides which Chromium runs and with which flags.

Every part of the product (recorder, replay, tests, benchmarks) launches through here, so a flag
learned the hard way is learned once.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Playwright is heavy; `sessionheat --help` must not import it.
    from playwright.sync_api import Browser, Playwright

ENV_CHROMIUM = "SESSIONHEAT_CHROMIUM"
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
# Debian's `chromium-headless-shell`: the same Blink without the desktop browser around it (no
# autofill, password manager or extensions), which Playwright also prefers for headless work.
# Replaying and indexing run about a third faster in it (see bench/), with the same layout.
SYSTEM_HEADLESS_SHELL = Path("/usr/bin/chromium-headless-shell")
OTHER_CHROMIUMS: tuple[Path, ...] = (Path("/usr/bin/chromium-browser"),)  # older Debian and Ubuntu names

CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",  # we run as root in containers
    "--disable-gpu",  # no GPU here, and software rendering keeps screenshots deterministic
    "--disable-dev-shm-usage",  # /dev/shm is tiny in containers
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def chromium_executable(*, headless: bool = True) -> str | None:
    """Path of the Chromium to launch, or None to use Playwright's own downloaded browser.

    `SESSIONHEAT_CHROMIUM` wins; then, headless, Debian's `chromium-headless-shell`; then Debian's
    `/usr/bin/chromium` (no internet here, so Playwright cannot download its own); elsewhere,
    Playwright's browser if one is installed (it picks its own headless shell when headless).
    """
    override = os.environ.get(ENV_CHROMIUM)
    if override:
        path = shutil.which(override) or override
        if not Path(path).is_file():
            raise FileNotFoundError(f"{ENV_CHROMIUM}={override!r} is not an executable file")
        return path
    candidates = [SYSTEM_CHROMIUM, *OTHER_CHROMIUMS]
    if headless:
        candidates.insert(0, SYSTEM_HEADLESS_SHELL)
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    return None


def host_resolver_rule(allowed_hosts: Iterable[str]) -> str:
    """A `--host-resolver-rules` value that makes every host but `allowed_hosts` unresolvable.

    Used by replays, which must not reach hosts the session never recorded.
    """
    excludes = "".join(f" , EXCLUDE {h}" for h in sorted({"127.0.0.1", "localhost", *allowed_hosts}))
    return f"--host-resolver-rules=MAP * ~NOTFOUND{excludes}"


def launch_chromium(
    playwright: "Playwright",
    *,
    headless: bool = True,
    extra_args: Iterable[str] = (),
) -> "Browser":
    """Launch Chromium with our flags through an already started Playwright."""
    executable = chromium_executable(headless=headless)
    try:
        return playwright.chromium.launch(
            headless=headless,
            executable_path=executable,
            args=[*CHROMIUM_ARGS, *extra_args],
        )
    except Exception as exc:  # Playwright raises its own Error type; say what to do about it.
        if executable is None:
            raise RuntimeError(
                "no Chromium found: install Debian's `chromium`, set "
                f"{ENV_CHROMIUM}=/path/to/chrome, or run `playwright install chromium`"
            ) from exc
        raise


@contextmanager
def chromium(*, headless: bool = True, extra_args: Iterable[str] = ()) -> Iterator["Browser"]:
    """Start Playwright and one Chromium for the duration of a block; always shuts both down."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, headless=headless, extra_args=extra_args)
        try:
            yield browser
        finally:
            try:
                browser.close()
            except Exception:  # already gone (crashed or killed): nothing left to close
                pass
