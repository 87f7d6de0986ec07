"""Run every benchmark (ours against Open Interpreter 0.4.3) and print one summary table.

Options as for each benchmark: ``--quick`` (tiny sizes), ``--no-peer`` (our side only),
``--markdown`` (a table for the README), ``--timeout S`` (cap on one 0.4.3 run),
``--profile`` (cProfile of our workers). The full run takes about 11 minutes on 2 cores.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import bench_checkpoints
import bench_computer
import bench_context
import bench_conversation
import bench_gateway
import bench_headless
import bench_import
import bench_mcp
import bench_startup
import bench_stream
import bench_terminal
import bench_ui
import common
from common import Options, Row

BENCHMARKS: list[tuple[str, Callable[[Options], list[Row]]]] = [
    ("import", bench_import.collect),
    ("computer", bench_computer.collect),
    ("conversation + memory", bench_conversation.collect),  # its rows include peak memory
    ("stream", bench_stream.collect),
    ("context fitting", bench_context.collect),
    ("cli startup + render", bench_startup.collect),
    ("headless (stream-json vs --stdin)", bench_headless.collect),
    ("terminal responsiveness", bench_terminal.collect),
    ("remote kernel (gateway)", bench_gateway.collect),
    ("MCP tool round trips", bench_mcp.collect),
    ("Checkpoints of the working folder", bench_checkpoints.collect),
    ("web UI in Chromium", bench_ui.collect),
]


def collect(opts: Options) -> list[Row]:
    rows: list[Row] = []
    for name, bench in BENCHMARKS:
        started = time.perf_counter()
        print(f"running {name} ...", flush=True)
        try:
            rows += bench(opts)
        except Exception as err:  # one broken benchmark must not hide the others
            note = f"error: {type(err).__name__}: {err}"[:70]
            rows.append(Row(name, "s", common.Measure.failed(note), common.Measure.failed("-")))
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    return rows


def main() -> int:
    return common.main_for(collect, __doc__ or "")


if __name__ == "__main__":
    sys.exit(main())
