"""The one choice of which Chromium runs: headless work in the headless shell, a person's browser in
the full one, and an explicit override over both."""

from __future__ import annotations

from pathlib import Path

import pytest

import plumbing.browser as browser


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Stand-in Debian binaries in a scratch folder, and no override in the environment."""
    paths = {"full": tmp_path / "chromium", "shell": tmp_path / "chromium-headless-shell"}
    monkeypatch.setattr(browser, "SYSTEM_CHROMIUM", paths["full"])
    monkeypatch.setattr(browser, "SYSTEM_HEADLESS_SHELL", paths["shell"])
    monkeypatch.setattr(browser, "OTHER_CHROMIUMS", ())
    monkeypatch.delenv(browser.ENV_CHROMIUM, raising=False)
    return paths


def test_headless_work_runs_in_the_headless_shell_and_a_person_in_the_full_browser(installed) -> None:
    for path in installed.values():
        path.write_text("")
    assert browser.chromium_executable(headless=True) == str(installed["shell"])
    assert browser.chromium_executable(headless=False) == str(installed["full"])


def test_without_the_headless_shell_headless_work_falls_back_to_the_full_browser(installed) -> None:
    installed["full"].write_text("")
    assert browser.chromium_executable(headless=True) == str(installed["full"])


def test_with_neither_installed_playwright_brings_its_own(installed) -> None:
    assert browser.chromium_executable(headless=True) is None


def test_the_override_wins_and_must_exist(installed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for path in installed.values():
        path.write_text("")
    mine = tmp_path / "my-chrome"
    mine.write_text("")
    monkeypatch.setenv(browser.ENV_CHROMIUM, str(mine))
    assert browser.chromium_executable(headless=True) == str(mine)
    assert browser.chromium_executable(headless=False) == str(mine)
    monkeypatch.setenv(browser.ENV_CHROMIUM, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match=browser.ENV_CHROMIUM):
        browser.chromium_executable()

