"""The Anthropic Messages API client against the fake server's /v1/messages route."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from interpreter.llm.errors import NoModelConfigured, ProviderError, StreamCut
from interpreter.llm.events import CodeDelta, CodeEnd, Event, TextDelta, Usage
from interpreter.llm.llm import Llm
from interpreter.testing.fake_server import FakeModelServer, Reply

CONVERSATION: list[dict[str, Any]] = [
    {"role": "user", "type": "message", "content": "list files"},
    {"role": "assistant", "type": "message", "content": "Listing."},
    {"role": "assistant", "type": "code", "format": "shell", "content": "ls"},
    {"role": "computer", "type": "console", "format": "output", "content": "a.txt"},
    {"role": "user", "type": "message", "content": "thanks"},
]


@pytest.fixture
def llm(server: FakeModelServer) -> Iterator[Llm]:
    model = Llm()
    model.model, model.api_base, model.api_key = "claude-3-5-sonnet-latest", server.url, "sk-ant"
    yield model
    model.close()


def stream(llm: Llm, messages: list[dict[str, Any]] = CONVERSATION) -> list[Event]:
    return list(llm.stream(messages, system_message="Be brief.", languages=["python", "shell"]))


def test_round_trip_text_and_tool_call(llm: Llm, server: FakeModelServer) -> None:
    reply = Reply(content="Running it.", chunk_size=3, prompt_tokens=77, completion_tokens=9)
    server.script(reply + Reply.tool_call("python", "print(2)", chunk_size=4, call_id="toolu_1"))
    events = stream(llm)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Running it."
    assert sum(isinstance(e, CodeDelta) for e in events) >= 2
    assert CodeEnd("python", "print(2)", None, "toolu_1") in events
    usage = events[-1]
    assert isinstance(usage, Usage) and (usage.prompt_tokens, usage.completion_tokens) == (77, 9)
    assert server.request_paths == ["/v1/messages"]
    headers = server.request_headers[0]
    assert headers["x-api-key"] == "sk-ant" and headers["anthropic-version"]
    assert "authorization" not in headers


def test_request_uses_anthropic_shapes(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.text("ok"))
    stream(llm)
    body = server.requests[0]
    assert body["system"] == "Be brief." and body["stream"] is True and body["max_tokens"] > 0
    assert body["tools"][0]["name"] == "execute"
    assert body["tools"][0]["input_schema"]["required"] == ["language", "code"]
    user, assistant, result = body["messages"]
    assert user == {"role": "user", "content": [{"type": "text", "text": "list files"}]}
    text, use = assistant["content"]
    assert text == {"type": "text", "text": "Listing."}
    assert use["type"] == "tool_use" and use["input"] == {"language": "shell", "code": "ls"}
    assert result["role"] == "user"
    assert result["content"][0] == {
        "type": "tool_result",
        "tool_use_id": use["id"],
        "content": "a.txt",
    }
    cache_point = {"cache_control": {"type": "ephemeral"}}  # the last block: read next time
    assert result["content"][1] == {"type": "text", "text": "thanks", **cache_point}


def test_errors_and_cuts(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.status(401, body="invalid x-api-key"))
    host = server.url.split("/")[2]
    with pytest.raises(ProviderError, match=rf"model server at {host} answered HTTP 401 \(inv"):
        stream(llm)
    server.script(Reply.status(529, body="Overloaded"), Reply.text("back"))
    assert TextDelta("back") in stream(llm)
    server.script(Reply.cut(Reply.tool_call("python", "print(1)", chunk_size=2), after_events=5))
    seen: list[Event] = []
    with pytest.raises(StreamCut):
        seen.extend(llm.stream(CONVERSATION, system_message="", languages=["python"]))
    assert not any(isinstance(e, CodeEnd) for e in seen)


def test_malformed_anthropic_event(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.malformed())
    with pytest.raises(ProviderError, match="malformed"):
        stream(llm)


def test_hosted_anthropic_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    llm = Llm()
    llm.model = "claude-3-5-sonnet-latest"
    with pytest.raises(NoModelConfigured, match="ANTHROPIC_API_KEY"):
        stream(llm)
