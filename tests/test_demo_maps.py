"""The demo draws what README promises beyond plain click maps: a dead-click map and a variant
A vs B compare. Six visitors: the first three see variant A, the next three B, and the sixth is
the impatient one (dead clicks on the hero title). Run as its own process, as README does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_draws_a_dead_click_map_and_a_variant_compare(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "sessionheat", "demo", "--db", str(tmp_path / "demo.db"), "--sessions", "6",
         "--out", str(out)], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "failed" not in output and "skipped" not in output, output
    report = (out / "report.html").read_text()
    dead = json.loads((out / "map-10-dead.json").read_text())
    assert dead["kind"] == "dead" and dead["points"] and "Home, dead clicks" in report
    compare = json.loads((out / "compare-00-click.json").read_text())
    assert compare["a"]["points"] and compare["b"]["points"] and compare["difference"]
    assert "variant=A" in compare["a"]["segment"] and "variant=B" in compare["b"]["segment"]
    assert "variant A vs B" in report
    for name in ("compare-00-click.png", "compare-00-click-a.png", "compare-00-click-b.png"):
        assert (out / name).stat().st_size > 10_000 and name in report
