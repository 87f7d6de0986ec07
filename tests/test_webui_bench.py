"""``benchmarks/bench_ui.py`` still runs (``--quick``: a 20 KB reply, 3 page loads) and
measures every figure in the browser."""

from __future__ import annotations

import pytest

from test_benchmarks_smoke import FIGURE, run_quick, table_rows

pytestmark = pytest.mark.deadline(200)


def test_ui_benchmark_measures_paint_and_long_tasks() -> None:
    rows = table_rows(run_quick("bench_ui.py", timeout=180))
    for metric in (
        "UI first contentful paint (median of 3)",
        "20 KB reply in 4-char chunks: send to rendered",
        "longest main-thread task (longtask)",
        "longest gap between animation frames",
    ):
        assert FIGURE.fullmatch(rows[metric][0]), (metric, rows)
    assert all(cells[1] == "no web UI" for cells in rows.values()), rows
