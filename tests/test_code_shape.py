"""The checks CI runs on the code itself, as tests, so `python3 -m pytest` (README's test command,
what .ci/run runs) runs them: the layers (import-linter), ruff, and mypy. Their settings live in
pyproject.toml; the tools come with the `[test]` extras that scripts/setup.sh installs.

Each runs with this Python from the repository root, so it reads this checkout's code and
pyproject.toml, and a failure shows the tool's own report.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_tool(module: str, *args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m module args` (or `python -c code args`, for a tool without a __main__) in the
    repository root. A tool not installed fails the test: CI must not pass by skipping its checks."""
    if importlib.util.find_spec(module) is None:
        pytest.fail(f"{module} is not installed: run scripts/setup.sh (it installs the [test] extras)")
    command = [sys.executable, "-c", code] if code is not None else [sys.executable, "-m", module]
    return subprocess.run([*command, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def fail_unless(ok: bool, what: str, result: subprocess.CompletedProcess[str]) -> None:
    """Fails with the tool's own report (no Python traceback: the report is the news)."""
    if not ok:
        pytest.fail(f"{what} (exit status {result.returncode}):\n{result.stdout}\n{result.stderr}",
                    pytrace=False)


def import_contracts() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return [c["id"] for c in tomllib.load(f)["tool"]["importlinter"]["contracts"]]


@pytest.mark.parametrize("contract", import_contracts())
def test_imports_keep_the_contract(contract):
    """Each contract in pyproject.toml's [tool.importlinter], one test each: the layers (plumbing
    at the bottom, then recorder and replay, then heatmap, then the application: cli, web); the
    product never imports demo; no import cycles among the web UI's modules. Imports inside
    functions and under `if TYPE_CHECKING:` count too."""
    result = run_tool("importlinter", "--no-cache", "--contract", contract,
                      code="import sys; from importlinter.cli import lint_imports_command as c; "
                           "sys.argv[0] = 'lint-imports'; c()")
    fail_unless(result.returncode == 0 and " 0 broken." in result.stdout,
                f"lint-imports --contract {contract}", result)


def test_ruff_finds_nothing():
    """`ruff check` with the rules and files pyproject.toml's [tool.ruff] names."""
    result = run_tool("ruff", "check", "--no-fix", "--output-format", "concise")
    fail_unless(result.returncode == 0, "ruff check", result)


def test_mypy_finds_nothing():
    """`mypy` over the product packages, with pyproject.toml's [tool.mypy] strictness."""
    result = run_tool("mypy")
    fail_unless(result.returncode == 0 and "Success: no issues found" in result.stdout, "mypy", result)
