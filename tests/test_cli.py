"""The CLI: every command documented, stage packages loaded lazily, and the data commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import ASSETS

from sessionheat.cli import main

T0 = 1_790_000_000_000
ROOT = Path(__file__).resolve().parent.parent


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    """Every command, those installed packages add through entry points (the demo) included."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


@pytest.mark.parametrize("path", [p for p, _ in all_commands(main)], ids=" ".join)
def test_every_command_has_help(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    command = dict(all_commands(main))[path]
    assert command.help and len(command.help) > 20, f"{' '.join(path)} needs a real help text"


def test_help_loads_neither_playwright_nor_opencv():
    code = ("import sys; from sessionheat.cli import main\n"
            "try: main(['--help'])\nexcept SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('playwright', 'cv2', 'numpy', 'recorder', 'replay', 'heatmap')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def events_file(tmp_path, events, name="events.json"):
    path = tmp_path / name
    path.write_text(json.dumps(events))
    return path


GOOD = [{"type": 4, "data": {"href": "http://127.0.0.1:9/", "width": 800, "height": 600}, "timestamp": T0},
        {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": []}}, "timestamp": T0 + 5}]


def test_import_sessions_export_round_trip(tmp_path):
    db = str(tmp_path / "s.db")
    runner = CliRunner()
    result = runner.invoke(main, ["import", str(events_file(tmp_path, {"events": GOOD})), "--db", db,
                                  "--property", "variant=B"])
    assert result.exit_code == 0, result.output
    sid = result.output.strip()
    listed = json.loads(runner.invoke(main, ["sessions", "--json", "--db", db]).output)
    assert [s["id"] for s in listed] == [sid] and listed[0]["properties"] == {"variant": "B"}
    assert listed[0]["viewport_w"] == 800 and listed[0]["n_pageviews"] == 1
    exported = runner.invoke(main, ["export", sid, "--db", db]).output
    assert json.loads(exported) == GOOD
    table = runner.invoke(main, ["sessions", "--db", db])
    assert sid in table.output and "variant=B" in table.output


@pytest.mark.parametrize("content, message", [
    ("this is not json", "is not JSON"),
    ('{"foo": []}', "JSON array"),
    ('[{"type": 4, "data": {"href": "x", "width": 1, "height": 1}}]', "timestamp"),
])
def test_import_refuses_bad_input_and_writes_nothing(tmp_path, content, message):
    db = tmp_path / "s.db"
    path = tmp_path / "bad.json"
    path.write_text(content)
    runner = CliRunner()
    runner.invoke(main, ["import", str(events_file(tmp_path, GOOD, "good.json")), "--db", str(db)])
    before = db.read_bytes() if db.exists() else b""
    result = runner.invoke(main, ["import", str(path), "--db", str(db)])
    assert result.exit_code == 1 and message in result.output
    listed = json.loads(runner.invoke(main, ["sessions", "--json", "--db", str(db)]).output)
    assert len(listed) == 1 and before


def test_export_of_unknown_session_is_a_clear_error(tmp_path):
    db = str(tmp_path / "s.db")
    CliRunner().invoke(main, ["import", str(events_file(tmp_path, GOOD)), "--db", db])
    result = CliRunner().invoke(main, ["export", "nope-nope-nope", "--db", db])
    assert result.exit_code == 1 and "no session" in result.output


READ_ONLY = [["sessions"], ["export", "some-id"], ["replay", "some-id", "--html", "x.html"], ["index"],
             ["heatmap", "--url", "/", "--out", "x.png"], ["sites", "list"]]


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: " ".join(a[:2]))
def test_read_only_commands_refuse_a_database_that_does_not_exist(tmp_path, args):
    db = tmp_path / "typo.db"
    result = CliRunner().invoke(main, [*args, "--db", str(db)])
    assert result.exit_code == 2 and f"no database at {db}" in result.output, result.output
    assert "Traceback" not in result.output and not db.exists()  # nothing left behind


@pytest.mark.parametrize("args", [*READ_ONLY, ["import", "EVENTS"], ["sites", "add", "x", "--origin", "*"]],
                         ids=lambda a: " ".join(a[:2]))
def test_a_file_that_is_not_sqlite_is_refused_by_name(tmp_path, args):
    db = events_file(tmp_path, GOOD, "session.json")
    before = db.read_bytes()
    args = [str(events_file(tmp_path, GOOD)) if a == "EVENTS" else a for a in args]
    result = CliRunner().invoke(main, [*args, "--db", str(db)])
    assert result.exit_code == 2 and f"{db} is not a SQLite database" in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert db.read_bytes() == before


def test_commands_that_record_still_create_the_database(tmp_path):
    db = tmp_path / "new.db"
    result = CliRunner().invoke(main, ["import", str(events_file(tmp_path, GOOD)), "--db", str(db)])
    assert result.exit_code == 0 and db.exists()
    assert CliRunner().invoke(main, ["sessions", "--db", str(db)]).exit_code == 0
    fresh = tmp_path / "sites.db"
    assert CliRunner().invoke(main, ["sites", "add", "s", "--origin", "*", "--db", str(fresh)]).exit_code == 0


def test_record_runs_journeys_with_seeds_viewports_and_properties(asset_server, tmp_path):
    """Run as its own process, as a user would: in-process it would start Playwright inside the
    test session's running Playwright, which the sync API refuses."""
    db = str(tmp_path / "s.db")
    journey = str(ASSETS / "journey_click.py")
    args = ["record", asset_server.url("form.html"), "--journey", journey, "--sessions", "3",
            "--viewport", "1280x800", "--viewport", "390x844", "--property", "variant=B",
            "--seed", "7", "--db", db]
    result = subprocess.run([sys.executable, "-m", "sessionheat", *args], capture_output=True, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    listed = json.loads(CliRunner().invoke(main, ["sessions", "--json", "--db", db]).output)
    assert len(listed) == 3
    assert sorted((s["viewport_w"], s["device"]) for s in listed) == [
        (390, "mobile"), (1280, "desktop"), (1280, "desktop")]
    assert all(s["n_pageviews"] == 2 for s in listed)
    for s in listed:  # the property asked for, and the visit's own (each visitor new, none referred)
        assert s["properties"] == {"variant": "B", "referrer_host": "", "channel": "direct", "visitor": "new",
                                   "first_seen": s["started_at"][:10]}


def test_record_without_journey_needs_headed(tmp_path):
    result = CliRunner().invoke(main, ["record", "http://127.0.0.1:1/", "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 2 and "--journey" in result.output


@pytest.mark.parametrize("bad", ["12x", "axb", "50x50"])
def test_bad_viewport_is_refused(bad, tmp_path):
    result = CliRunner().invoke(main, ["record", "http://127.0.0.1:1/", "--viewport", bad,
                                       "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 2 and "WIDTHxHEIGHT" in result.output


def test_counts_in_messages_are_singular_for_one():
    from plumbing.vocabulary import counted

    assert counted(1, "session") == "1 session" and counted(3, "session") == "3 sessions"


@pytest.mark.parametrize("at", ["999999", "-5", "6"])
def test_replay_refuses_a_moment_outside_the_session_with_its_duration(tmp_path, at):
    db = str(tmp_path / "s.db")
    sid = CliRunner().invoke(main, ["import", str(events_file(tmp_path, GOOD)), "--db", db]).output.strip()
    result = CliRunner().invoke(main, ["replay", sid, "--at", at, "--screenshot", str(tmp_path / "x.png"),
                                       "--db", db])
    assert result.exit_code == 2, result.output
    assert f"{float(at):g} ms is outside session {sid}, which lasts 5 ms" in result.output
    assert not (tmp_path / "x.png").exists()


def test_unknown_device_lists_the_devices(tmp_path):
    db = str(tmp_path / "s.db")
    CliRunner().invoke(main, ["import", str(events_file(tmp_path, GOOD)), "--db", db])
    result = CliRunner().invoke(main, ["heatmap", "--url", "/", "--segment", "device=watch",
                                       "--out", str(tmp_path / "x.png"), "--db", db])
    assert result.exit_code == 1
    assert "device 'watch': one of desktop, tablet, mobile" in result.output


@pytest.mark.parametrize("viewport, said", [("1000x700", "tablet viewports (768-1023 px wide)"),
                                            ("390x844", "mobile viewports (0-767 px wide)"),
                                            ("1280x800", "desktop viewports (1024 px wide and up)")])
def test_heatmap_says_which_viewport_bucket_it_draws(tmp_path, viewport, said):
    db = str(tmp_path / "s.db")
    CliRunner().invoke(main, ["import", str(events_file(tmp_path, GOOD)), "--db", db])
    result = CliRunner().invoke(main, ["heatmap", "--url", "/nowhere.html", "--viewport", viewport,
                                       "--out", str(tmp_path / "x.png"), "--db", db])
    assert f"width {viewport.split('x')[0]} px: drawing {said}" in result.output, result.output
    assert result.exit_code == 1 and "no pageviews match" in result.output  # nothing drawn, still said


def test_index_with_nothing_new_says_so_and_how_to_rebuild(tmp_path):
    from plumbing.store import SessionStore

    db = tmp_path / "s.db"
    sid = CliRunner().invoke(main, ["import", str(events_file(tmp_path, GOOD)), "--db", str(db)]).output.strip()
    store = SessionStore(db)
    store.replace_hits(sid, [], n_events=len(GOOD))  # as if indexed already
    store.close()
    result = CliRunner().invoke(main, ["index", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "nothing to index: all 1 session already indexed; --rebuild recomputes them from their events"
    assert json.loads(CliRunner().invoke(main, ["index", "--json", "--db", str(db)]).output) == []
