"""Shell through a real persistent bash: state, streaming, stdin, interrupts, caps, cleanup."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from helpers import alive, best_round_trip, rss_kb, text
from interpreter.execution.computer import Computer
from interpreter.execution.languages import Shell

pytestmark = pytest.mark.deadline(30)

RESTARTED = "The shell was restarted"


def sh(computer: Computer, code: str) -> str:
    return text(computer.run("shell", code))


def test_cwd_and_variables_persist_across_aliases(computer: Computer, tmp_path: Path) -> None:
    assert sh(computer, f"cd {tmp_path}; greeting=hi; export SHARED=yes") == ""
    assert text(computer.run("bash", "pwd; echo $greeting $SHARED")) == f"{tmp_path}\nhi yes\n"
    assert text(computer.run("sh", "echo $greeting")) == "hi\n"


def test_stdout_stderr_and_no_trailing_artifacts(computer: Computer) -> None:
    assert sh(computer, "echo out; echo err >&2") == "out\nerr\n"
    assert sh(computer, "printf 'no newline'") == "no newline"
    assert sh(computer, "true") == ""


def test_active_line_ends_with_none(computer: Computer) -> None:
    chunks = list(computer.stream("shell", "echo x"))
    assert chunks[-1]["format"] == "active_line" and chunks[-1]["content"] is None


def test_output_streams_line_by_line(computer: Computer) -> None:
    seen: dict[str, float] = {}
    start = time.monotonic()
    for chunk in computer.stream("shell", "echo a; sleep 0.5; echo b"):
        if chunk["format"] == "output":
            for line in chunk["content"].split():
                seen.setdefault(line, time.monotonic() - start)
    assert seen["b"] - seen["a"] > 0.35, seen


def test_reading_input_does_not_hang(computer: Computer) -> None:
    started = time.monotonic()
    assert sh(computer, 'read answer; echo "got [$answer]"; cat; echo end') == "got []\nend\n"
    assert time.monotonic() - started < 2


def test_syntax_error_does_not_hang(computer: Computer) -> None:
    out = sh(computer, 'echo "unclosed')
    assert "unexpected EOF" in out
    assert sh(computer, "echo fine") == "fine\n"


def test_exit_status_is_recorded(computer: Computer) -> None:
    sh(computer, "false")
    runtime = computer._instances[Shell]
    assert isinstance(runtime, Shell)
    assert runtime.last_exit_status == 1
    sh(computer, "(exit 7)")
    assert runtime.last_exit_status == 7


def test_interrupt_sleep_keeps_cwd_variables_functions(computer: Computer, tmp_path: Path) -> None:
    sh(computer, f"cd {tmp_path}; kept=value; hello() {{ echo hello; }}")
    threading.Timer(0.5, computer.interrupt).start()
    started = time.monotonic()
    out = sh(computer, "echo start; sleep 100; echo after")
    assert time.monotonic() - started < 5
    assert out.startswith("start\n") and "after" not in out
    assert RESTARTED in out
    assert sh(computer, "pwd; echo $kept; hello") == f"{tmp_path}\nvalue\nhello\n"


def test_interrupt_busy_loop(computer: Computer) -> None:
    sh(computer, "loop_state=1")
    threading.Timer(0.5, computer.interrupt).start()
    started = time.monotonic()
    sh(computer, "while true; do :; done")
    assert time.monotonic() - started < 5
    assert sh(computer, "echo $loop_state") == "1\n"


def test_timeout(computer: Computer) -> None:
    computer.timeout = 0.5
    try:
        out = sh(computer, "sleep 30")
    finally:
        computer.timeout = None
    assert "Execution timed out after 0.5 s" in out
    assert sh(computer, "echo ok") == "ok\n"


def test_exit_restarts_the_shell(computer: Computer) -> None:
    out = sh(computer, "echo bye; exit 3")
    assert out.startswith("bye\n") and RESTARTED in out
    assert sh(computer, "echo again") == "again\n"


def test_huge_output_is_capped_without_memory_growth(computer: Computer) -> None:
    before = rss_kb()
    started = time.monotonic()
    out = sh(computer, "yes | head -c 100000000")
    elapsed = time.monotonic() - started
    growth_mb = (rss_kb() - before) / 1024
    print(f"100 MB shell output: {elapsed:.2f} s, RSS growth {growth_mb:.1f} MB")
    assert out.startswith("y\ny\n")
    assert f"\n... {100_000_000 - 1_000_000} bytes omitted ...\n" in out
    assert growth_mb < 30


def test_warm_round_trip_is_fast(computer: Computer) -> None:
    sh(computer, "echo warm")
    best = best_round_trip(computer, "shell", "echo hi", runs=5)
    print(f"warm shell round trip: {best * 1000:.1f} ms (Open Interpreter 0.4.3: 1101 ms)")
    assert best < 0.1


def test_terminate_leaves_no_processes() -> None:
    computer = Computer()
    out = sh(computer, "sleep 100 & echo $!; echo $$")
    child, bash = (int(v) for v in out.split())
    assert alive(child) and alive(bash)
    computer.terminate()
    assert not alive(bash)
    deadline = time.monotonic() + 2
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(child)
    assert sh(computer, "echo fresh; echo ${kept:-unset}") == "fresh\nunset\n"
    computer.terminate()


def test_abandoned_run_does_not_leak_into_the_next(computer: Computer) -> None:
    gen = computer.stream("shell", "echo first; sleep 30; echo late")
    for chunk in gen:
        if chunk["format"] == "output" and "first" in chunk["content"]:
            break
    gen.close()
    started = time.monotonic()
    assert sh(computer, "echo next") == "next\n"
    assert time.monotonic() - started < 5
