"""`sessionheat sites add/list` and `sessionheat serve` from the command line."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from click.testing import CliRunner
from collector_helpers import ServeProcess, free_port, page_events

from plumbing.store import SessionStore

from sessionheat.cli import main


def test_sites_add_prints_a_key_the_collector_accepts(store_location, tmp_path):
    db = store_location  # a SQLite file or a PostgreSQL URL: --db takes either
    runner = CliRunner()
    added = runner.invoke(main, ["sites", "add", "staging", "--origin", "https://Staging.Example:443/",
                                 "--origin", "http://127.0.0.1:8000", "--db", str(db)])
    assert added.exit_code == 0, added.output
    key = added.stdout.strip()  # the key alone on stdout; how to use it on stderr
    assert key.startswith("shk_") and len(key) > 20
    assert f'<script src="http://127.0.0.1:8000/snippet.js" data-site="{key}" async></script>' in added.stderr
    listed = json.loads(runner.invoke(main, ["sites", "list", "--json", "--db", str(db)]).output)
    assert listed[0]["name"] == "staging" and listed[0]["key"] == key
    assert listed[0]["origins"] == ["http://127.0.0.1:8000", "https://staging.example"]
    text = runner.invoke(main, ["sites", "list", "--db", str(db)]).output.strip().split("\t")
    assert text == ["staging", key, "http://127.0.0.1:8000 https://staging.example",
                    "inputs masked, session cap default and default, visitor notes not kept, goals none"]

    again = runner.invoke(main, ["sites", "add", "staging", "--origin", "https://x.test", "--db", str(db)])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = runner.invoke(main, ["sites", "add", "other", "--origin", "staging.example", "--db", str(db)])
    assert bad.exit_code == 1 and "not an http(s) origin" in bad.output
    missing = runner.invoke(main, ["sites", "add", "other", "--db", str(db)])
    assert missing.exit_code == 2 and "--origin" in missing.output

    server = ServeProcess(db, free_port(), tmp_path / "serve.log").start()
    try:
        r = httpx.post(f"{server.url}/api/v1/sessions/cli-session-1/chunks/0",
                       json={"events": page_events(href="https://staging.example/a")},
                       headers={"X-Sessionheat-Site": key, "Origin": "https://staging.example"})
        assert r.status_code == 202, r.text
        assert httpx.get(f"{server.url}/snippet.js").status_code == 200
    finally:
        server.stop()
    with SessionStore(db) as store:
        assert store.get_session("cli-session-1")["site"] == "staging"


def test_a_site_key_can_be_rotated_and_a_site_removed_while_serve_runs(store_location, tmp_path):
    db = store_location  # a SQLite file or a PostgreSQL URL: --db takes either
    runner = CliRunner()
    old = runner.invoke(main, ["sites", "add", "staging", "--origin", "*", "--db", str(db)]).stdout.strip()
    server = ServeProcess(db, free_port(), tmp_path / "serve.log").start()

    def post(key: str, session_id: str) -> int:
        return httpx.post(f"{server.url}/api/v1/sessions/{session_id}/chunks/0", json={"events": page_events()},
                          headers={"X-Sessionheat-Site": key}).status_code

    def refreshed() -> None:  # a collector re-reads its sites on an unknown key, at most once a second
        time.sleep(1.1)
        assert post("shk_not-a-key", "refresh-probe") == 403

    try:
        assert post(old, "before-rotation") == 202
        rotated = runner.invoke(main, ["sites", "rotate-key", "staging", "--db", str(db)])
        assert rotated.exit_code == 0, rotated.output
        new = rotated.stdout.strip()
        assert new.startswith("shk_") and new != old and f'data-site="{new}"' in rotated.stderr
        refreshed()
        assert post(new, "after-rotation") == 202
        assert post(old, "with-the-old-key") == 403

        removed = runner.invoke(main, ["sites", "remove", "staging", "--db", str(db)])
        assert removed.exit_code == 0 and "its 2 recorded sessions stay" in removed.output
        refreshed()
        assert post(new, "after-removal") == 403
    finally:
        server.stop()
    again = runner.invoke(main, ["sites", "remove", "staging", "--db", str(db)])
    assert again.exit_code == 1 and "no site named 'staging'" in again.output
    with SessionStore(db) as store:
        assert {s["id"] for s in store.list_sessions()} == {"before-rotation", "after-rotation"}
        assert store.list_sites() == []


def test_a_sites_policy_is_set_when_added_and_changed_later(store_location):
    db = store_location  # a SQLite file or a PostgreSQL URL: --db takes either
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(main, [*args, "--db", str(db)])
        assert result.exit_code == 0, result.output
        return result

    def site() -> dict:
        return json.loads(run("sites", "list", "--json").output)[0]

    run("sites", "add", "staging", "--origin", "https://staging.example", "--record-inputs",
        "--max-session-mb", "8", "--max-session-events", "5000")
    assert site()["record_inputs"] is True
    assert (site()["max_session_bytes"], site()["max_session_events"]) == (8 * 1024 * 1024, 5000)
    changed = run("sites", "set", "staging", "--mask-inputs", "--max-session-mb", "0")
    assert "inputs masked, session cap none and 5000 events" in changed.output
    assert site()["record_inputs"] is False and site()["max_session_bytes"] == 0
    run("sites", "set", "staging", "--record-inputs")
    assert site()["record_inputs"] is True and site()["max_session_events"] == 5000
    nothing = runner.invoke(main, ["sites", "set", "staging", "--db", str(db)])
    assert nothing.exit_code == 2 and "at least one setting" in nothing.output
    unknown = runner.invoke(main, ["sites", "set", "nowhere", "--record-inputs", "--db", str(db)])
    assert unknown.exit_code == 1 and "no site named 'nowhere'" in unknown.output
