"""The benchmark scripts still run: each in ``--quick --no-peer`` mode (our side only,
tiny sizes; no Open Interpreter 0.4.3 needed), printing a table with real figures."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPTS = [
    "bench_import.py", "bench_computer.py", "bench_conversation.py", "bench_stream.py",
    "bench_headless.py", "bench_context.py", "bench_mcp.py", "bench_checkpoints.py",
]  # fmt: skip
FIGURE = re.compile(r"\d+(\.\d+)? (ms|s|MB)")


def run_quick(script: str, timeout: float = 120) -> str:
    env = dict(os.environ, BENCH_NO_PEER="1", OI_VENV="/nonexistent-peer-venv")
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", "--no-peer"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=BENCHMARKS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def table_rows(output: str) -> dict[str, list[str]]:
    """metric -> [ours, peer, ...] from the printed table (columns split on 2+ spaces)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("metric"))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.strip() or line.startswith("("):
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells[1:]
    return rows


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_runs_our_side(script: str) -> None:
    rows = table_rows(run_quick(script))
    assert rows, "no table printed"
    ours = [cells[0] for cells in rows.values()]
    assert not [c for c in ours if c.startswith("error")], rows
    assert any(FIGURE.fullmatch(c) for c in ours), rows
    assert all(cells[1] in ("skipped", "(shared)", "-") for cells in rows.values()), rows


def test_import_figure_is_measured() -> None:
    rows = table_rows(run_quick("bench_import.py"))
    figure = rows["import interpreter (best of N)"][0]
    assert FIGURE.fullmatch(figure), figure


def test_cli_benchmark_runs_our_side() -> None:
    pytest.importorskip("pexpect")
    rows = table_rows(run_quick("bench_startup.py"))
    assert FIGURE.fullmatch(rows["CLI start to prompt (pty)"][0]), rows
    assert FIGURE.fullmatch(rows["render 2 KB reply in pty"][0]), rows


def test_terminal_benchmark_runs_our_side() -> None:
    pytest.importorskip("pexpect")
    rows = table_rows(run_quick("bench_terminal.py"))
    for metric in (
        "Enter to first reply text (pty)",
        "2 KB reply on screen, after its last byte",
        "first code run: wait (pty, -y)",
    ):
        assert FIGURE.fullmatch(rows[metric][0]), rows
