"""Real provider streams (tests/fixtures/wire/) through the real client: every transcript's
calls kept apart with their ids and fields, answered in order, and the follow-up accepted
by the provider's own rules (tests/wire_drive.py); ids and fields kept across a saved
conversation, made valid for the provider a conversation moves to."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from interpreter import OpenInterpreter
from interpreter.llm.events import CodeEnd
from interpreter.llm.llm import Llm
from interpreter.lmc import Message
from interpreter.store.conversations import load_conversation
from interpreter.testing.fake_server import FakeModelServer, Reply
from wire_drive import (
    NINE,
    SIG_A,
    TRANSCRIPTS,
    WIRE,
    Transcript,
    anthropic_answered,
    chat,
    gemini_signatures,
    interpreter_for,
    mistral_api,
    openai_calls,
    openai_strict,
    point_at,
    replay,
    through,
    transcript,
)

pytestmark = pytest.mark.deadline(120)


@pytest.mark.parametrize("t", TRANSCRIPTS, ids=[t.name for t in TRANSCRIPTS])
def test_each_transcript_is_run_call_by_call_and_the_follow_up_is_accepted(
    t: Transcript, server: FakeModelServer
) -> None:
    assert replay(t, server).problems == []


def test_every_transcript_file_is_replayed() -> None:
    assert sorted(p.stem for p in WIRE.glob("*.sse")) == sorted(t.name for t in TRANSCRIPTS)


def test_a_transcript_is_sent_byte_for_byte_also_as_a_proxy(server: FakeModelServer) -> None:
    raw = transcript("gemini3_split").path.read_bytes()
    server.script(Reply.transcript(transcript("gemini3_split").path), Reply.raw_sse(raw))
    direct = httpx.post(server.url + "/chat/completions", json={"stream": True}, timeout=10)
    proxy = f"http://127.0.0.1:{server.port}"
    with httpx.Client(proxy=proxy, timeout=10) as client:
        hosted = client.post(
            "http://generativelanguage.googleapis.com/v1beta/openai/chat/completions", json={}
        )
    assert direct.content == raw and hosted.content == raw and b"\r\n\r\n" in raw
    assert server.request_headers[1]["host"] == "generativelanguage.googleapis.com"


def _code_messages(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m["role"] == "assistant" and m["type"] == "code"]


def test_a_saved_conversation_keeps_ids_and_signatures_and_sends_them_back(
    server: FakeModelServer, tmp_path: Path
) -> None:
    t = transcript("gemini3_parallel")

    def save_here(interp: OpenInterpreter) -> None:
        interp.conversation_history, interp.conversation_history_path = True, str(tmp_path)

    assert replay(t, server, save_here).problems == []
    (saved,) = tmp_path.glob("*.json")
    stored = _code_messages(load_conversation(saved))
    assert [m.get("call_id") for m in stored] == ["jm4owj31", "k2p9xq7d"]
    assert stored[0].get("extra") == {"extra_content": {"google": {"thought_signature": SIG_A}}}
    resumed = interpreter_for(t, server)
    resumed.messages = load_conversation(saved)
    server.script(Reply.text("Still here."))
    try:
        chat(resumed, server, "And now?", hosted=True)
    finally:
        resumed.computer.terminate()
    follow_up = server.requests[2]
    assert gemini_signatures(follow_up, t) == []
    assert [c["id"] for c in openai_calls(follow_up)[0]] == ["jm4owj31", "k2p9xq7d"]


OLD_CONVERSATION: list[Message] = [
    {"role": "user", "type": "message", "content": "list it"},
    {"role": "assistant", "type": "code", "format": "shell", "content": "echo one"},
    {"role": "assistant", "type": "code", "format": "shell", "content": "echo two"},
    {"role": "computer", "type": "console", "format": "output", "content": "one"},
    {"role": "computer", "type": "console", "format": "output", "content": "two"},
    {"role": "assistant", "type": "message", "content": "Both ran."},
]  # as Open Interpreter 0.4.3 saves it: code without call ids


def _call_ids(body: dict[str, Any], anthropic: bool) -> tuple[list[str], list[str]]:
    """The ids of the calls in a request, and of the answers."""
    if not anthropic:
        messages = body["messages"]
        calls = [c["id"] for m in messages for c in m.get("tool_calls") or ()]
        return calls, [m["tool_call_id"] for m in messages if m["role"] == "tool"]
    blocks = [b for m in body["messages"] for b in m["content"]]
    uses = [b["id"] for b in blocks if b["type"] == "tool_use"]
    return uses, [b["tool_use_id"] for b in blocks if b["type"] == "tool_result"]


@pytest.mark.parametrize("name", ["mistral_parallel", "anthropic_parallel", "openai_parallel"])
def test_ids_we_make_are_valid_for_the_provider_and_the_same_in_every_request(
    name: str, server: FakeModelServer
) -> None:
    t = transcript(name)
    interp = interpreter_for(t, server)
    interp.messages = [dict(m) for m in OLD_CONVERSATION]  # type: ignore[misc]
    server.script(Reply.text("a"), Reply.text("b"))
    try:
        chat(interp, server, "again", hosted=True)
        chat(interp, server, "and again", hosted=True)
    finally:
        interp.computer.terminate()
    first, second = server.requests
    ids, answered = _call_ids(first, t.anthropic)
    assert len(ids) == 2 and all(NINE.fullmatch(i) for i in ids) and answered == ids
    assert _call_ids(second, t.anthropic) == (ids, ids)  # the same again: the cache holds
    if name.startswith("mistral"):
        assert mistral_api(first, t) == []


def test_a_conversation_begun_with_openai_goes_on_with_mistral_under_valid_ids(
    server: FakeModelServer,
) -> None:
    outcome = replay(transcript("openai_parallel"), server)
    mistral = transcript("mistral_parallel")
    interp = interpreter_for(mistral, server)
    interp.messages = outcome.messages
    server.script(Reply.text("a"), Reply.text("b"))
    try:
        chat(interp, server, "go on", hosted=True)
        chat(interp, server, "and on", hosted=True)
    finally:
        interp.computer.terminate()
    first, second = server.requests[2:]
    assert mistral_api(first, mistral) == [] and mistral_api(second, mistral) == []
    calls, after = openai_calls(first)
    answers = {m["tool_call_id"]: m["content"] for m in after if m["role"] == "tool"}
    assert [answers[c["id"]] for c in calls] == ["one", "two"]
    assert openai_calls(second)[0] == calls  # the same ids again: the prompt cache holds


def test_gemini_fields_are_not_sent_to_openai_after_a_model_switch(
    server: FakeModelServer,
) -> None:
    outcome = replay(transcript("gemini3_parallel"), server)
    openai = transcript("openai_parallel")
    interp = interpreter_for(openai, server)
    interp.messages = outcome.messages
    server.script(Reply.text("a"))
    try:
        chat(interp, server, "go on", hosted=True)
    finally:
        interp.computer.terminate()
    follow_up = server.requests[2]
    assert openai_strict(follow_up, openai) == []
    assert [c["id"] for c in openai_calls(follow_up)[0]] == ["jm4owj31", "k2p9xq7d"]


def test_anthropic_gets_the_calls_of_another_provider_as_its_own_blocks(
    server: FakeModelServer,
) -> None:
    outcome = replay(transcript("ollama_index0"), server)
    claude = transcript("anthropic_parallel")
    interp = interpreter_for(claude, server)
    interp.messages = outcome.messages
    server.script(Reply.text("a"))
    try:
        chat(interp, server, "go on", hosted=True)
    finally:
        interp.computer.terminate()
    ollama_ids = Transcript(claude.name, "", claude.model, transcript("ollama_index0").calls)
    assert anthropic_answered(server.requests[2], ollama_ids) == []


# -- the decoder, piece by piece, on streams the transcripts do not have -----------------------


def _sse(*events: dict[str, object]) -> str:
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"


def _delta(calls: list[dict[str, object]], finish: str | None = None) -> dict[str, object]:
    return {"choices": [{"index": 0, "delta": {"tool_calls": calls}, "finish_reason": finish}]}


def _ends(llm: Llm) -> list[CodeEnd]:
    messages: list[Message] = [{"role": "user", "type": "message", "content": "go"}]
    events = llm.stream(messages, system_message="", languages=["shell"])
    return [e for e in events if isinstance(e, CodeEnd)]


def test_a_signature_before_its_call_stays_with_that_call(
    llm: Llm, server: FakeModelServer
) -> None:
    signed: dict[str, object] = {"extra_content": {"google": {"thought_signature": "c2ln"}}}
    args = json.dumps({"language": "shell", "code": "echo a"})

    def call(call_id: str) -> dict[str, object]:
        function = {"name": "execute", "arguments": args}
        return {"id": call_id, "type": "function", "function": function}

    stream = _sse(_delta([signed]), _delta([call("a1")]), _delta([call("b2")], "stop"))
    server.script(Reply.raw_sse(stream))
    ends = _ends(llm)
    assert [(e.call_id, e.extra) for e in ends] == [("a1", signed), ("b2", None)]


def test_two_calls_without_index_or_id_in_one_delta_stay_two(
    llm: Llm, server: FakeModelServer
) -> None:
    def call(code: str) -> dict[str, object]:
        arguments = json.dumps({"language": "shell", "code": code})
        return {"type": "function", "function": {"name": "execute", "arguments": arguments}}

    server.script(Reply.raw_sse(_sse(_delta([call("echo a"), call("echo b")], "tool_calls"))))
    assert [(e.code, e.call_id) for e in _ends(llm)] == [("echo a", None), ("echo b", None)]


def test_arguments_split_over_pieces_at_one_index_are_one_call(
    llm: Llm, server: FakeModelServer
) -> None:
    head = {"index": 0, "id": "x", "function": {"name": "execute", "arguments": '{"language"'}}
    rest = {"index": 0, "function": {"name": None, "arguments": ': "shell", "code": "ls"}'}}
    server.script(Reply.raw_sse(_sse(_delta([head]), _delta([rest], "tool_calls"))))
    assert _ends(llm) == [CodeEnd("shell", "ls", None, "x")]


def test_the_proxy_reaches_a_provider_host_only_while_it_is_set(server: FakeModelServer) -> None:
    t = transcript("mistral_parallel")
    interp = OpenInterpreter(load_profile=False)
    interp.conversation_history = False
    point_at(interp, t, server)
    server.script(Reply.text("hi"))
    with through(server):
        interp.chat("hi", display=False)
    interp.llm.close()
    assert server.request_headers[0]["host"] == "api.mistral.ai"
    assert "stream_options" not in server.requests[0]


def test_ids_anthropic_refuses_are_replaced_consistently(server: FakeModelServer) -> None:
    claude = transcript("anthropic_parallel")
    interp = interpreter_for(claude, server)
    odd = ["call_a1__thought__Q2lw+/x=", "call_b2__thought__ZmE+/y="]  # LiteLLM's Gemini ids
    old = [dict(m) for m in OLD_CONVERSATION]
    old[1]["call_id"], old[2]["call_id"] = odd
    interp.messages = old  # type: ignore[assignment]
    server.script(Reply.text("a"))
    try:
        chat(interp, server, "go on", hosted=True)
    finally:
        interp.computer.terminate()
    ids, answered = _call_ids(server.requests[0], anthropic=True)
    assert answered == ids and len(set(ids)) == 2
    assert all(re.fullmatch(r"[a-zA-Z0-9_-]+", i) for i in ids)
