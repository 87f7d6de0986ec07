"""The Computer's API: languages by name, chunk framing, merging, caps, timeouts, custom languages."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import ClassVar

import pytest

from interpreter.execution.base import Language
from interpreter.execution.computer import Computer, UnknownLanguage
from interpreter.execution.languages import Python, Shell
from interpreter.execution.languages.output import OutputCap, omitted_line, output, strip_ansi
from interpreter.lmc import Chunk


class Echo(Language):
    """A user-defined language: prints its code back, line by line."""

    name: ClassVar[str] = "Echo"
    aliases: ClassVar[tuple[str, ...]] = ("repeat",)
    instances: ClassVar[list[Echo]] = []

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.terminated = False
        Echo.instances.append(self)

    def run(self, code: str) -> Iterator[Chunk]:
        if code.startswith("wait"):
            self.stop.clear()
            self.stop.wait(10)
            yield output("stopped\n" if self.stop.is_set() else "not stopped\n")
            return
        for number, line in enumerate(code.splitlines(), 1):
            yield {"type": "console", "format": "active_line", "content": number}
            yield output(line)
        yield {"type": "console", "format": "active_line", "content": None}

    def interrupt(self) -> None:
        self.stop.set()

    def terminate(self) -> None:
        self.terminated = True


@pytest.fixture
def computer() -> Iterator[Computer]:
    c = Computer()
    c.languages.append(Echo)
    yield c
    c.terminate()


def test_constructing_is_cheap_and_lazy() -> None:
    code = (
        "import sys; from interpreter.execution.computer import Computer; c = Computer(); "
        "c.get_language('python'); print('jupyter_client' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_languages_by_name_and_alias(computer: Computer) -> None:
    names = computer.language_names()
    assert names[:3] == ["python", "shell", "javascript"] and names[-1] == "echo"
    assert {"r", "ruby", "java", "html", "react", "powershell", "applescript"} <= set(names)
    assert computer.get_language("PY") is Python
    assert computer.get_language("python") is Python
    for name in ("shell", "bash", "sh", "zsh", "Bash"):
        assert computer.get_language(name) is Shell
    assert computer.get_language("repeat") is Echo
    assert computer.get_language("cobol") is None


def test_unknown_language(computer: Computer) -> None:
    with pytest.raises(UnknownLanguage, match="language cobol is not supported") as info:
        computer.stream("cobol", "x")
    assert isinstance(info.value, ValueError)
    with pytest.raises(ValueError):
        computer.run("cobol", "x")


def test_custom_language_streams_with_role(computer: Computer) -> None:
    chunks = list(computer.stream("repeat", "a\nb"))
    assert all(c["role"] == "computer" for c in chunks)
    assert [c["content"] for c in chunks] == [1, "a", 2, "b", None]


def test_run_merges_outputs_and_drops_active_lines(computer: Computer) -> None:
    assert computer.run("echo", "a\nb\nc") == [
        {"role": "computer", "type": "console", "format": "output", "content": "abc"}
    ]


def test_run_stream_returns_generator(computer: Computer) -> None:
    gen = computer.run("echo", "x", stream=True)
    assert not isinstance(gen, list)
    assert [c["content"] for c in gen] == [1, "x", None]


def test_display_prints_output(computer: Computer, capsys: pytest.CaptureFixture[str]) -> None:
    computer.run("echo", "hello\nworld", display=True)
    assert capsys.readouterr().out == "helloworld"


def test_one_instance_per_language_and_terminate(computer: Computer) -> None:
    Echo.instances.clear()
    computer.run("echo", "a")
    computer.run("repeat", "b")
    assert len(Echo.instances) == 1
    computer.terminate()
    assert Echo.instances[0].terminated
    computer.run("echo", "c")
    assert len(Echo.instances) == 2


def test_interrupt_from_another_thread(computer: Computer) -> None:
    threading.Timer(0.2, computer.interrupt).start()
    started = time.monotonic()
    assert computer.run("echo", "wait")[0]["content"] == "stopped\n"
    assert time.monotonic() - started < 5


def test_timeout_interrupts_and_says_so(computer: Computer) -> None:
    computer.timeout = 0.2
    text = computer.run("echo", "wait")[0]["content"]
    assert text.startswith("stopped\n")
    assert "Execution timed out after 0.2 s" in text
    assert "timed out" not in computer.run("echo", "quick")[0]["content"]


def test_custom_language_output_is_capped(computer: Computer) -> None:
    computer.max_output_bytes = 10
    text = computer.run("echo", "0123456\n789abcdef\nxyz")[0]["content"]
    assert text == "01234\n... 9 bytes omitted ...\nefxyz"  # head, omitted line, tail


def test_output_cap_counts_utf8_bytes_and_keeps_head_and_tail() -> None:
    cap = OutputCap(10)  # 5 bytes of head, 5 of tail
    kept = [cap.feed(output("héllo wörld")), cap.feed(output("!")), cap.feed(output(""))]
    assert kept[0] == output("héll")  # 5 bytes
    assert kept[1] is None and kept[2] is None
    image = {"type": "image", "format": "base64.png", "content": "x" * 100}
    assert cap.feed(image) is image
    end = list(cap.finish())
    # the tail is the last 5 bytes cut to whole characters: "rld!" (the "ö" did not fit)
    assert end == [output(omitted_line(5)), output("rld!")]
    assert len("héllo wörld!".encode()) == 5 + 5 + len(b"rld!")


def test_strip_ansi() -> None:
    assert strip_ansi("\x1b[31mError\x1b[0m: \x1b[1;32mok\x1b[39m") == "Error: ok"


def test_closing_a_stream_early_interrupts_the_code(computer: Computer) -> None:
    Echo.instances.clear()
    gen = computer.stream("echo", "a\nb")
    next(gen)
    gen.close()
    assert Echo.instances[0].stop.is_set()
