"""The package's layering: arrows point down, no cycles, the core imports no front end.

The contracts live in pyproject.toml (``[tool.importlinter]``); ``lint-imports`` reads the
source, imports inside functions and under TYPE_CHECKING included.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers import make_interpreter
from interpreter import OpenInterpreter
from interpreter.core.display import register_display
from interpreter.lmc import ChatInput, Decision
from interpreter.testing.fake_server import FakeModelServer, Reply

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 kept, 0 broken" in proc.stdout, proc.stdout


def test_a_whole_chat_loads_no_front_end(server: FakeModelServer, here: Path) -> None:
    # (rich is no sign: httpx imports it for its command line)
    server.script(Reply.tool_call("shell", "echo ran"), Reply.text("Done."))
    code = (
        "import sys; from interpreter import OpenInterpreter\n"
        "i = OpenInterpreter(load_profile=False)\n"
        f"i.llm.api_base, i.llm.api_key = {server.url!r}, 'k'\n"
        "i.auto_run, i.conversation_history = True, False\n"
        "assert i.chat('go', display=False)[-1]['content'] == 'Done.'\n"
        "i.computer.terminate()\n"
        "front = ('interpreter.terminal', 'interpreter.server', 'prompt_toolkit')\n"
        "print(sorted(m for m in sys.modules if m.startswith(front)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=here, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


class RecordingDisplay:
    """A front end of its own: it answers every confirmation with yes."""

    def __init__(self) -> None:
        self.shown: list[Any] = []

    def show_chat(self, interp: OpenInterpreter, message: ChatInput) -> None:
        self.shown.append(message)
        stream = interp.chat(message, display=False, stream=True)
        answer: Decision | None = None
        try:
            while True:
                chunk = stream.send(answer)
                answer = True if chunk.get("type") == "confirmation" else None
        except StopIteration:
            pass

    def interactive_chat(self, interp: OpenInterpreter) -> None:
        self.shown.append("interactive")


def test_chat_with_display_uses_the_registered_display(server: FakeModelServer, here: Path) -> None:
    server.script(Reply.tool_call("shell", "touch shown-marker"), Reply.text("Done."))
    interp = make_interpreter(server)
    display = RecordingDisplay()
    previous = register_display(lambda: display)
    try:
        new = interp.chat("make the marker")
        assert interp.chat() is None
    finally:
        assert previous is not None
        register_display(previous)
        interp.computer.terminate()
    assert display.shown == ["make the marker", "interactive"]
    assert (here / "shown-marker").exists()
    assert [m["type"] for m in new] == ["message", "code", "console", "message"]
    assert new[-1]["content"] == "Done."
