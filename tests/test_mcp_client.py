"""MCP servers' tools through chat(), against the fake model server and the reference
``mcp-server-time`` (PyPI), started for real over stdio: offered as
``mcp__time__<tool>`` with their schemas, approved like code (notes with the server's
hints, allow rules per server and tool, auto-run), run, answered to the model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import make_interpreter, tool_messages
from interpreter import OpenInterpreter
from interpreter.lmc import Chunk
from interpreter.testing.fake_server import FakeModelServer, Reply
from mcp_helpers import time_server

pytestmark = pytest.mark.deadline(120)

WARSAW = '{"timezone": "Europe/Warsaw"}'


@pytest.fixture
def interp(server: FakeModelServer, config_dir: Path) -> Iterator[OpenInterpreter]:
    it = make_interpreter(server)
    it.mcp_servers = {"time": time_server()}
    yield it
    it.mcp.close()
    it.computer.terminate()


def confirmation(chunks: list[Chunk]) -> dict[str, Any]:
    found = [c for c in chunks if c.get("type") == "confirmation"]
    assert len(found) == 1, chunks
    content: dict[str, Any] = dict(found[0]["content"])
    return content


def test_the_tools_are_offered_with_their_schemas(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(Reply.text("hello"))
    interp.chat("hi", display=False)
    offered = {t["function"]["name"]: t["function"] for t in server.requests[0]["tools"]}
    assert {"execute", "mcp__time__get_current_time", "mcp__time__convert_time"} <= set(offered)
    current = offered["mcp__time__get_current_time"]
    assert current["parameters"]["required"] == ["timezone"]
    assert "timezone" in current["parameters"]["properties"]
    assert "MCP server 'time'" in current["description"]


def test_a_call_is_approved_run_and_its_result_goes_back_to_the_model(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(
        Reply.raw_arguments(WARSAW, name="mcp__time__get_current_time", call_id="t1"),
        Reply.text("It is evening in Warsaw."),
    )
    asked: list[tuple[str, str]] = []

    def approve(language: str, code: str) -> bool:
        asked.append((language, code))
        return True

    interp.approval_callback = approve
    new = interp.chat("what time is it in Warsaw?", display=False)
    assert asked == [("python", "computer.mcp.time.get_current_time(timezone='Europe/Warsaw')")]
    call = new[1]
    assert call.get("tool") == {
        "name": "mcp__time__get_current_time",
        "arguments": {"timezone": "Europe/Warsaw"},
    }
    answer = tool_messages(server.requests[1])
    assert len(answer) == 1 and answer[0]["tool_call_id"] == "t1"
    result = json.loads(answer[0]["content"])
    assert result["timezone"] == "Europe/Warsaw" and "datetime" in result
    assert new[-1]["content"] == "It is evening in Warsaw."


def test_the_confirmation_names_server_tool_arguments_and_hints(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(Reply.raw_arguments(WARSAW, name="mcp__time__get_current_time"))
    content = confirmation(list(interp.chat("time?", display=False, stream=True)))
    assert content["content"] == "computer.mcp.time.get_current_time(timezone='Europe/Warsaw')"
    assert content["rule"] == ["mcp__time", "get_current_time"]
    notes = "\n".join(content["notes"])
    assert "MCP server 'time'" in notes and "tool 'get_current_time'" in notes
    assert "only reads (readOnlyHint)" in notes
    assert interp.stop_reason == "declined"


@pytest.mark.parametrize(
    "rule",
    [{"language": "mcp__time"}, {"language": "mcp__time", "command": "get_current_time"}],
)
def test_allow_rules_per_server_and_per_tool(
    server: FakeModelServer, interp: OpenInterpreter, rule: dict[str, str]
) -> None:
    server.script(
        Reply.raw_arguments(WARSAW, name="mcp__time__get_current_time"), Reply.text("done")
    )
    interp.permissions = {"allow": [rule]}
    new = interp.chat("time?", display=False)  # asked, it would be declined (no callback)
    assert "Europe/Warsaw" in str(new[2]["content"]) and interp.stop_reason == "done"


def test_a_rule_for_another_tool_does_not_allow_it(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(Reply.raw_arguments(WARSAW, name="mcp__time__get_current_time"))
    interp.permissions = {"allow": [{"language": "mcp__time", "command": "convert_time"}]}
    chunks = list(interp.chat("time?", display=False, stream=True))
    assert confirmation(chunks)["rule"] == ["mcp__time", "get_current_time"]
    assert interp.stop_reason == "declined"


def test_auto_run_runs_the_call(server: FakeModelServer, interp: OpenInterpreter) -> None:
    server.script(
        Reply.raw_arguments(
            '{"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}',
            name="mcp__time__convert_time",
        ),
        Reply.text("21:00 in Tokyo"),
    )
    interp.auto_run = True
    new = interp.chat("noon UTC in Tokyo?", display=False)
    assert "21:00" in str(new[2]["content"])


def test_a_tool_error_is_told_to_the_model(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(
        Reply.raw_arguments('{"timezone": "Mars/Olympus"}', name="mcp__time__get_current_time"),
        Reply.text("sorry"),
    )
    interp.auto_run = True
    interp.chat("time on Mars?", display=False)
    told = tool_messages(server.requests[1])[0]["content"]
    assert told.startswith("The tool reported an error:") and "Mars/Olympus" in told


def test_missing_arguments_are_refused_before_anything_is_called(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(Reply.raw_arguments("{}", name="mcp__time__get_current_time"), Reply.text("ok"))
    interp.auto_run = True
    interp.chat("time?", display=False)
    told = tool_messages(server.requests[1])[0]["content"]
    assert "mcp__time__get_current_time needs 'timezone'" in told


def test_the_python_api_lists_calls_and_removes(interp: OpenInterpreter) -> None:
    [info] = interp.mcp.list()
    assert info.name == "time" and info.state == "ready" and info.transport == "stdio"
    assert set(info.tools) == {"get_current_time", "convert_time"}
    assert info.server.startswith("mcp-time")
    result = interp.mcp.call("time", "get_current_time", timezone="UTC")
    assert result["structuredContent"]["timezone"] == "UTC"
    interp.mcp.remove("time")
    assert interp.mcp.list() == [] and interp.mcp_servers == {}
    assert not [n for n in interp.tools.names() if n.startswith("mcp__")]


def test_add_connects_at_once_and_refuses_a_server_that_cannot_start(
    config_dir: Path,
) -> None:
    from interpreter.mcp.hub import McpError

    interp = OpenInterpreter(load_profile=False)
    try:
        entry = time_server()
        info = interp.mcp.add("clock", entry["command"], entry["args"])
        assert info.state == "ready" and "mcp__clock__get_current_time" in interp.tools.names()
        with pytest.raises(McpError, match="could not start: no program 'no-such-mcp-server'"):
            interp.mcp.add("broken", "no-such-mcp-server")
        assert set(interp.mcp_servers) == {"clock"}
    finally:
        interp.mcp.close()


def test_a_dropped_interpreter_lets_its_servers_go(config_dir: Path) -> None:
    import gc
    import threading

    def ours() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name.startswith("interpreter-mcp")]

    interp = OpenInterpreter(load_profile=False)
    interp.mcp_servers = {"time": time_server()}
    assert interp.mcp.list()[0].state == "ready" and ours()
    del interp
    gc.collect()
    assert ours() == []  # the loop and the bridge stopped (and the server with them)
