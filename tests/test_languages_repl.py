"""JavaScript, Ruby and R through real persistent processes: state, streaming, errors, interrupts."""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass

import pytest

from helpers import text
from interpreter.execution.computer import Computer

pytestmark = pytest.mark.deadline(30)


@dataclass(frozen=True)
class Case:
    language: str
    executable: str
    define: str  # sets x to 41
    use: str  # shows x + 1
    shows: str  # what ``use`` prints
    streamed: str  # prints a, waits 0.5 s, prints b
    error: str  # raises "boom"
    busy: str  # loops forever
    exit: str  # ends the process


CASES = [
    Case(
        "javascript", "node", "var x = 41", "x + 1", "42\n",
        "console.log('a'); var t = Date.now(); while (Date.now() - t < 500) {}; console.log('b')",
        "throw new Error('boom')", "while (true) {}", "process.exit(3)",
    ),
    Case(
        "ruby", "ruby", "x = 41", "puts x + 1", "42\n",
        "puts 'a'; sleep 0.5; puts 'b'", "raise 'boom'", "loop {}", "exit 3",
    ),
    Case(
        "r", "Rscript", "x <- 41", "x + 1", "[1] 42\n",
        "cat('a\\n'); Sys.sleep(0.5); cat('b\\n')", "stop('boom')", "while (TRUE) {}",
        "q(status = 3)",
    ),
]  # fmt: skip


@pytest.fixture(params=CASES, ids=[c.language for c in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    case: Case = request.param
    if shutil.which(case.executable) is None:
        pytest.skip(f"{case.executable} is not installed (CI installs it)")
    return case


def run(computer: Computer, language: str, code: str) -> str:
    return text(computer.run(language, code))


def test_state_persists(computer: Computer, case: Case) -> None:
    run(computer, case.language, case.define)
    assert run(computer, case.language, case.use) == case.shows


def test_output_streams_in_order(computer: Computer, case: Case) -> None:
    seen: dict[str, float] = {}
    start = time.monotonic()
    chunks = []
    for chunk in computer.stream(case.language, case.streamed):
        chunks.append(chunk)
        if chunk["format"] == "output":
            for line in chunk["content"].split():
                seen.setdefault(line, time.monotonic() - start)
    assert list(seen) == ["a", "b"]
    assert seen["b"] - seen["a"] > 0.35, seen
    assert chunks[-1]["format"] == "active_line" and chunks[-1]["content"] is None


def test_errors_are_output_and_the_state_survives(computer: Computer, case: Case) -> None:
    run(computer, case.language, case.define)
    assert "boom" in run(computer, case.language, case.error)
    assert run(computer, case.language, case.use) == case.shows


def test_interrupt_stops_a_busy_loop_and_keeps_state(computer: Computer, case: Case) -> None:
    run(computer, case.language, case.define)
    threading.Timer(0.5, computer.interrupt).start()
    started = time.monotonic()
    run(computer, case.language, case.busy)
    assert time.monotonic() - started < 5
    assert run(computer, case.language, case.use) == case.shows


def test_timeout_interrupts(computer: Computer, case: Case) -> None:
    computer.timeout = 0.5
    try:
        out = run(computer, case.language, case.busy)
    finally:
        computer.timeout = None
    assert "Execution timed out after 0.5 s" in out
    run(computer, case.language, case.define)
    assert run(computer, case.language, case.use) == case.shows


def test_exit_restarts_with_a_notice(computer: Computer, case: Case) -> None:
    out = run(computer, case.language, case.exit)
    assert "exited; its state was lost" in out
    run(computer, case.language, case.define)
    assert run(computer, case.language, case.use) == case.shows


def test_abandoned_run_does_not_leak_into_the_next(computer: Computer, case: Case) -> None:
    run(computer, case.language, case.define)
    gen = computer.stream(case.language, case.streamed)
    for chunk in gen:
        if chunk["format"] == "output" and "a" in chunk["content"]:
            break
    gen.close()
    assert run(computer, case.language, case.use) == case.shows


def test_stdin_is_empty(computer: Computer, case: Case) -> None:
    reads = {
        "javascript": "require('fs').readFileSync(0, 'utf8').length",
        "ruby": "puts STDIN.read.size",
        "r": "readLines(file('stdin'))",
    }
    started = time.monotonic()
    out = run(computer, case.language, reads[case.language])
    assert time.monotonic() - started < 2
    assert out in ("0\n", '""\n', "character(0)\n"), out


def test_output_is_capped(case: Case) -> None:
    flood = {
        "javascript": "for (let i = 0; i < 200000; i++) console.log('y'.repeat(50))",
        "ruby": "200000.times { puts 'y' * 50 }",
        "r": "for (i in 1:50000) cat(strrep('y', 50), '\\n')",
    }
    computer = Computer(max_output_bytes=1000)
    try:
        out = run(computer, case.language, flood[case.language])
        assert " bytes omitted ...\n" in out
        assert len(out) < 1100
    finally:
        computer.terminate()


def test_warm_javascript_round_trip_is_fast(computer: Computer) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed (CI installs it)")
    run(computer, "js", "1")
    best = min(_timed(lambda: run(computer, "node", "1 + 1")) for _ in range(5))
    print(f"warm node round trip: {best * 1000:.1f} ms")
    assert best < 0.05


def _timed(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def test_r_marks_each_top_level_line(computer: Computer) -> None:
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed (CI installs it)")
    chunks = list(computer.stream("r", "a <- 1\n\nb <- 2\nprint(a + b)"))
    lines = [c["content"] for c in chunks if c["format"] == "active_line"]
    assert lines == [1, 3, 4, None]
