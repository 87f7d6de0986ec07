"""The user's own document (docs/basic-usage.txt): every Python snippet, run verbatim.

Each snippet runs in a fresh Python process whose default profile points the model at the
fake server, which also proves the library inherits ``default.yaml``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interpreter.testing.fake_server import FakeModelServer, Reply

SNIPPETS = {
    "programmatic": """
        from interpreter import interpreter
        interpreter.chat("Add subtitles to all videos in /videos.")

        # ... Displays output in your terminal, completes task ...

        interpreter.chat("These look great but can you make the subtitles bigger?")
    """,
    "new_chat": """
        from interpreter import interpreter
        interpreter.chat("hello")
        interpreter.messages = []
        assert interpreter.messages == []
    """,
    "save_restore": """
        from interpreter import interpreter
        # Save messages to 'messages'
        messages = interpreter.chat("My name is Killian.")

        # Reset interpreter ("Killian" will be forgotten)
        interpreter.messages = []

        # Resume chat from 'messages' ("Killian" will be remembered)
        interpreter.messages = messages
        print("RESTORED", messages)
    """,
    "system_message": '''
        from interpreter import interpreter
        interpreter.system_message += """
        Run shell commands with -y so the user doesn't have to confirm them.
        """
        print(interpreter.system_message)
    ''',
    "model": """
        from interpreter import interpreter
        interpreter.llm.model = "gpt-3.5-turbo"
        interpreter.chat("hi")
    """,
}

TWO_AGENTS = """
from interpreter import OpenInterpreter

agent_1 = OpenInterpreter()
agent_1.system_message = "This is a seperate instance."

agent_2 = OpenInterpreter()
agent_2.system_message = "This is yet another instance."

def swap_roles(messages):
    for message in messages:
        if message['role'] == 'user':
            message['role'] = 'assistant'
        elif message['role'] == 'assistant':
            message['role'] = 'user'
    return messages

agents = [agent_1, agent_2]

# Kick off the conversation
messages = [{"role": "user", "message": "Hello!"}]

while True:
    for agent in agents:
        messages = agent.chat(messages)
        messages = swap_roles(messages)
"""


def _echo(request: dict[str, Any]) -> Reply:
    last = request["messages"][-1]["content"]
    return Reply.text(f"reply to: {str(last)[:40]}")


@pytest.fixture
def server() -> Iterator[FakeModelServer]:
    with FakeModelServer(responder=_echo) as srv:
        yield srv


def _env(server: FakeModelServer, tmp_path: Path) -> dict[str, str]:
    profiles = tmp_path / "config" / "open-interpreter" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "default.yaml").write_text(
        f"version: 0.2.5\nllm:\n  model: gpt-4o\n  api_base: {server.url}\n  api_key: sk-x\n"
    )
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("INTERPRETER_NO_DEFAULT_PROFILE", None)
    return env


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet_runs_verbatim(name: str, server: FakeModelServer, tmp_path: Path) -> None:
    code = textwrap.dedent(SNIPPETS[name])
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(server, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    if name == "programmatic":
        assert len(server.requests) == 2
        assert "bigger" in server.requests[1]["messages"][-1]["content"]
        assert "Add subtitles" in str(server.requests[1]["messages"])
        assert "reply to: Add subtitles" in proc.stdout
    if name == "save_restore":
        assert "reply to: My name is Killian." in proc.stdout
    if name == "system_message":
        assert "Run shell commands with -y" in proc.stdout
    if name == "model":
        assert server.requests[0]["model"] == "gpt-3.5-turbo"


def test_two_agents_talk(server: FakeModelServer, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", TWO_AGENTS],
        env=_env(server, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(server.requests) < 4 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    first, second, third = server.requests[:3]
    assert first["messages"][0]["content"].startswith("This is a seperate instance.")
    assert first["messages"][-1] == {"role": "user", "content": "Hello!"}
    assert second["messages"][0]["content"].startswith("This is yet another instance.")
    assert second["messages"][-1]["content"] == "reply to: Hello!"
    assert third["messages"][0]["content"].startswith("This is a seperate instance.")
    assert third["messages"][-1]["content"] == "reply to: reply to: Hello!"
