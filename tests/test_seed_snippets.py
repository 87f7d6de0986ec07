"""The user's own document (the seed's basic-usage.txt): every snippet, run verbatim.

Each Python snippet runs in a fresh Python process whose default profile points the model
at the fake server (which also proves the library inherits ``default.yaml``), twice: as
written (``display=True``, the default) in a real pseudo-terminal, and with
``display=False`` added to each ``chat()`` call, through pipes. Both runs must send the
fake server the same requests. The command-line snippets run in a pseudo-terminal.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest

from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import PROMPT_READY, Cli, cli_env

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

#: What runs after a snippet (not part of it): prints what the checks look at.
AFTERWARDS = {
    "save_restore": """
        import json
        print("RESULT " + json.dumps(messages))
        interpreter.chat("What is my name?")
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

FIRST_INSTANCE, SECOND_INSTANCE = "This is a seperate instance.", "This is yet another instance."


def _echo(request: dict[str, Any]) -> Reply:
    last = request["messages"][-1]["content"]
    if isinstance(last, list):  # Anthropic's content blocks
        last = "".join(block.get("text", "") for block in last)
    return Reply.text(f"reply to: {str(last)[:40]}")


@pytest.fixture
def server() -> Iterator[FakeModelServer]:
    with FakeModelServer(responder=_echo) as srv:
        yield srv


