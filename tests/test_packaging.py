"""The wheel carries every package, every file the code reads at run time (JS, templates, rrweb),
and the entry points that add commands to the CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_SHIPPED = {"tests", "bench", "vendor"}  # vendor ships as plumbing.vendor


def test_every_package_folder_is_listed() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in ROOT.rglob("__init__.py")
             if init.parent.relative_to(ROOT).parts[0] not in NOT_SHIPPED | {".git", "build"}}
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_wheel_holds_the_files_read_at_run_time(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "*.egg-info", "__pycache__", "*.db*", "artifacts", "sessionheat-demo*"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(tmp_path), str(source)], check=True, capture_output=True, timeout=240)
    wheel = next(tmp_path.glob("sessionheat-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    needed = [p.relative_to(ROOT).as_posix() for folder in ("plumbing", "recorder", "replay", "heatmap", "demo",
                                                            "sessionheat")
              for p in (ROOT / folder).rglob("*")
              if p.suffix in {".js", ".html", ".css", ".svg"} and "__pycache__" not in p.parts]
    needed += [f"plumbing/vendor/rrweb/{p.name}" for p in (ROOT / "vendor" / "rrweb").iterdir()]
    assert needed and [n for n in needed if n not in names] == []
    # `sessionheat demo` reaches the CLI only through this entry point (sessionheat/plugin_commands.py)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    declared = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[sessionheat.commands]\ndemo = demo.cli:demo_command\n" in declared, declared


def test_vendored_files_match_the_hashes_their_readme_records() -> None:
    """vendor/rrweb/README.md names where each file came from and its sha256: a file changed by
    hand (or a refresh that forgot the README) fails here."""
    import hashlib
    import re

    vendor = ROOT / "vendor" / "rrweb"
    recorded = dict((name, digest) for digest, name in
                    re.findall(r"^([0-9a-f]{64})  (\S+)$", (vendor / "README.md").read_text(), re.M))
    shipped = {p.name for p in vendor.iterdir() if p.suffix in (".js", ".css")}
    assert set(recorded) == shipped, "every vendored file has one sha256 line in vendor/rrweb/README.md"
    for name, digest in recorded.items():
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name
