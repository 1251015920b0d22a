"""`sessionheat sites add/list` and `sessionheat serve` from the command line."""

from __future__ import annotations

import json

import httpx
from click.testing import CliRunner
from collector_helpers import ServeProcess, free_port, page_events

from sessionheat.cli import main
from sessionheat.store import SessionStore


def test_sites_add_prints_a_key_the_collector_accepts(tmp_path):
    db = tmp_path / "s.db"
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

    again = runner.invoke(main, ["sites", "add", "staging", "--origin", "https://x.test", "--db", str(db)])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = runner.invoke(main, ["sites", "add", "other", "--origin", "staging.example", "--db", str(db)])
    assert bad.exit_code == 1 and "not an http(s) origin" in bad.output
    missing = runner.invoke(main, ["sites", "add", "other", "--db", str(db)])
    assert missing.exit_code == 2 and "--origin" in missing.output

    server = ServeProcess(db, free_port(), tmp_path / "serve.log").start()
    try:
        r = httpx.post(f"{server.url}/api/v1/sessions/cli-session-1/chunks/0",
                       json={"events": page_events()},
                       headers={"X-Sessionheat-Site": key, "Origin": "https://staging.example"})
        assert r.status_code == 202, r.text
        assert httpx.get(f"{server.url}/snippet.js").status_code == 200
    finally:
        server.stop()
    with SessionStore(db) as store:
        assert store.get_session("cli-session-1")["site"] == "staging"
