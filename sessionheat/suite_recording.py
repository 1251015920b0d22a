"""What `pytest --sessionheat` does (registered by sessionheat/pytest_plugin.py, only with the flag).

Each run of a test that uses pytest-playwright's `context` (its `page` does) records every page
that context opens, with `recorder.contexts.ContextRecording`, into one store shared by the whole
run (pytest-xdist's workers too: the store is SQLite in WAL mode, each write a transaction that
waits its turn). The sessions carry the test's properties (plumbing.vocabulary's PROP_*) and,
on their timelines, the test's phases and its failure at the moment it was raised. A failed test
leaves an offline replay and a screenshot of the failure moment beside its other results
(pytest-playwright's `--output` folder), listed in the terminal summary.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from plumbing.store import SessionStore
from plumbing.vocabulary import (
    FAILED_OUTCOMES,
    PROP_BROWSER,
    PROP_GIT_BRANCH,
    PROP_GIT_COMMIT,
    PROP_TEST,
    PROP_TEST_DURATION_MS,
    PROP_TEST_OUTCOME,
    PROP_TEST_RETRY,
    PROP_XDIST_WORKER,
)

from recorder.contexts import ContextRecording

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

DEFAULT_DB_NAME = "sessionheat.db"
MESSAGE_CHARS = 4000  # a failure's message on the timeline: enough for a diff of two values
# What a test run's report carries to the terminal summary (through pytest-xdist too): the kinds
# of `user_properties` entries this plugin adds, each (kind, value).
REPORTED_SESSION = "sessionheat_session"
REPORTED_FILES = {"sessionheat_replay": "replay", "sessionheat_screenshot": "screenshot"}
REPLAY_FILE = "sessionheat-replay{}.html"
SCREENSHOT_FILE = "sessionheat-failure{}.png"


@dataclass
class Attempt:
    """One run of one test (pytest-rerunfailures runs a test again: each run is an attempt)."""

    recording: ContextRecording
    folder: Path  # where its files go: pytest-playwright's output_path for the test
    reports: dict[str, pytest.TestReport] = field(default_factory=dict)  # by phase
    files: list[tuple[str, Path]] = field(default_factory=list)  # (user_properties kind, path)

    def mark_failure(self, phase: str, exc: BaseException) -> None:
        """Put the failure on the timeline now, and photograph each page as it is at this moment."""
        message = f"{type(exc).__name__}: {exc}".strip()[:MESSAGE_CHARS]
        self.recording.mark("failure", {"phase": phase, "exception": type(exc).__name__, "message": message})
        for index, page in enumerate(self.recording.open_pages()):
            path = self.folder / SCREENSHOT_FILE.format(_suffix(index))
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(path), timeout=5000)
                self.files.append(("sessionheat_screenshot", path))
            except Exception:  # a page that crashed has no picture; the replay still tells
                pass

    def outcome(self) -> str:
        setup, call, teardown = (self.reports.get(phase) for phase in ("setup", "call", "teardown"))
        if setup is not None and setup.failed:
            return "error"
        if setup is not None and setup.skipped:
            return "skipped"
        if call is not None:
            if hasattr(call, "wasxfail"):
                return "xfailed" if call.skipped else "failed" if call.failed else "xpassed"
            if call.failed:
                return "failed"
            if call.skipped:
                return "skipped"
        if teardown is not None and teardown.failed:
            return "error"
        return "passed"

    def duration_ms(self) -> int:
        return round(sum(report.duration for report in self.reports.values()) * 1000)


def _suffix(index: int) -> str:
    return "" if index == 0 else f"-{index + 1}"


ATTEMPT = pytest.StashKey[Attempt]()


def git_properties(folder: Path) -> dict[str, str]:
    """The commit and branch checked out in `folder`, when it is in a git repository."""
    found: dict[str, str] = {}
    for key, args in ((PROP_GIT_COMMIT, ["rev-parse", "HEAD"]),
                      (PROP_GIT_BRANCH, ["rev-parse", "--abbrev-ref", "HEAD"])):
        try:
            done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return found
        if done.returncode == 0 and done.stdout.strip():
            found[key] = done.stdout.strip()
    return found


def browser_name(context: "BrowserContext") -> str | None:
    browser = context.browser
    return f"{browser.browser_type.name} {browser.version}" if browser is not None else None


class SuiteRecording:
    """The plugin's working half: a fixture that records each test's context, and the hooks that
    tag, mark, keep or drop its sessions and list its files."""

    def __init__(self, config: pytest.Config, *, db: str | None, keep: str) -> None:
        self.config = config
        output = Path(str(config.getoption("--output", default="test-results"))).absolute()
        self.db = Path(db).absolute() if db else output.parent / DEFAULT_DB_NAME
        self.keep = keep
        self._store: SessionStore | None = None
        self._run_properties: dict[str, str] | None = None
        self.sessions: set[str] = set()  # kept sessions, from every worker's reports
        self.files: list[tuple[str, str, str]] = []  # (nodeid, what, path), from every worker's reports
        self.writing: list[ContextRecording] = []  # finished runs whose writes may be under way

    @property
    def store(self) -> SessionStore:
        if self._store is None:  # opened by the first browser test: a run without one leaves no file
            self._store = SessionStore(self.db)
        return self._store

    def run_properties(self) -> dict[str, str]:
        if self._run_properties is None:
            self._run_properties = git_properties(self.config.rootpath)
            worker = os.environ.get("PYTEST_XDIST_WORKER")
            if worker:
                self._run_properties[PROP_XDIST_WORKER] = worker
        return self._run_properties

    @pytest.fixture(autouse=True)
    def _sessionheat_recording(self, request: pytest.FixtureRequest) -> Iterator[None]:
        if "context" not in request.fixturenames:
            yield
            return
        context: BrowserContext = request.getfixturevalue("context")
        item = request.node
        properties: dict[str, Any] = {**self.run_properties(), PROP_TEST: item.nodeid,
                                      PROP_TEST_RETRY: getattr(item, "execution_count", 1) - 1}
        browser = browser_name(context)
        if browser:
            properties[PROP_BROWSER] = browser
        recording = ContextRecording(context, store=self.store, properties=properties)
        item.stash[ATTEMPT] = Attempt(recording, self._folder(request))
        try:
            yield
        finally:
            recording.stop()  # the pages' last batches, before the context closes

    def _folder(self, request: pytest.FixtureRequest) -> Path:
        """pytest-playwright's folder for this test's files (`test-results/<test>/`)."""
        try:
            return Path(request.getfixturevalue("output_path"))
        except pytest.FixtureLookupError:  # a `context` that is not pytest-playwright's
            output = Path(str(self.config.getoption("--output", default="test-results"))).absolute()
            return output / "".join(c if c.isalnum() else "-" for c in request.node.nodeid).lower()

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        attempt = item.stash.get(ATTEMPT, None)
        if attempt is None:
            return (yield)
        attempt.recording.mark("call")
        try:
            return (yield)
        except pytest.skip.Exception:
            raise
        except BaseException as exc:  # the moment it was raised: the page shows what broke
            attempt.mark_failure("call", exc)
            raise

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        attempt = item.stash.get(ATTEMPT, None)
        if attempt is not None:
            attempt.recording.mark("teardown")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]
                                  ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        attempt = item.stash.get(ATTEMPT, None)
        if attempt is None:
            return report
        attempt.reports[report.when] = report
        if report.failed and report.when != "call" and call.excinfo is not None:
            attempt.mark_failure(report.when, call.excinfo.value)  # a fixture's failure
        if report.when == "teardown":
            del item.stash[ATTEMPT]
            self._finish(attempt, report)
        return report

    def _finish(self, attempt: Attempt, report: pytest.TestReport) -> None:
        """Tag the sessions with the outcome; a failure's replays are written, a pass may be dropped."""
        outcome = attempt.outcome()
        recording = attempt.recording
        recording.finish({PROP_TEST_OUTCOME: outcome, PROP_TEST_DURATION_MS: attempt.duration_ms()})
        failed = outcome in FAILED_OUTCOMES
        if failed or self.keep == "failed":  # reads or deletes what the writer may still be writing
            recording.wait()
        else:
            self.writing = [r for r in self.writing if r.writer.is_alive()] + [recording]  # the next
            # test need not wait for this one's writes
        if failed:
            from replay.player import write_player_html  # ~35 ms of imports a passing run never needs

            for index, session in enumerate(recording.recorded):
                path = attempt.folder / REPLAY_FILE.format(_suffix(index))
                path.parent.mkdir(parents=True, exist_ok=True)
                write_player_html(self.store, session.id, path)
                attempt.files.append(("sessionheat_replay", path))
        if self.keep == "failed" and not failed:
            for session in recording.recorded:
                self.store.delete_session(session.id)
        else:
            report.user_properties += [(REPORTED_SESSION, s.id) for s in recording.recorded]
        report.user_properties += [(kind, str(path)) for kind, path in attempt.files]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for kind, value in report.user_properties:
            if kind == REPORTED_SESSION:
                self.sessions.add(str(value))
            elif kind in REPORTED_FILES:
                self.files.append((report.nodeid, REPORTED_FILES[kind], str(value)))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("-", "sessionheat")
        kept = f"{len(self.sessions)} session{'' if len(self.sessions) == 1 else 's'}"
        terminalreporter.write_line(f"{kept} recorded into {self._shown(str(self.db))}")
        for nodeid, what, path in self.files:
            terminalreporter.write_line(f"{nodeid}: {what} {self._shown(path)}")

    def _shown(self, path: str) -> str:
        """Relative to where pytest started when inside it, as pytest-playwright shows its files."""
        try:
            return str(Path(path).relative_to(self.config.invocation_params.dir))
        except ValueError:
            return path

    def pytest_unconfigure(self) -> None:
        for recording in self.writing:
            recording.wait()
        if self._store is not None:
            self._store.close()
