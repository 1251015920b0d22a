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
    assert sum(p.properties["journey"] == "browse" for p in plans) == 2  # neither signs up
    assert {p.referrer for p in plans} == {None, "https://www.google.com/", "https://news.ycombinator.com/"}
    assert sum("utm_medium=email" in p.url for p in plans) == 3 and sum(p.returning for p in plans) == 4
    assert [p.url for p in plans] == [p.url for p in plan_demo_visitors("http://127.0.0.1:1/", 12, seed=0)]


def test_demo_command_records_indexes_and_draws_what_readme_promises(tmp_path):
    """Run as its own process, as README's first command is: in-process it would start Playwright
    inside the test session's running Playwright, which the sync API refuses. Six visitors: the
    first three see variant A, the next three B, and the sixth is the impatient one (dead clicks
    on the hero title), so the dead-click map and the A vs B compare have something to draw."""
    db = tmp_path / "demo.db"
    result = subprocess.run(
        [sys.executable, "-m", "sessionheat", "demo", "--db", str(db), "--sessions", "6",
         "--out", str(tmp_path / "out")], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"recorded 6 sessions into {db}" in output
    assert "failed" not in output and "skipped" not in output, output
    out = tmp_path / "out"
    report = (out / "report.html").read_text()
    assert "Home, clicks (desktop)" in report and "<script" not in report
    assert (out / "map-00-click.png").stat().st_size > 10_000 and (out / "replay.html").exists()
    points = json.loads((out / "map-00-click.json").read_text())
    assert points["points"] and points["reference"]["viewport"] == [1280, 800]
    dead = json.loads((out / "map-10-dead.json").read_text())
    assert dead["kind"] == "dead" and dead["points"] and "Home, dead clicks" in report
    compare = json.loads((out / "compare-00-click.json").read_text())
    assert compare["a"]["points"] and compare["b"]["points"] and compare["difference"]
    assert "variant=A" in compare["a"]["segment"] and "variant=B" in compare["b"]["segment"]
    assert "variant A vs B" in report
    converted = json.loads((out / "compare-01-click.json").read_text())  # signed up (event:signup) or not
    assert "converted=yes" in converted["a"]["segment"] and "converted=no" in converted["b"]["segment"]
    assert converted["a"]["n_sessions"] == 4 and converted["b"]["n_sessions"] == 2
    assert "converted vs not" in report
    for name in ("compare-00-click.png", "compare-00-click-a.png", "compare-00-click-b.png"):
        assert (out / name).stat().st_size > 10_000 and name in report
    listed = json.loads(CliRunner().invoke(main, ["sessions", "--json", "--db", str(db)]).output)
    assert sorted({s["device"] for s in listed}) == ["desktop", "mobile", "tablet"]
    for session in listed:
        if session["properties"]["journey"] != "rage":  # the impatient one stays on the home page
            assert session["n_pageviews"] >= 2, session  # visitors navigate
        # the page tagged its own layout, and it agrees with what the visit asked for
        assert session["properties"]["variant"] in ("A", "B")
        assert set(session["properties"]) >= {"variant", "banner", "promo", "journey"}
    by_journey = {s["properties"]["journey"]: s["properties"] for s in listed}
    assert by_journey["rage"]["converted"] == by_journey["browse"]["converted"] == "no"
    assert by_journey["visitor"]["converted"] == "yes"
    assert sorted(s["properties"]["channel"] for s in listed) == [
        "direct", "direct", "email", "email", "search", "social"]
    assert sorted(s["properties"]["visitor"] for s in listed) == ["new"] * 4 + ["returning"] * 2
