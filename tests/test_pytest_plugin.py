"""`pytest --sessionheat`: a sample pytest-playwright suite (a passing, a failing and a flaky
test) run through pytester in processes of their own, against the demo site, with a real Chromium."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_suites import IMPORT_PROBE, git_head, run_suite, write_sample_suite

from plumbing.store import SessionStore
from plumbing.vocabulary import TAG_ANNOTATION

from demo import serve_demo

pytest_plugins = ["pytester"]

FAILURE_TEXT = "A title this page does not have"


def sessions_by_run(db: Path) -> dict[tuple[str, int], dict]:
    """(test name, retry) -> its session row."""
    with SessionStore(db) as store:
        rows = store.list_sessions()
    runs = {(row["properties"]["test"].split("::")[1], row["properties"]["test_retry"]): row for row in rows}
    assert len(runs) == len(rows), "one session per run of a test"
    return runs


def annotations(db: Path, session_id: str) -> list[tuple[int, dict]]:
    with SessionStore(db) as store:
        events = store.read_events(session_id).events
    return [(e["timestamp"], e["data"]["payload"]) for e in events
            if e["type"] == 5 and e["data"]["tag"] == TAG_ANNOTATION]


def test_without_the_flag_nothing_is_recorded_and_nothing_is_imported(pytester, monkeypatch, demo_server):
    write_sample_suite(pytester)
    pytester.makepyfile(test_imports=IMPORT_PROBE)
    result = run_suite(pytester, monkeypatch, demo_server.url, "-k", "passes or nothing_of")
    result.assert_outcomes(passed=2)
    assert not list(pytester.path.rglob("*.db"))
    # Installed, the plugin is listed among pytest's plugins; nothing else of it shows.
    said = [line for line in result.outlines if "sessionheat" in line and not line.startswith("plugins:")]
    assert said == []


def test_each_run_of_a_test_is_a_session_tagged_with_it(pytester, monkeypatch, demo_server):
    write_sample_suite(pytester)
    db = pytester.path / "suite.db"
    result = run_suite(pytester, monkeypatch, demo_server.url, "--sessionheat", "--sessionheat-db", str(db))
    assert result.parseoutcomes() == {"passed": 3, "failed": 1, "rerun": 1}
    runs = sessions_by_run(db)
    assert sorted(runs) == [("test_fails[chromium]", 0), ("test_flaky[chromium]", 0),
                            ("test_flaky[chromium]", 1), ("test_passes[chromium]", 0)]
    outcomes = {run: row["properties"]["test_outcome"] for run, row in runs.items()}
    assert outcomes == {("test_fails[chromium]", 0): "failed", ("test_flaky[chromium]", 0): "failed",
                        ("test_flaky[chromium]", 1): "passed", ("test_passes[chromium]", 0): "passed"}
    head = git_head(pytester.path)
    for (name, _retry), row in runs.items():
        props = row["properties"]
        assert props["test"] == f"test_sample.py::{name}"
        assert isinstance(props["test_duration_ms"], int) and props["test_duration_ms"] > 0
        assert props["browser"].startswith("chromium ") and props["browser"][9:10].isdigit()
        assert (props["git_commit"], props["git_branch"]) == (head, "main")
        assert "xdist_worker" not in props
        assert row["site"] == demo_server.url.rstrip("/") and row["n_events"] > 0
    assert "/index.html?" in runs[("test_passes[chromium]", 0)]["entry_url"]
    assert runs[("test_passes[chromium]", 0)]["n_pageviews"] == 2  # index, then pricing

    # The failure is on the timeline when it was raised, before the teardown began.
    failing = runs[("test_fails[chromium]", 0)]
    marks = annotations(db, failing["id"])
    names = [payload["name"] for _, payload in marks]
    assert names == ["failure", "teardown"]
    failure = marks[0][1]["data"]
    assert failure["phase"] == "call" and failure["exception"] == "AssertionError"
    assert FAILURE_TEXT in failure["message"]
    assert marks[0][0] <= marks[1][0] <= failing["last_ts"]
    assert [p["name"] for _, p in annotations(db, runs[("test_passes[chromium]", 0)]["id"])] == ["teardown"]

    # A failed run leaves a replay and a screenshot beside its other results, listed in the summary.
    out = result.stdout.str()
    assert "4 sessions recorded into suite.db" in out
    for name in ("test_fails", "test_flaky"):
        folder = pytester.path / "test-results" / f"test-sample-py-{name.replace('_', '-')}-chromium"
        replay, shot = folder / "sessionheat-replay.html", folder / "sessionheat-failure.png"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "sessionheat.annotation" in replay.read_text()
        assert f"test_sample.py::{name}[chromium]: replay {replay.relative_to(pytester.path)}" in out
        assert f"test_sample.py::{name}[chromium]: screenshot {shot.relative_to(pytester.path)}" in out
    assert FAILURE_TEXT in (pytester.path / "test-results/test-sample-py-test-fails-chromium"
                            / "sessionheat-replay.html").read_text()
    assert not list((pytester.path / "test-results").glob("*passes*/sessionheat-*"))


def test_xdist_workers_share_one_store_and_keep_failed_drops_the_passes(pytester, monkeypatch, demo_server):
    write_sample_suite(pytester)
    db = pytester.path / "suite.db"
    pytester.makeini(f"[pytest]\nsessionheat = true\nsessionheat_db = {db}\n")
    result = run_suite(pytester, monkeypatch, demo_server.url, "-n", "2")
    assert result.parseoutcomes() == {"passed": 3, "failed": 1, "rerun": 1}
    runs = sessions_by_run(db)
    assert len(runs) == 4
    assert {row["properties"]["xdist_worker"] for row in runs.values()} <= {"gw0", "gw1"}
    assert "4 sessions recorded into suite.db" in result.stdout.str()

    (pytester.path / "flaky-ran-once").unlink()
    db = pytester.path / "failures.db"
    result = run_suite(pytester, monkeypatch, demo_server.url, "-n", "2", "--sessionheat-keep", "failed",
                       "--sessionheat-db", str(db))
    runs = sessions_by_run(db)
    assert sorted(runs) == [("test_fails[chromium]", 0), ("test_flaky[chromium]", 0)]
    assert {row["properties"]["test_outcome"] for row in runs.values()} == {"failed"}
    assert "2 sessions recorded into failures.db" in result.stdout.str()


REPLAYED_IMAGES = """() => [...window.sessionPlayer.getReplayer().iframe.contentDocument.images]
    .filter((i) => i.getAttribute("src")).map((i) => ({complete: i.complete, width: i.naturalWidth}))"""


def test_a_failed_tests_replay_plays_from_its_file_with_the_site_gone(pytester, monkeypatch, browser):
    write_sample_suite(pytester)
    site = serve_demo()
    try:
        run_suite(pytester, monkeypatch, site.url, "--sessionheat", "-k", "test_fails")
    finally:
        site.close()
    live = json.loads((pytester.path / "live-images.json").read_text())
    assert len(live) >= 6
    replay = pytester.path / "test-results/test-sample-py-test-fails-chromium/sessionheat-replay.html"
    assert (pytester.path / "sessionheat.db").exists()  # the default store: beside test-results
    context = browser.new_context(offline=True)
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    try:
        page.goto(replay.as_uri())
        page.wait_for_function("() => window.sessionPlayer && window.sessionPlayer.getReplayer()")
        page.evaluate("() => window.sessionPlayer.goto(window.sessionPlayer.getReplayer().getMetaData().totalTime, false)")
        page.wait_for_function(f"() => ({REPLAYED_IMAGES})().length >= {len(live)}"
                               f" && ({REPLAYED_IMAGES})().every((i) => i.complete)")
        images = page.evaluate(REPLAYED_IMAGES)
    finally:
        context.close()
    assert len(images) == len(live)
    assert all(image["width"] > 0 for image in images), images
    assert all(url.startswith(("file:", "data:")) for url in asked), [u for u in asked if not u.startswith("data:")]


POPUP_TEST = '''
def test_opens_a_popup(page):
    page.goto("/index.html?banner=none&promo=0&imgdelay=0")
    with page.context.expect_page() as opened:
        page.evaluate("window.open('/pricing.html?banner=none&promo=0&imgdelay=0')")
    popup = opened.value
    popup.wait_for_load_state("load")
    popup.click("[data-demo-id=nav-signup]")
    popup.wait_for_url("**/signup.html")
'''


def test_a_popup_is_a_session_of_the_same_test_from_its_first_page(pytester, monkeypatch, demo_server):
    write_sample_suite(pytester)
    pytester.makepyfile(test_popup=POPUP_TEST)
    db = pytester.path / "suite.db"
    result = run_suite(pytester, monkeypatch, demo_server.url, "--sessionheat", "--sessionheat-db", str(db),
                       "test_popup.py")
    result.assert_outcomes(passed=1)
    with SessionStore(db) as store:
        rows = sorted(store.list_sessions(), key=lambda row: row["first_ts"])
        pages = {row["id"]: [p["url"].split("?")[0].rsplit("/", 1)[1] for p in store.pageviews(row["id"])]
                 for row in rows}
    assert [pages[row["id"]] for row in rows] == [["index.html"], ["pricing.html", "signup.html"]]
    assert {row["properties"]["test"] for row in rows} == {"test_popup.py::test_opens_a_popup[chromium]"}
    assert all(row["properties"]["test_outcome"] == "passed" for row in rows)
