"""The model going round in circles: the same code, or the same error, ``max_repeats``
times in a row. Under auto_run the turn stops (stop_reason ``repeating``); otherwise the
next code is asked about, even code an allow rule would let run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import make_interpreter
from interpreter import OpenInterpreter
from interpreter.core.guardrails import error_line
from interpreter.testing.fake_server import FakeModelServer, Reply


@pytest.fixture
def interp(server: FakeModelServer, config_dir: Path) -> Iterator[OpenInterpreter]:
    it = make_interpreter(server, auto_run=True)
    yield it
    it.computer.terminate()


def notices(chunks: list[dict[str, object]]) -> list[str]:
    return [str(c["content"]) for c in chunks if c.get("recipient") == "user" and "content" in c]


def test_the_same_failing_code_three_times_stops_an_auto_run_turn(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(*[Reply.tool_call("python", "1/0") for _ in range(5)])
    chunks = list(interp.chat("divide", display=False, stream=True))
    assert interp.stop_reason == "repeating"
    assert len(server.requests) == 3  # stopped before asking the model a fourth time
    (notice,) = notices(chunks)
    assert "the same code 3 times in a row" in notice and "max_repeats" in notice


def test_the_same_error_from_different_code_stops_too(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    codes = ["nosuchtool", "nosuchtool --version", "nosuchtool -h", "nosuchtool x"]
    server.script(*[Reply.tool_call("shell", code) for code in codes])
    chunks = list(interp.chat("run the tool", display=False, stream=True))
    assert interp.stop_reason == "repeating" and len(server.requests) == 3
    assert "the same error came 3 times in a row" in notices(chunks)[0]
    assert "command not found" in notices(chunks)[0]


def test_different_errors_and_changing_code_go_on(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(
        Reply.tool_call("python", "1/0"),
        Reply.tool_call("python", "undefined_name"),
        Reply.tool_call("python", "int('x')"),
        Reply.tool_call("python", "print('fixed')"),
        Reply.text("Done."),
    )
    interp.chat("try things", display=False)
    assert interp.stop_reason == "done" and len(server.requests) == 5


def test_without_auto_run_the_next_code_is_asked_about_even_when_allowed(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.auto_run = False
    interp.permissions = {"allow": [{"language": "shell", "command": "ls *"}]}
    server.script(*[Reply.tool_call("shell", "ls /nonexistent-dir") for _ in range(4)])
    chunks = list(interp.chat("list it", display=False, stream=True))
    confirmations = [c for c in chunks if c.get("type") == "confirmation"]
    assert len(confirmations) == 1  # the three allowed runs were not asked about
    assert any("asking before the next code runs" in n for n in notices(chunks))
    assert interp.stop_reason == "declined"  # nobody answered: declined, as always


def test_max_repeats_zero_never_stops(server: FakeModelServer, interp: OpenInterpreter) -> None:
    interp.max_repeats = 0
    server.script(*[Reply.tool_call("python", "1/0") for _ in range(4)], Reply.text("I give up."))
    interp.chat("divide", display=False)
    assert interp.stop_reason == "done" and len(server.requests) == 5


@pytest.mark.parametrize(
    ("output", "line"),
    [
        ("Traceback (most recent call last):\n  ...\nZeroDivisionError: division by zero\n",
         "ZeroDivisionError: division by zero"),
        ("bash: line 1: foo: command not found\n", "bash: line 1: foo: command not found"),
        ("cat: x: No such file or directory\n", "cat: x: No such file or directory"),
        ("fatal: not a git repository\n", "fatal: not a git repository"),
        ("3 files copied\n", None),
        ("", None),
    ],
)  # fmt: skip
def test_error_lines(output: str, line: str | None) -> None:
    assert error_line(output) == line
