"""Shared test helpers: an interpreter wired to the fake model server, chunk and process probes."""

from __future__ import annotations

import time
from typing import Any

from interpreter import OpenInterpreter
from interpreter.execution.computer import Computer
from interpreter.lmc import Chunk
from interpreter.testing.fake_server import FakeModelServer


def make_interpreter(server: FakeModelServer, **settings: Any) -> OpenInterpreter:
    interp = OpenInterpreter(load_profile=False)
    interp.llm.model = "gpt-4o"
    interp.llm.api_base = server.url
    interp.llm.api_key = "sk-test-secret"
    for key, value in settings.items():
        setattr(interp, key, value)
    return interp


def blocks(chunks: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    """The (flag, role/type, format) framing events of a chunk stream."""
    out = []
    for chunk in chunks:
        for flag in ("start", "end"):
            if chunk.get(flag):
                out.append((flag, f"{chunk['role']}/{chunk['type']}", chunk.get("format")))
    return out


def tool_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in request["messages"] if m["role"] == "tool"]


def text(chunks: list[Chunk]) -> str:
    """The console output of a chunk stream, joined."""
    return "".join(c["content"] for c in chunks if c.get("format") == "output")


def rss_kb() -> int:
    """This process's resident memory in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


IGNORES_INTERRUPTS = (
    "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
    "    except KeyboardInterrupt:\n        print('ignored', flush=True)"
)  # Python that prints "ignored" on every KeyboardInterrupt and never stops


def best_round_trip(computer: Computer, language: str, code: str, runs: int) -> float:
    """The fastest of ``runs`` timed runs of ``code``, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        computer.run(language, code)
        times.append(time.perf_counter() - started)
    return min(times)


def check_interrupt_from_the_streaming_thread(computer: Computer) -> None:
    """Stuck code interrupted from the thread iterating its stream (as Ctrl-C's handler
    is) is restarted with a notice; the state is gone and the next runs work."""

    def text_of(code: str) -> str:
        return text(computer.run("python", code))

    text_of("doomed = 1")
    out, interrupted = "", False
    for chunk in computer.stream("python", IGNORES_INTERRUPTS):
        if chunk.get("format") == "active_line" and chunk["content"] == 4 and not interrupted:
            computer.interrupt()
            interrupted = True
        elif chunk.get("format") == "output":
            out += chunk["content"]
    assert out.startswith("ignored\n")
    assert "did not stop when interrupted, so it was restarted" in out
    assert "NameError" in text_of("doomed")
    assert text_of("print('alive')") == "alive\n"
