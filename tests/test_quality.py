"""The package passes `mypy --strict` and `ruff` (the project's own standard)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_mypy_strict() -> None:
    proc = _tool("mypy", "--no-incremental")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff() -> None:
    lint = _tool("ruff", "check", "src", "tests", "benchmarks")
    assert lint.returncode == 0, lint.stdout
    fmt = _tool("ruff", "format", "--check", "src", "tests", "benchmarks")
    assert fmt.returncode == 0, fmt.stdout