def _env(server: FakeModelServer, tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config"
    profiles = config / "open-interpreter" / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    (profiles / "default.yaml").write_text(
        f"version: 0.2.5\nllm:\n  model: gpt-4o\n  api_base: {server.url}\n  api_key: sk-x\n"
    )
    return cli_env(config)


def _without_display(code: str) -> str:
    """``code`` with ``display=False`` added to every one-line ``chat(...)`` call."""
    return re.sub(r"\.chat\((.+)\)$", r".chat(\1, display=False)", code, flags=re.M)


def _script(name: str, display: bool) -> str:
    code = textwrap.dedent(SNIPPETS[name]) + textwrap.dedent(AFTERWARDS.get(name, ""))
    return code if display else _without_display(code)


def _run_in_pty(code: str, env: dict[str, str], cwd: Path) -> str:
    """Run ``code`` in a pseudo-terminal to its end; return what it wrote."""
    child = pexpect.spawn(
        sys.executable, ["-c", code], env=env, cwd=str(cwd), dimensions=(50, 200), timeout=60
    )
    try:
        child.expect(pexpect.EOF)
        output = (child.before or b"").decode(errors="replace")
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, output
    return output


def _run_piped(code: str, env: dict[str, str], cwd: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=str(cwd),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _conversation(request: dict[str, Any]) -> list[tuple[str, str]]:
    """A request's messages after the system message, as (role, content)."""
    return [(m["role"], str(m["content"])) for m in request["messages"][1:]]


def _result(output: str) -> Any:
    found = re.search(r"RESULT (.*?)\r?\n", output)
    assert found, output
    return json.loads(found.group(1))


def _check(name: str, server: FakeModelServer, output: str) -> None:
    requests = server.requests
    if name == "programmatic":
        assert len(requests) == 2
        assert _conversation(requests[1]) == [
            ("user", "Add subtitles to all videos in /videos."),
            ("assistant", "reply to: Add subtitles to all videos in /videos."),
            ("user", "These look great but can you make the subtitles bigger?"),
        ]
    if name == "new_chat":
        assert _conversation(requests[0]) == [("user", "hello")]
    if name == "save_restore":
        assert _result(output) == [
            {"role": "user", "type": "message", "content": "My name is Killian."},
            {"role": "assistant", "type": "message", "content": "reply to: My name is Killian."},
        ]
        # the restored conversation is what the next request carries: the name included
        assert _conversation(requests[1]) == [
            ("user", "My name is Killian."),
            ("assistant", "reply to: My name is Killian."),
            ("user", "What is my name?"),
        ]
    if name == "system_message":
        assert "Run shell commands with -y" in output
    if name == "model":
        assert requests[0]["model"] == "gpt-3.5-turbo"


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet_with_display_in_a_terminal(
    name: str, server: FakeModelServer, tmp_path: Path
) -> None:
    output = _run_in_pty(_script(name, display=True), _env(server, tmp_path), tmp_path)
    _check(name, server, output)
    if name == "programmatic":  # shown in the terminal
        assert "reply to: These look great" in output


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet_without_display(name: str, server: FakeModelServer, tmp_path: Path) -> None:
    output = _run_piped(_script(name, display=False), _env(server, tmp_path), tmp_path)
    _check(name, server, output)
    if name == "programmatic":  # nothing is shown
        assert "reply to" not in output


def _two_agent_requests(
    server: FakeModelServer, tmp_path: Path, *, display: bool, count: int = 4
) -> list[dict[str, Any]]:
    """Run the two agents (an endless loop) until ``count`` requests came; stop them."""
    code = TWO_AGENTS if display else _without_display(TWO_AGENTS)
    env, started = _env(server, tmp_path), time.monotonic()
    if display:
        child = pexpect.spawn(sys.executable, ["-c", code], env=env, cwd=str(tmp_path))
        alive = child.isalive
    else:
        proc = subprocess.Popen(
            [sys.executable, "-c", code], env=env, cwd=str(tmp_path),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        alive = lambda: proc.poll() is None  # noqa: E731
    try:
        while len(server.requests) < count and time.monotonic() - started < 60:
            assert alive(), "the two agents stopped talking"
            if display:
                child.expect([pexpect.TIMEOUT, pexpect.EOF], timeout=0.05)  # drain the pty
            else:
                time.sleep(0.05)
    finally:
        if display:
            child.close(force=True)
        else:
            proc.kill()
            proc.wait()
    return server.requests[:count]


@pytest.mark.parametrize("display", [True, False], ids=["display", "no-display"])
def test_two_agents_talk(display: bool, server: FakeModelServer, tmp_path: Path) -> None:
    requests = _two_agent_requests(server, tmp_path, display=display)
    systems = [r["messages"][0]["content"] for r in requests]
    assert [s.split("\n")[0] for s in systems] == [FIRST_INSTANCE, SECOND_INSTANCE] * 2
    one, two = "reply to: Hello!", "reply to: reply to: Hello!"
    three = "reply to: reply to: reply to: Hello!"
    # each agent sees the whole conversation, its own turns as the assistant's
    assert [_conversation(r) for r in requests] == [
        [("user", "Hello!")],
        [("assistant", "Hello!"), ("user", one)],
        [("user", "Hello!"), ("assistant", one), ("user", two)],
        [("assistant", "Hello!"), ("user", one), ("assistant", two), ("user", three)],
    ]


def test_interactive_chat_from_python(server: FakeModelServer, tmp_path: Path) -> None:
    code = "from interpreter import interpreter\ninterpreter.chat()\nprint('LEFT THE CHAT')\n"
    child = pexpect.spawn(
        sys.executable, ["-c", code], env=_env(server, tmp_path), cwd=str(tmp_path),
        dimensions=(50, 200), timeout=30,
    )  # fmt: skip
    try:
        child.expect_exact(PROMPT_READY)
        child.send(b"hello there\r")
        child.expect_exact(b"reply to: hello there")
        child.expect_exact(PROMPT_READY)
        child.sendeof()
        child.expect_exact(b"LEFT THE CHAT")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert _conversation(server.requests[0]) == [("user", "hello there")]


# -- the command-line snippets ------------------------------------------------------------


def _cli(server: FakeModelServer, tmp_path: Path, *args: str) -> Cli:
    return Cli(list(args), _env(server, tmp_path), tmp_path)


def test_interpreter_starts_a_new_chat_each_time(server: FakeModelServer, tmp_path: Path) -> None:
    for text in ("first chat", "second chat"):
        cli = _cli(server, tmp_path)
        try:
            cli.prompt()
            cli.send_line(text)
            cli.expect_text(f"reply to: {text}")
            cli.prompt()
            assert cli.quit() == 0
        finally:
            cli.kill()
    assert [_conversation(r) for r in server.requests] == [
        [("user", "first chat")],
        [("user", "second chat")],  # the terminal does not remember the first
    ]


def test_interpreter_conversations_resumes_one(server: FakeModelServer, tmp_path: Path) -> None:
    cli = _cli(server, tmp_path)
    try:
        cli.prompt()
        cli.send_line("remember the number seven")
        cli.expect_text("reply to: remember the number seven")
        cli.prompt()
        assert cli.quit() == 0
    finally:
        cli.kill()
    cli = _cli(server, tmp_path, "--conversations")
    try:
        cli.expect_text("remember the number")
        cli.child.send(b"\r")  # the newest, chosen with ENTER
        cli.prompt()
        cli.send_line("which number?")
        cli.expect_text("reply to: which number?")
        cli.prompt()
        assert cli.quit() == 0
    finally:
        cli.kill()
    assert _conversation(server.requests[-1])[:2] == [
        ("user", "remember the number seven"),
        ("assistant", "reply to: remember the number seven"),
    ]


def test_interpreter_profiles_shows_default_yaml(server: FakeModelServer, tmp_path: Path) -> None:
    env = {**_env(server, tmp_path), "PATH": "/nonexistent", "EDITOR": "/bin/cat"}
    child = pexpect.spawn(
        sys.executable, ["-m", "interpreter", "--profiles"], env=env, cwd=str(tmp_path), timeout=30
    )
    try:
        child.expect(pexpect.EOF)
        output = (child.before or b"").decode(errors="replace")
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, output
    assert f"api_base: {server.url}" in output  # default.yaml, opened in $EDITOR


@pytest.mark.parametrize("model", ["gpt-3.5-turbo", "claude-2", "command-nightly"])
def test_interpreter_model_flag(model: str, server: FakeModelServer, tmp_path: Path) -> None:
    cli = _cli(server, tmp_path, "--model", model)
    try:
        cli.prompt()
        cli.send_line("hi")
        cli.expect_text("reply to: hi")
        cli.prompt()
        assert cli.quit() == 0
    finally:
        cli.kill()
    assert server.requests[0]["model"] == model
