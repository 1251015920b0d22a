"""docs/cli.md is every command's `--help`, generated with cog (as sqlite-utils generates its CLI
reference). This fails when a command changed and the file was not regenerated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "docs/cli.md"
REGENERATE = f"python3 -m cogapp -r {REFERENCE}"


def test_cli_reference_says_what_the_commands_say():
    result = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "--diff", "--check-fail-msg",
         f"regenerate it with `{REGENERATE}`", REFERENCE],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    if "No module named cogapp" in result.stderr:
        pytest.fail("cogapp is not installed: run scripts/setup.sh (it installs the [test] extras)")
    if result.returncode != 0:
        pytest.fail(f"{REFERENCE} is stale: regenerate it with `{REGENERATE}` and commit it.\n"
                    f"{result.stdout}\n{result.stderr}", pytrace=False)


def test_cli_reference_covers_every_command():
    """The generated part is there and has a section per command (the check above would also
    pass on a file whose cog block printed nothing)."""
    import click

    from sessionheat.cli import main

    text = (ROOT / REFERENCE).read_text()
    ctx = click.Context(main, info_name="sessionheat")
    names = main.list_commands(ctx)
    assert names, "sessionheat has no commands?"
    for name in names:
        command = main.get_command(ctx, name)
        if command is not None and not command.hidden:
            assert f"\n## sessionheat {name}\n" in text, f"docs/cli.md has no section for `{name}`"
