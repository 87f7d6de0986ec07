"""The OpenAI-compatible model client against the fake server, over real HTTP."""

from __future__ import annotations

import time
from typing import Any

import pytest

from interpreter.llm.errors import BudgetExceeded, NoModelConfigured
from interpreter.llm.events import CodeDelta, CodeEnd, CodeStart, Event, TextDelta, Usage
from interpreter.llm.llm import Llm
from interpreter.llm.providers import choose_route
from interpreter.testing.fake_server import FakeModelServer, Reply

LANGUAGES = ["python", "shell", "javascript"]
SYSTEM = "You are a test."


def run(llm: Llm, messages: list[dict[str, Any]] | None = None) -> list[Event]:
    messages = messages or [{"role": "user", "type": "message", "content": "hi"}]
    return list(llm.stream(messages, system_message=SYSTEM, languages=LANGUAGES))


def text_of(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_text_streams_and_usage_comes_last(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply(content="Hello there, how are you?", chunk_size=4, prompt_tokens=42))
    events = run(llm)
    assert text_of(events) == "Hello there, how are you?"
    assert sum(isinstance(e, TextDelta) for e in events) > 3
    assert events[-1] == Usage(42, events[-1].completion_tokens, None)
    body = server.requests[0]
    assert body["model"] == "fake-model" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "hi"},
    ]
    assert body["tools"][0]["function"]["name"] == "execute"
    assert "authorization" not in server.request_headers[0]  # a local server needs no key


def test_tool_call_code_arrives_in_pieces(llm: Llm, server: FakeModelServer) -> None:
    code = "print('hi')\nfor i in range(3):\n    print(i)"
    server.script(Reply.text("Sure.") + Reply.tool_call("python", code, 3, call_id="call_9"))
    events = run(llm)
    kinds = [type(e) for e in events]
    assert kinds[0] is TextDelta and CodeStart(language="python") in events
    assert kinds.index(CodeStart) < kinds.index(CodeDelta) < kinds.index(CodeEnd)
    assert sum(k is CodeDelta for k in kinds) > 5
    assert "".join(e.text for e in events if isinstance(e, CodeDelta)) == code
    end = next(e for e in events if isinstance(e, CodeEnd))
    assert end == CodeEnd("python", code, None, "call_9")
    assert isinstance(events[-1], Usage)


def test_two_tool_calls_in_one_reply(llm: Llm, server: FakeModelServer) -> None:
    server.script(
        Reply.tool_call("shell", "ls", call_id="a") + Reply.tool_call("python", "1", call_id="b")
    )
    ends = [e for e in run(llm) if isinstance(e, CodeEnd)]
    assert ends == [CodeEnd("shell", "ls", None, "a"), CodeEnd("python", "1", None, "b")]


def test_text_model_gets_fenced_code_and_no_tools(llm: Llm, server: FakeModelServer) -> None:
    llm.supports_functions = False
    server.script(Reply.text("Run this:\n```python\nprint(1)\n```\nDone.", chunk_size=2))
    events = run(llm)
    assert CodeEnd("python", "print(1)") in events
    assert "Run this:" in text_of(events) and "Done." in text_of(events)
    assert "tools" not in server.requests[0]


CONVERSATION: list[dict[str, Any]] = [
    {"role": "user", "type": "message", "content": "list files"},
    {"role": "assistant", "type": "message", "content": "Listing."},
    {"role": "assistant", "type": "code", "format": "shell", "content": "ls"},
    {"role": "computer", "type": "console", "format": "output", "content": "a.txt\n"},
    {"role": "assistant", "type": "code", "format": "python", "content": "x = 1"},
    {"role": "computer", "type": "console", "format": "output", "content": ""},
    {"role": "assistant", "type": "message", "content": "Done."},
    {"role": "user", "type": "message", "content": "thanks"},
]


def test_tool_messages_answer_each_call(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.text("ok"))
    run(llm, CONVERSATION)
    wire = server.requests[0]["messages"]
    assert [m["role"] for m in wire] == [
        "system", "user", "assistant", "tool", "assistant", "tool", "assistant", "user"
    ]  # fmt: skip
    first, second = wire[2], wire[4]
    assert first["content"] == "Listing."
    call = first["tool_calls"][0]
    assert call["function"] == {
        "name": "execute",
        "arguments": '{"language": "shell", "code": "ls"}',
    }
    assert wire[3] == {"role": "tool", "tool_call_id": call["id"], "content": "a.txt"}
    assert wire[5]["tool_call_id"] == second["tool_calls"][0]["id"] != call["id"]
    assert wire[5]["content"] == "No output"


def test_text_model_sees_fences_and_output_as_user(llm: Llm, server: FakeModelServer) -> None:
    llm.supports_functions = False
    server.script(Reply.text("ok"))
    run(llm, CONVERSATION)
    wire = server.requests[0]["messages"]
    assert [m["role"] for m in wire] == [
        "system", "user", "assistant", "user", "assistant", "user", "assistant", "user"
    ]  # fmt: skip
    assert wire[2]["content"] == "Listing.\n\n```shell\nls\n```"
    assert wire[3]["content"].startswith("Code output: a.txt")
    assert "no text output" in wire[5]["content"]
    assert all("tool_calls" not in m for m in wire)


IMAGE = {"role": "computer", "type": "image", "format": "base64.png", "content": "iVBORw0KGgo="}


