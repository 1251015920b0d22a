"""The main job: `sessionheat demo` records varied visitors on the bundled site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from demo.job import plan_demo_visitors
from sessionheat.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_demo_plans_vary_layouts_the_way_real_visitors_do():
    plans = plan_demo_visitors("http://127.0.0.1:1/", 12, seed=0)
    assert {p.viewport for p in plans} == {(1280, 800), (820, 1180), (390, 844)}
    assert {p.properties["variant"] for p in plans} == {"A", "B"}
    assert len({p.properties["banner"] for p in plans}) > 1
    assert {p.properties["promo"] for p in plans} == {"0", "1"}
    assert sum(p.properties["journey"] == "rage" for p in plans) == 2
    assert [p.url for p in plans] == [p.url for p in plan_demo_visitors("http://127.0.0.1:1/", 12, seed=0)]


def test_demo_command_records_sessions_across_viewports(tmp_path):
    """Run as its own process, as README's first command is: in-process it would start Playwright
    inside the test session's running Playwright, which the sync API refuses."""
    db = tmp_path / "demo.db"
    result = subprocess.run(
        [sys.executable, "-m", "sessionheat", "demo", "--db", str(db), "--sessions", "3",
         "--out", str(tmp_path / "out")], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"recorded 3 sessions into {db}" in output and "failed" not in output
    out = tmp_path / "out"
    report = (out / "report.html").read_text()
    assert "Home, clicks (desktop)" in report and "<script" not in report
    assert (out / "map-00-click.png").stat().st_size > 10_000 and (out / "replay.html").exists()
    points = json.loads((out / "map-00-click.json").read_text())
    assert points["points"] and points["reference"]["viewport"] == [1280, 800]
    listed = json.loads(CliRunner().invoke(main, ["sessions", "--json", "--db", str(db)]).output)
    assert sorted(s["device"] for s in listed) == ["desktop", "mobile", "tablet"]
    for session in listed:
        assert session["n_pageviews"] >= 2, session  # visitors navigate
        # the page tagged its own layout, and it agrees with what the visit asked for
        assert session["properties"]["variant"] in ("A", "B")
        assert set(session["properties"]) >= {"variant", "banner", "promo", "journey"}
