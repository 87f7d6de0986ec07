"""Peak memory: ``ru_maxrss`` of the Python process after a 20-turn execute-then-answer
conversation (see bench_conversation.py), ours against Open Interpreter 0.4.3. Kernels and
shells run in other processes and are not counted."""

from __future__ import annotations

import bench_conversation
import common
from common import Options, Row


def collect(opts: Options) -> list[Row]:
    turns = bench_conversation.turns_for(opts)
    results, _ = bench_conversation.run_sides(opts, turns)
    return [bench_conversation.memory_row(results, turns)]


if __name__ == "__main__":
    raise SystemExit(common.main_for(collect, __doc__ or ""))