def test_images_only_for_vision_models(llm: Llm, server: FakeModelServer) -> None:
    convo = [*CONVERSATION[:4], IMAGE, CONVERSATION[-1]]
    server.script(Reply.text("ok"), Reply.text("ok"))
    llm.supports_vision = False
    run(llm, convo)
    llm.supports_vision = True
    run(llm, convo)
    blind, seeing = (r["messages"] for r in server.requests)
    assert "cannot see images" in blind[3]["content"] and blind[4] == {
        "role": "user",
        "content": "thanks",
    }
    parts = seeing[4]["content"]
    assert parts[0]["image_url"]["url"] == "data:image/png;base64,iVBORw0KGgo="
    assert parts[1] == {"type": "text", "text": "thanks"}


def test_long_reply_streams_fast(llm: Llm, server: FakeModelServer) -> None:
    content = ("word " * 40_000)[:200_000]
    server.script(Reply(content=content, chunk_size=4, prompt_tokens=1, completion_tokens=1))
    start = time.perf_counter()
    events = run(llm)
    elapsed = time.perf_counter() - start
    assert text_of(events) == content
    assert elapsed < 4.0, f"50,000 chunks took {elapsed:.2f} s (server included)"


def test_key_is_sent_only_to_the_configured_endpoint(llm: Llm, server: FakeModelServer) -> None:
    llm.api_key = "sk-test"
    server.script(Reply.text("ok"))
    run(llm)
    assert server.request_headers[0]["authorization"] == "Bearer sk-test"


def test_missing_key_says_how_to_set_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    llm = Llm()
    with pytest.raises(NoModelConfigured, match="OPENAI_API_KEY") as info:
        run(llm)
    assert "\n" not in str(info.value)


def test_budget_is_enforced_before_the_request(server: FakeModelServer) -> None:
    llm = Llm()
    llm.model, llm.api_base = "gpt-4o", server.url
    llm.max_budget = 0.0000001
    with pytest.raises(BudgetExceeded, match="max_budget"):
        run(llm)
    assert server.requests == []


def test_budget_counts_what_was_spent(server: FakeModelServer) -> None:
    llm = Llm()
    llm.model, llm.api_base = "gpt-4o", server.url
    server.script(Reply(content="ok", prompt_tokens=100_000, completion_tokens=100))
    usage = run(llm)[-1]
    assert isinstance(usage, Usage) and usage.cost is not None and usage.cost > 0.1
    assert llm.total_cost == usage.cost and llm.total_prompt_tokens == 100_000
    llm.max_budget = llm.total_cost + 1e-6
    with pytest.raises(BudgetExceeded):
        run(llm)
    assert len(server.requests) == 1
    llm.reset_usage()
    assert llm.total_cost == 0.0


def test_count_tokens_grows_with_the_conversation(llm: Llm) -> None:
    short = llm.count_tokens(CONVERSATION[:1], system_message=SYSTEM)
    longer = llm.count_tokens(CONVERSATION, system_message=SYSTEM)
    assert 0 < short < longer


@pytest.mark.parametrize(
    ("model", "api_base", "kind", "name", "base"),
    [
        ("gpt-4o", None, "openai", "gpt-4o", "https://api.openai.com/v1"),
        ("openai/gpt-4o", None, "openai", "gpt-4o", "https://api.openai.com/v1"),
        ("o3-mini", None, "openai", "o3-mini", "https://api.openai.com/v1"),
        ("ollama/llama3", None, "openai", "llama3", "http://localhost:11434/v1"),
        ("lm_studio/qwen", None, "openai", "qwen", "http://localhost:1234/v1"),
        ("openrouter/meta/llama", None, "openai", "meta/llama", "https://openrouter.ai/api/v1"),
        (
            "claude-3-5-sonnet",
            None,
            "anthropic",
            "claude-3-5-sonnet",
            "https://api.anthropic.com/v1",
        ),
        ("anthropic/claude-x", None, "anthropic", "claude-x", "https://api.anthropic.com/v1"),
        ("my-model", "http://127.0.0.1:9/v1/", "openai", "my-model", "http://127.0.0.1:9/v1"),
        (
            "org/model",
            "http://localhost:8000/v1",
            "openai",
            "org/model",
            "http://localhost:8000/v1",
        ),
        ("command-nightly", None, "litellm", "command-nightly", ""),
        ("gemini/gemini-pro", None, "litellm", "gemini/gemini-pro", ""),
    ],
)
def test_routes(model: str, api_base: str | None, kind: str, name: str, base: str) -> None:
    env = {"OPENAI_API_KEY": "o", "ANTHROPIC_API_KEY": "a", "OPENROUTER_API_KEY": "r"}
    route = choose_route(model, api_base=api_base, env=env)
    assert (route.kind, route.model, route.api_base) == (kind, name, base)


def test_env_key_never_goes_to_a_local_server() -> None:
    route = choose_route("openai/x", api_base="http://127.0.0.1:1/v1", env={"OPENAI_API_KEY": "o"})
    assert route.api_key is None
    route = choose_route("gpt-4o", env={"OPENAI_API_KEY": "o"})
    assert route.api_key == "o"


def test_count_tokens_needs_no_api_key() -> None:
    from interpreter.llm.llm import Llm

    llm = Llm()
    llm.model = "gpt-4o"
    n = llm.count_tokens(
        [{"role": "user", "type": "message", "content": "hello there"}], system_message="sys"
    )
    assert 5 < n < 40
