"""The pytest plugin (entry point `pytest11`): `pytest --sessionheat` records every page a
pytest-playwright test opens as a session, tagged with the test and its outcome.

This module is all that loads when the flag is off: it adds the options and nothing else, so a
suite run without `--sessionheat` imports no more of sessionheat (nor Playwright, nor SQLite)
than this file. With the flag, sessionheat/suite_recording.py does the work.
"""

from __future__ import annotations

import pytest

KEEP_CHOICES = ("all", "failed")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sessionheat", "sessionheat: keep a replay of every browser test")
    group.addoption("--sessionheat", action="store_true", default=None,
                    help="record every page the tests' Playwright `page` and `context` open (or ini "
                         "`sessionheat = true`)")
    group.addoption("--sessionheat-db", metavar="PATH", default=None,
                    help="the store to record into (default: sessionheat.db beside the --output folder)")
    group.addoption("--sessionheat-keep", choices=KEEP_CHOICES, default=None,
                    help="which tests' sessions stay in the store: all (default) or failed")
    parser.addini("sessionheat", type="bool", default=False,
                  help="record the browser tests (as --sessionheat)")
    parser.addini("sessionheat_db", default="", help="the store to record into (as --sessionheat-db)")
    parser.addini("sessionheat_keep", default="all", help="all or failed (as --sessionheat-keep)")


def enabled(config: pytest.Config) -> bool:
    flag = config.getoption("--sessionheat")
    return bool(config.getini("sessionheat") if flag is None else flag)


def pytest_configure(config: pytest.Config) -> None:
    if not enabled(config):
        return
    keep = config.getoption("--sessionheat-keep") or config.getini("sessionheat_keep")
    if keep not in KEEP_CHOICES:
        raise pytest.UsageError(f"sessionheat_keep = {keep!r}: choose one of {', '.join(KEEP_CHOICES)}")
    from sessionheat.suite_recording import SuiteRecording

    db = config.getoption("--sessionheat-db") or config.getini("sessionheat_db") or None
    config.pluginmanager.register(SuiteRecording(config, db=db, keep=keep), "sessionheat-recording")
