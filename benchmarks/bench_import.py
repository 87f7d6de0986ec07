"""Import time: wall time of ``python -c "import interpreter"`` (and of importing the
default instance), best of N fresh processes, ours against Open Interpreter 0.4.3."""

from __future__ import annotations

import subprocess
import time

import common
from common import OURS, PEER, Measure, Options, Row

STATEMENTS = {
    "import interpreter": "import interpreter",
    "from interpreter import interpreter": "from interpreter import interpreter",
}


def best_wall_time(side: str, opts: Options, statement: str, runs: int) -> Measure:
    """The fastest of ``runs`` fresh ``python -c statement`` processes (wall seconds)."""
    python = common.side_python(side, opts)
    if python is None:
        return Measure.failed("skipped")
    env = common.worker_env(side)
    times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [python, "-c", statement], env=env, capture_output=True, timeout=opts.timeout
            )
        except subprocess.TimeoutExpired:
            return Measure.timeout(opts.timeout)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            last = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
            return Measure.failed("error: " + (last[0][:60] if last else "failed"))
        times.append(elapsed)
    return Measure(min(times))


def bare_python(side: str, opts: Options, runs: int) -> Measure:
    return best_wall_time(side, opts, "pass", runs)


def collect(opts: Options) -> list[Row]:
    runs = 2 if opts.quick else 7
    peer_runs = 2 if opts.quick else 3
    rows = []
    for label, statement in STATEMENTS.items():
        ours = best_wall_time(OURS, opts, statement, runs)
        peer = best_wall_time(PEER, opts, statement, peer_runs)
        rows.append(Row(f"{label} (best of N)", "s", ours, peer, "< 150 ms", limit=0.150))
    ours_bare, peer_bare = bare_python(OURS, opts, runs), bare_python(PEER, opts, peer_runs)
    rows.append(Row("python -c pass (baseline)", "s", ours_bare, peer_bare))
    return rows


if __name__ == "__main__":
    raise SystemExit(common.main_for(collect, __doc__ or ""))
