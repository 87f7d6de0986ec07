"""Long output keeps its head and its tail: the last lines (results, errors) reach the user
and the model, in every language, with memory bounded."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import make_interpreter, rss_kb, text, tool_messages
from interpreter.execution.computer import Computer
from interpreter.testing.fake_server import FakeModelServer, Reply

OMITTED = re.compile(r"\n\.\.\. (\d+) bytes omitted \.\.\.\n")


@pytest.fixture(scope="module")
def small() -> Iterator[Computer]:
    """A computer that keeps 2000 bytes per run: 1000 of head, 1000 of tail."""
    computer = Computer(max_output_bytes=2000)
    yield computer
    computer.terminate()


def _parts(out: str) -> tuple[str, int, str]:
    match = OMITTED.search(out)
    assert match is not None, out[:300]
    return out[: match.start()], int(match.group(1)), out[match.end() :]


def test_python_keeps_the_last_lines_and_the_traceback(small: Computer) -> None:
    code = "for i in range(20000):\n    print(i)\nprint('RESULT', 6 * 7)\n1 / 0"
    out = text(small.run("python", code))
    head, omitted, tail = _parts(out)
    assert head.startswith("0\n1\n2\n") and len(head.encode()) <= 1000
    assert "RESULT 42" in tail and "ZeroDivisionError" in tail
    assert len(tail.encode()) <= 1000
    total = sum(len(f"{i}\n") for i in range(20000)) + len("RESULT 42\n")
    assert len(head) + omitted + len(tail) > total  # the traceback counts too
    assert text(small.run("python", "print('small')")) == "small\n"


def test_python_last_expression_value_is_kept(small: Computer) -> None:
    out = text(small.run("python", "print('x' * 50_000)\nprint('LAST LINE')\n6 * 7"))
    _, omitted, tail = _parts(out)
    assert omitted > 40_000 and "LAST LINE" in tail and "42" in tail


def test_shell_keeps_the_final_lines_and_errors(small: Computer) -> None:
    code = "seq 1 100000; echo FINAL-LINE; ls /no/such/place"
    head, omitted, tail = _parts(text(small.run("shell", code)))
    assert head.startswith("1\n2\n3\n")
    assert "FINAL-LINE" in tail and "No such file or directory" in tail
    assert omitted > 500_000


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("javascript", "for (let i = 0; i < 100000; i++) console.log(i); console.log('JS-END')"),
        ("ruby", "100000.times { |i| puts i }; puts 'RB-END'"),
    ],
)
def test_repl_languages_keep_the_tail(small: Computer, language: str, code: str) -> None:
    needed = {"javascript": "node", "ruby": "ruby"}[language]
    if shutil.which(needed) is None:
        pytest.skip(f"{needed} is not installed")
    head, omitted, tail = _parts(text(small.run(language, code)))
    assert head.startswith("0\n1\n") and tail.rstrip().endswith("-END") and omitted > 0


def test_hundred_megabytes_keep_head_and_tail_in_bounded_memory() -> None:
    computer = Computer()  # the default: 1 MB per run
    try:
        before = rss_kb()
        out = text(computer.run("shell", "yes | head -c 100000000; echo THE-END"))
        python = text(computer.run("python", "print('x' * 100_000_000)\nprint('PY-END')"))
        growth_mb = (rss_kb() - before) / 1024
    finally:
        computer.terminate()
    for result, end in ((out, "THE-END"), (python, "PY-END")):
        head, omitted, tail = _parts(result)
        assert tail.rstrip().endswith(end) and omitted > 98_000_000
        assert len(head) + len(tail) <= 1_000_000
    assert growth_mb < 30


def test_the_model_sees_the_head_and_the_tail(server: FakeModelServer, config_dir: Path) -> None:
    # offload off: kept output has its own head+tail view (tests/test_offload.py)
    interp = make_interpreter(server, auto_run=True, max_output=200, offload_output=False)
    try:
        server.script(Reply.tool_call("shell", "seq 1 5000; echo DONE-42"), Reply.text("ok"))
        interp.chat("count", display=False)
    finally:
        interp.computer.terminate()
    sent = tool_messages(server.requests[1])[0]["content"]
    notice, _, body = sent.partition("\n\n")
    assert notice.startswith("Output truncated")
    assert body.startswith("1\n2\n3\n") and body.rstrip().endswith("DONE-42")
    assert "characters omitted" in body and len(body) <= 200
