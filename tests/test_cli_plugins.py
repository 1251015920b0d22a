"""Commands from other packages: the `sessionheat.commands` entry points, and the demo arriving that way."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import click
import pytest

from sessionheat.plugin_commands import ENTRY_POINT_GROUP

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("plumbing", "recorder", "replay", "heatmap", "sessionheat")

PLUGIN_MODULE = '''
import click

from sessionheat.command_options import db_option


@click.command()
@db_option
@click.option("--name", default="world")
def hello(db_path, name):
    """Say hello from another package, whose commands join sessionheat's."""
    click.echo(f"hello {name}, with {db_path.name}")


NOT_A_COMMAND = 42
'''

ENTRY_POINTS = f"""[{ENTRY_POINT_GROUP}]
hello = acme_tools:hello
broken = acme_missing:hello
notacommand = acme_tools:NOT_A_COMMAND
sessions = acme_tools:hello
"""


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    """A folder holding an installed-looking package `acme-tools` that declares four commands:
    one that works, one whose module is missing, one that is not a command, one taking a built-in name."""
    folder = tmp_path_factory.mktemp("site")
    (folder / "acme_tools.py").write_text(PLUGIN_MODULE)
    info = folder / "acme_tools-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-tools\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return folder


def sessionheat(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run([sys.executable, "-m", "sessionheat", *args], cwd=ROOT, env=env, check=False,
                          capture_output=True, text=True, timeout=60)


def test_a_command_another_package_declares_is_listed_and_runs(acme, tmp_path):
    listing = sessionheat(acme, "--help")
    assert listing.returncode == 0, listing.stderr
    assert re.search(r"\n  hello +Say hello from another package", listing.stdout), listing.stdout
    ran = sessionheat(acme, "hello", "--name", "Ada", "--db", str(tmp_path / "x.db"))
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "hello Ada, with x.db\n"


def test_a_broken_plugin_fails_alone_and_says_why(acme):
    listing = sessionheat(acme, "--help")
    assert listing.returncode == 0, listing.stderr
    assert re.search(r"\n  broken +\(cannot be loaded: ModuleNotFoundError", listing.stdout)
    assert re.search(r"\n  notacommand +\(cannot be loaded: int is not a click command\)", listing.stdout)
    assert re.search(r"\n  users +Manage who may log in", listing.stdout)
    for args in (["broken"], ["broken", "--help"], ["broken", "--db", "x.db", "extra"]):
        failed = sessionheat(acme, *args)
        assert failed.returncode == 1
        assert ("Error: the 'broken' command, acme_missing:hello (package acme-tools), cannot be loaded: "
                "ModuleNotFoundError: No module named 'acme_missing'") in failed.stderr
    failed = sessionheat(acme, "notacommand")
    assert failed.returncode == 1 and "int is not a click command" in failed.stderr
    still = sessionheat(acme, "sessions", "--help")
    assert still.returncode == 0 and "List recorded sessions." in still.stdout


def test_a_plugin_cannot_take_a_built_in_name(acme, tmp_path):
    db = tmp_path / "none.db"
    ran = sessionheat(acme, "sessions", "--db", str(db))
    assert ran.returncode == 2 and "no database at" in ran.stderr and "hello" not in ran.stdout


def test_demo_is_declared_under_the_group_and_is_a_command():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    assert declared[ENTRY_POINT_GROUP] == {"demo": "demo.cli:demo_command"}
    from demo.cli import demo_command

    assert isinstance(demo_command, click.Command) and demo_command.name == "demo"


def test_the_installed_metadata_declares_demo():
    names = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert names.get("demo") == "demo.cli:demo_command", (
        "the installed sessionheat metadata predates the entry point: reinstall (pip install -e .)")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_the_product_never_imports_the_demo():
    files = [f for package in PRODUCT for f in sorted((ROOT / package).rglob("*.py"))]
    assert len(files) > 40
    offenders = {str(f.relative_to(ROOT)): sorted(m for m in imported_modules(f) if m.split(".")[0] == "demo")
                 for f in files}
    assert {f: m for f, m in offenders.items() if m} == {}
