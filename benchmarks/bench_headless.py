"""Headless runs of the CLI, ours against Open Interpreter 0.4.3: ours is
``interpreter -p TASK --output-format stream-json``, 0.4.3's is ``interpreter --stdin``
with the task on standard input (its only way to run a task from a script). Measured from
starting the process: the first line of output (ours: the stream-json ``init`` event;
0.4.3: its first byte of output), the first piece of the model's reply, and the exit.
Best of N runs each, against the same scripted fake model server (a one-line reply)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import common
from common import OURS, PEER, Measure, Options, Row

TASK = "Say hello."
REPLY = "Hello from the fake model."


def command(side: str, opts: Options, url: str) -> list[str] | None:
    python = common.side_python(side, opts)
    if python is None:
        return None
    script = Path(python).parent / "interpreter"
    head = [str(script)] if script.exists() else [python, "-m", "interpreter"]
    model = ["--api_base", url, "--model", "gpt-4o", "--api_key", "x"]
    if side == OURS:
        return [*head, "-p", TASK, "--output-format", "stream-json", *model]
    return [*head, "--stdin", *model]


def timed_run(argv: list[str], side: str, limit: float) -> dict[str, float] | Measure:
    """One run: seconds to the first output, to the reply's first piece, to the exit."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=common.worker_env(side),
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"" if side == OURS else TASK.encode() + b"\n")
    proc.stdin.close()
    seen, times = b"", {}
    reply_mark = b'"role": "assistant"' if side == OURS else REPLY[:5].encode()
    try:
        while True:
            data = os.read(proc.stdout.fileno(), 65536)
            now = time.perf_counter() - started
            if not data:
                break
            seen += data
            times.setdefault("first_output", now)
            if reply_mark in seen:
                times.setdefault("first_reply", now)
            if now > limit:
                return Measure.timeout(limit)
        proc.wait(timeout=max(limit - (time.perf_counter() - started), 1))
    except subprocess.TimeoutExpired:
        return Measure.timeout(limit)
    finally:
        proc.kill()
        proc.wait()
    times["exit"] = time.perf_counter() - started
    if "first_reply" not in times:
        return Measure.failed(f"error: no reply (exit {proc.returncode})")
    return times


def best_of(side: str, opts: Options, url: str, runs: int) -> dict[str, Measure]:
    keys = ("first_output", "first_reply", "exit")
    argv = command(side, opts, url)
    if argv is None:
        return {k: Measure.failed("skipped") for k in keys}
    best: dict[str, float] = {}
    for _ in range(runs):
        result = timed_run(argv, side, opts.timeout)
        if isinstance(result, Measure):
            return {k: result for k in keys}
        for key in keys:
            best[key] = min(best.get(key, result[key]), result[key])
    return {k: Measure(best[k]) for k in keys}


def collect(opts: Options) -> list[Row]:
    fake = common.fake_server_module()
    with fake.FakeModelServer(responder=lambda _r: fake.Reply.text(REPLY)) as server:
        ours = best_of(OURS, opts, server.url, 1 if opts.quick else 7)
        peer = best_of(PEER, opts, server.url, 1 if opts.quick else 3)
    return [
        Row("headless: first event / output", "s", ours["first_output"], peer["first_output"],
            "< 100 ms", limit=0.1),
        Row("headless: first reply chunk", "s", ours["first_reply"], peer["first_reply"]),
        Row("headless: task done, process exited", "s", ours["exit"], peer["exit"]),
    ]  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(common.main_for(collect, __doc__ or ""))
