"""Python through a real Jupyter kernel: state, streaming, rich output, errors, interrupts, caps."""

from __future__ import annotations

import base64
import os
import threading
import time
from pathlib import Path

import pytest

from helpers import (
    IGNORES_INTERRUPTS,
    best_round_trip,
    check_interrupt_from_the_streaming_thread,
    rss_kb,
    text,
)
from interpreter.execution.computer import Computer
from interpreter.execution.languages import Python

pytestmark = pytest.mark.deadline(60)

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32).decode()


def run(computer: Computer, code: str) -> str:
    return text(computer.run("python", code))


def test_state_persists_and_results_show(computer: Computer) -> None:
    assert run(computer, "x = 41\nprint('set')") == "set\n"
    assert run(computer, "x + 1") == "42\n"
    assert (
        run(
            computer,
            "py_x = x",
        )
        == ""
    )
    assert text(computer.run("py", "print(py_x)")) == "41\n"


def test_kernel_runs_in_our_cwd(computer: Computer) -> None:
    assert run(computer, "import os; print(os.getcwd())") == os.getcwd() + "\n"


def test_output_streams_as_produced(computer: Computer) -> None:
    code = "import time\nprint('a', flush=True)\ntime.sleep(0.6)\nprint('b')"
    seen: dict[str, float] = {}
    start = time.monotonic()
    for chunk in computer.stream("python", code):
        if chunk["format"] == "output":
            seen.setdefault(chunk["content"].strip(), time.monotonic() - start)
    assert seen["b"] - seen["a"] > 0.4, seen


def test_active_lines_hidden_markers(computer: Computer) -> None:
    code = "def f():\n    '''doc'''\n    return 3\nfor i in range(2):\n    print(f())\nprint(f.__doc__)"
    chunks = list(computer.stream("python", code))
    lines = [c["content"] for c in chunks if c["format"] == "active_line"]
    assert lines[0] == 1 and lines[-1] is None
    assert {4, 5, 6, 3} <= set(lines)
    assert text(chunks) == "3\n3\ndoc\n"
    assert "\x02" not in text(chunks)
    # Functions defined earlier still print no markers when called later.
    assert run(computer, "print(f())") == "3\n"


def test_future_import_first_is_fine(computer: Computer) -> None:
    assert run(computer, "from __future__ import annotations\nprint('ok')") == "ok\n"


def test_errors_show_plain_traceback_with_user_line_numbers(computer: Computer) -> None:
    out = run(computer, "a = 1\n\n1/0")
    assert "ZeroDivisionError" in out
    assert "line 3" in out
    assert "\x1b[" not in out
    assert "<interpreter>" not in out


def test_syntax_error_is_output(computer: Computer) -> None:
    assert "SyntaxError" in run(computer, "def (:")


def test_images_and_html(computer: Computer) -> None:
    code = (
        "from IPython.display import display, HTML\n"
        f"display({{'image/png': '{PNG}', 'text/plain': 'img'}}, raw=True)\n"
        f"display({{'image/jpeg': '{PNG}'}}, raw=True)\n"
        "display(HTML('<b>bold</b>'))"
    )
    chunks = [c for c in computer.run("python", code) if c["type"] != "console"]
    assert chunks == [
        {"role": "computer", "type": "image", "format": "base64.png", "content": PNG},
        {"role": "computer", "type": "image", "format": "base64.jpeg", "content": PNG},
        {"role": "computer", "type": "code", "format": "html", "content": "<b>bold</b>"},
    ]


def test_interrupt_stops_infinite_loop_and_keeps_state(computer: Computer) -> None:
    run(computer, "kept = 'yes'")
    threading.Timer(0.5, computer.interrupt).start()
    started = time.monotonic()
    out = run(computer, "while True: pass")
    assert time.monotonic() - started < 5
    assert "KeyboardInterrupt" in out
    assert "<interpreter>" not in out
    assert run(computer, "print(kept)") == "yes\n"


def test_timeout_keeps_state(computer: Computer) -> None:
    run(computer, "before = 7")
    computer.timeout = 0.5
    try:
        started = time.monotonic()
        out = run(computer, "import time\nwhile True: time.sleep(0.01)")
        assert time.monotonic() - started < 5
    finally:
        computer.timeout = None
    assert "Execution timed out after 0.5 s" in out
    assert run(computer, "print(before)") == "7\n"


def test_huge_output_is_capped_without_memory_growth(computer: Computer) -> None:
    before = rss_kb()
    started = time.monotonic()
    out = run(computer, "print('x' * 100_000_000)")
    elapsed = time.monotonic() - started
    growth_mb = (rss_kb() - before) / 1024
    print(f"100 MB print: {elapsed:.2f} s, RSS growth {growth_mb:.1f} MB")
    assert out.startswith("x" * 1000)
    assert f"\n... {100_000_001 - 1_000_000} bytes omitted ...\n" in out
    assert len(out) < 1_000_100
    assert growth_mb < 30


def test_cap_is_configurable(computer: Computer) -> None:
    computer.max_output_bytes = 10
    try:
        out = run(computer, "print('abcdefghijklmnop')\n1/0")
    finally:
        computer.max_output_bytes = 1_000_000
    assert out.startswith("abcde\n... ") and out.endswith("zero\n")  # "... by zero"
    assert run(computer, "print('z' * 20)") == "z" * 20 + "\n"


def test_warm_round_trip_is_fast(computer: Computer) -> None:
    run(computer, "x = 1")
    best = best_round_trip(computer, "python", "x = 1", runs=5)
    print(f"warm python round trip: {best * 1000:.1f} ms (Open Interpreter 0.4.3: 602 ms)")
    assert best < 0.1


def test_kernel_death_restarts_with_notice_and_terminate_leaves_nothing() -> None:
    computer = Computer()
    try:
        run(computer, "lost = 1")
        runtime = computer._instances[Python]
        assert isinstance(runtime, Python)
        first_pid = runtime.pid
        out = run(computer, "import os; os._exit(1)")
        assert "The Python kernel died and was restarted; its state was lost." in out
        assert "NameError" in run(computer, "lost")
        assert runtime.pid != first_pid
        pid = runtime.pid
        assert pid is not None and os.path.exists(f"/proc/{pid}")
    finally:
        computer.terminate()
    assert not os.path.exists(f"/proc/{pid}")
    assert run(computer, "print('fresh')") == "fresh\n"
    computer.terminate()


def test_code_ignoring_interrupts_gets_its_kernel_restarted() -> None:
    computer = Computer()
    try:
        run(computer, "doomed = 1")
        threading.Timer(0.3, computer.interrupt).start()
        started = time.monotonic()
        out = run(computer, IGNORES_INTERRUPTS)
        assert time.monotonic() - started < 15
        assert out.startswith("ignored\n")
        assert "did not stop when interrupted, so it was restarted" in out
        assert "NameError" in run(computer, "doomed")
    finally:
        computer.terminate()


def test_an_interrupt_from_the_streaming_thread_restarts_stuck_code() -> None:
    computer = Computer()
    try:
        check_interrupt_from_the_streaming_thread(computer)
    finally:
        computer.terminate()


def test_kernel_leaves_no_files_in_the_working_directory(tmp_path: Path) -> None:
    before = os.getcwd()
    os.chdir(tmp_path)
    try:
        computer = Computer()
        try:
            assert computer.run("python", "print(1 + 1)")[0]["content"] == "2\n"
            assert list(tmp_path.iterdir()) == []
        finally:
            computer.terminate()
    finally:
        os.chdir(before)
