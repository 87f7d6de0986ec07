"""MCP servers that go wrong: each is one line to the user and to the model, a timeout,
and the session goes on (a misbehaving stdio server of our own, tests/fixtures)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import make_interpreter, tool_messages
from interpreter import OpenInterpreter
from interpreter.testing.fake_server import FakeModelServer, Reply

pytestmark = pytest.mark.deadline(120)

SERVER = str(Path(__file__).parent / "fixtures" / "misbehaving_mcp_server.py")


def entry(*flags: str, **more: Any) -> dict[str, Any]:
    return {"command": sys.executable, "args": [SERVER, *flags], **more}


@pytest.fixture
def interp(server: FakeModelServer, config_dir: Path) -> Iterator[OpenInterpreter]:
    it = make_interpreter(server, auto_run=True)
    it.mcp_servers = {"bad": entry(timeout=2)}
    yield it
    it.mcp.close()


def call_reply(tool: str) -> Reply:
    return Reply.raw_arguments('{"text": "x"}', name=f"mcp__bad__{tool}")


def told(server: FakeModelServer, request: int = 1) -> str:
    return str(tool_messages(server.requests[request])[-1]["content"])


def test_a_crash_mid_call_is_one_line_and_the_server_is_started_again(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(call_reply("crash"), Reply.text("it crashed"))
    new = interp.chat("crash it", display=False)
    said = told(server)
    assert said == "MCP server 'bad' closed the connection (it said: crashing on purpose)"
    assert said in [m["content"] for m in new if m["role"] == "computer"]
    server.script(call_reply("echo"), Reply.text("works again"))
    interp.chat("again", display=False)
    assert told(server, 3) == "echo"


def test_a_line_that_is_not_json_abandons_the_call_and_the_next_works(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(call_reply("garbage"), call_reply("echo"), Reply.text("done"))
    interp.chat("go", display=False)
    said = told(server)
    assert said.startswith("MCP server 'bad' sent a malformed message (") and "\n" not in said
    assert tool_messages(server.requests[2])[-1]["content"] == "echo"


def test_a_huge_result_is_refused(server: FakeModelServer, interp: OpenInterpreter) -> None:
    server.script(call_reply("huge"), Reply.text("too big"))
    interp.chat("go", display=False)
    assert told(server) == (
        "the result from MCP server 'bad' is 10.0 MB, over the limit of 5.0 MB "
        "(max_result_bytes); it was dropped"
    )


def test_a_hanging_call_times_out(server: FakeModelServer, interp: OpenInterpreter) -> None:
    server.script(call_reply("hang"), Reply.text("it hung"))
    interp.chat("go", display=False)
    assert told(server) == (
        "MCP server 'bad' did not answer 'hang' within 2 s (timeout); the call was cancelled"
    )


def test_stop_ends_a_waiting_call_at_once(server: FakeModelServer, interp: OpenInterpreter) -> None:
    interp.mcp_servers = {"bad": entry(timeout=600)}
    server.script(call_reply("hang"))
    chunks: list[Any] = []
    started = threading.Event()

    def chat() -> None:
        for chunk in interp.chat("go", display=False, stream=True):
            chunks.append(chunk)
            if chunk.get("type") == "code" and chunk.get("end"):
                started.set()

    worker = threading.Thread(target=chat)
    worker.start()
    assert started.wait(60)
    time.sleep(0.2)  # the call is under way (nothing to wait on: it never answers)
    begun = time.monotonic()
    interp.stop()
    worker.join(30)
    assert not worker.is_alive() and time.monotonic() - begun < 10
    assert interp.stop_reason == "interrupted"
    outputs = [c.get("content") for c in chunks if c.get("format") == "output"]
    assert "the call of 'hang' on MCP server 'bad' was stopped" in outputs


@pytest.mark.parametrize(
    ("config", "said"),
    [
        (entry("--die-at-start"), "MCP server 'bad' exited while starting (it said: cannot start: "
         "no configuration); its tools are not offered."),
        (entry("--hang-at-start", startup_timeout=1), "MCP server 'bad' did not start within "
         "1 s (startup_timeout); its tools are not offered."),
        ({"command": "no-such-mcp-server"}, "MCP server 'bad' could not start: no program "
         "'no-such-mcp-server'; its tools are not offered."),
        ({"url": "http://127.0.0.1:9/mcp"}, "MCP server 'bad' could not connect to "
         "http://127.0.0.1:9/mcp"),
        ({"args": ["x"]}, "MCP server 'bad' needs either a command (stdio) or a url (HTTP); "
         "its tools are not offered."),
    ],
)  # fmt: skip
def test_a_server_that_cannot_start_is_one_line_to_the_user_and_the_model(
    server: FakeModelServer, interp: OpenInterpreter, config: dict[str, Any], said: str
) -> None:
    interp.mcp_servers = {"bad": config}
    server.script(Reply.text("I cannot use it"), Reply.text("still not"))
    chunks = list(interp.chat("hi", display=False, stream=True))
    notices = [c for c in chunks if c.get("recipient") == "user" and c.get("content")]
    assert len(notices) == 1 and notices[0]["content"].startswith(said)
    assert notices[0]["content"].count("\n") == 1
    system = server.requests[0]["messages"][0]["content"]
    assert "Unavailable: MCP server 'bad'" in system
    assert not [t for t in server.requests[0]["tools"] if t["function"]["name"] != "execute"]
    interp.chat("again", display=False)  # said once, not again every turn
    assert interp.messages[-1]["content"] == "still not"
