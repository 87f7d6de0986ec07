"""Checkpoints: what a snapshot of the working folder adds to a run.

A 2 000-file / 50 MB tree (1 990 small files in 20 folders and 10 files of 5 MB). The
first snapshot hashes it all; later ones only stat it (git's index). Measured: the first
snapshot, a later one with nothing changed and one after a run changed a few files, a bare
``interpreter.computer.run("python", "x = 1")`` (warm kernel) and the same run with its
snapshot before it, as the turn does it. Medians of warm repeats; targets: the first under
2 s, later ones under 30 ms. No peer has checkpoints (Open Interpreter 0.4.3 undoes
messages only): absolute figures and the ratio to the bare run.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import common
from common import OURS, Measure, Options, Row

NO_PEER = "no checkpoints"


def _tree(root: Path, small: int, big: int) -> None:
    for i in range(small):
        folder = root / f"d{i % 20}"
        folder.mkdir(exist_ok=True)
        (folder / f"f{i}.txt").write_text(f"file {i}\n" * 20)
    blob = os.urandom(5 * 1024 * 1024)
    for i in range(big):
        (root / f"big{i}.bin").write_bytes(blob[i:] + blob[:i])


def _timed(call: Any, iters: int) -> float:
    times = []
    for _ in range(iters):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return common.median(times)


def worker(side: str, rest: list[str]) -> dict[str, Any]:
    from interpreter import OpenInterpreter
    from interpreter.store.checkpoints import CheckpointStore

    small, big, iters = (int(x) for x in rest)
    with tempfile.TemporaryDirectory() as tmp:
        work, store_dir = Path(tmp, "work"), Path(tmp, "store.git")
        work.mkdir()
        _tree(work, small, big)
        os.chdir(work)
        store = CheckpointStore(store_dir, work)
        started = time.perf_counter()
        store.snapshot("first", "python")
        first = time.perf_counter() - started
        unchanged = _timed(lambda: store.snapshot("again", "python"), iters)
        counter = iter(range(10**6))

        def changed() -> None:
            n = next(counter)
            (work / "d1" / f"f{n % 5}.txt").write_text(f"changed {n}\n")
            store.snapshot("after a change", "python")

        after_change = _timed(changed, iters)
        interp = OpenInterpreter(load_profile=False)
        try:
            interp.computer.run("python", "x = 1")  # warm kernel
            bare = _timed(lambda: interp.computer.run("python", "x = 1"), iters)

            def with_snapshot() -> None:
                store.snapshot("x = 1", "python")
                interp.computer.run("python", "x = 1")

            checked = _timed(with_snapshot, iters)
        finally:
            interp.computer.terminate()
    return {"first": first, "unchanged": unchanged, "changed": after_change, "bare": bare,
            "checked": checked, "added": checked - bare}  # fmt: skip


def collect(opts: Options) -> list[Row]:
    small, big, iters = (190, 1, 5) if opts.quick else (1990, 10, 30)
    args = [str(small), str(big), str(iters)]
    result = common.run_worker(OURS, opts, "bench_checkpoints.py", args, 600)
    peer = Measure.failed("skipped" if opts.no_peer else NO_PEER)

    def row(key: str, label: str, target: str = "", limit: float | None = None) -> Row:
        return Row(label, "ms", common.pick(result, key), peer, target=target, limit=limit)

    tree = f"{small + big} files, {big * 5} MB"
    return [
        row("first", f"first snapshot ({tree})", "< 2 s", 2.0),
        row("unchanged", "later snapshot, nothing changed", "< 30 ms", 0.030),
        row("changed", "later snapshot, a file changed", "< 30 ms", 0.030),
        row("bare", "computer.run('python', 'x = 1'), warm"),
        row("checked", "the same run with its snapshot before it"),
        row("added", "added by the checkpoint", "< 30 ms", 0.030),
    ]


if __name__ == "__main__":
    raise SystemExit(common.main_for(collect, __doc__ or "", worker))
