"""The server's protocols through real clients on loopback: 0.4.3's websocket, REST, OpenAI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from interpreter.core.safety import digest
from interpreter.server.client import LmcClient
from interpreter.server.runner import ServerThread
from interpreter.testing.fake_server import FakeModelServer, Reply
from server_helpers import Start

TOKEN = "test-token-123"


def ws(server: ServerThread) -> LmcClient:
    return LmcClient(f"ws://127.0.0.1:{server.port}/", TOKEN, timeout=15)


def http(server: ServerThread, **headers: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"http://127.0.0.1:{server.port}",
        headers={"X-API-KEY": TOKEN, **headers},
        timeout=15,
    )


def output_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["content"] for c in chunks if c.get("format") == "output" and "content" in c)


def text_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["content"] for c in chunks if c.get("type") == "message" and "content" in c)


# -- websocket -------------------------------------------------------------------------


def test_websocket_confirmation_then_go_runs_the_code(start: Start, model: FakeModelServer) -> None:
    model.script(
        Reply.text("Let me look.") + Reply.tool_call("shell", "echo hi-there"),
        Reply.text("All done."),
    )
    with ws(start()) as client:
        assert client.authenticated
        first = client.chat("say hi")
        assert text_of(first) == "Let me look."
        confirmation = [c for c in first if c["type"] == "confirmation"]
        assert confirmation == [
            {
                "role": "computer",
                "type": "confirmation",
                "format": "execution",
                "content": {
                    "type": "code",
                    "format": "shell",
                    "content": "echo hi-there",
                    "hash": digest("echo hi-there"),
                },
            }
        ]
        assert output_of(first) == ""  # nothing ran before "go"
        second = client.go()
    assert output_of(second) == "hi-there\n"
    assert text_of(second) == "All done."
    assert second[0] == {"role": "computer", "type": "console", "start": True}
    assert model.requests[0]["messages"][-1]["content"] == "say hi"
    assert "hi-there" in json.dumps(model.requests[1]["messages"][-1])


def test_websocket_bare_go_command_and_second_turn_keeps_history(
    start: Start, model: FakeModelServer
) -> None:
    model.script(Reply.tool_call("shell", "echo one"), Reply.text("first"), Reply.text("second"))
    with ws(start()) as client:
        assert client.pending_code(client.chat("turn one"))
        client.send({"type": "command", "content": "go"})
        assert text_of(client.until_complete()) == "first"
        assert text_of(client.chat("turn two")) == "second"
    sent = [m.get("content") for m in model.requests[2]["messages"] if m["role"] == "user"]
    assert sent == ["turn one", "turn two"]


def test_websocket_new_message_declines_pending_code(
    start: Start, model: FakeModelServer, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    model.script(Reply.tool_call("shell", f"touch {marker}"), Reply.text("ok then"))
    with ws(start()) as client:
        assert client.pending_code(client.chat("make the file"))
        assert text_of(client.chat("never mind")) == "ok then"
    assert not marker.exists()
    last = model.requests[1]["messages"]
    assert last[-1] == {"role": "user", "content": "never mind"}


def test_websocket_stop_command_stops_running_code(
    start: Start, model: FakeModelServer, tmp_path: Path
) -> None:
    marker = tmp_path / "late"
    model.script(Reply.tool_call("shell", f"echo started; sleep 5; touch {marker}"))
    with ws(start()) as client:
        assert client.pending_code(client.chat("slow"))
        client.command("go")
        while client.receive().get("content") != "started\n":
            pass
        client.command("stop")
        rest = client.until_complete()
    assert not any(c.get("type") == "error" for c in rest)
    assert not marker.exists()


def test_websocket_go_without_pending_code_is_an_error(start: Start) -> None:
    with ws(start()) as client:
        client.command("go")
        chunks = client.until_complete()
    assert chunks == [
        {"role": "server", "type": "error", "content": "no code is waiting for approval"}
    ]


def test_websocket_model_error_is_reported_then_complete(
    start: Start, model: FakeModelServer
) -> None:
    model.script(Reply.status(401, body="bad key"))
    with ws(start()) as client:
        chunks = client.chat("hello")
    errors = [c for c in chunks if c.get("role") == "server" and c.get("type") == "error"]
    assert len(errors) == 1 and errors[0]["type"] == "error"
    assert "\n" not in errors[0]["content"] and errors[0]["content"]


def test_websocket_not_json_gets_error(start: Start) -> None:
    with ws(start()) as client:
        client.ws.send("{nope")
        chunks = client.until_complete()
    assert chunks == [{"role": "server", "type": "error", "content": "a message is not JSON"}]


def test_auto_run_operator_setting_runs_without_go(start: Start, model: FakeModelServer) -> None:
    model.script(Reply.tool_call("shell", "echo auto"), Reply.text("fin"))
    with ws(start(auto_run=True)) as client:
        chunks = client.chat("go ahead")
    assert not client.pending_code(chunks)
    assert output_of(chunks) == "auto\n" and text_of(chunks) == "fin"


# -- REST ------------------------------------------------------------------------------


def test_heartbeat_needs_no_token(start: Start) -> None:
    server = start()
    reply = httpx.get(f"http://127.0.0.1:{server.port}/heartbeat", timeout=5)
    assert reply.status_code == 200 and reply.json() == {"status": "alive"}


def test_settings_read_and_change_per_session(start: Start) -> None:
    server = start(allowed_models=("gpt-4o-mini",))
    with http(server, **{"X-Session-Id": "s1"}) as client:
        change = {"custom_instructions": "be brief", "llm": {"model": "gpt-4o-mini"}}
        assert client.post("/settings", json=change).json() == {"status": "success"}
        view = client.get("/settings").json()
        assert view["custom_instructions"] == "be brief"
        assert view["llm"]["model"] == "gpt-4o-mini"
        assert view["auto_run"] is False
        assert "api_key" not in view["llm"] and view["llm"]["api_key_set"] is True
        assert client.get("/settings/custom_instructions").json() == {
            "custom_instructions": "be brief"
        }
    with http(server, **{"X-Session-Id": "s2"}) as other:
        assert other.get("/settings").json()["custom_instructions"] == ""


def test_settings_without_session_become_defaults_for_new_sessions(
    start: Start, model: FakeModelServer
) -> None:
    server = start()
    model.script(Reply.text("hello"))
    with http(server) as client:
        assert (
            client.post(
                "/settings", json={"custom_instructions": "SPEAK LIKE A PIRATE"}
            ).status_code
            == 200
        )
    with ws(server) as session:
        session.chat("hi")
    assert "SPEAK LIKE A PIRATE" in model.requests[0]["messages"][0]["content"]


def test_settings_errors_are_clear_json(start: Start) -> None:
    with http(start(), **{"X-Session-Id": "x"}) as client:
        unknown = client.post("/settings", json={"no_such_thing": 1})
        bad = client.post("/settings", json={"max_output": "lots"})
    assert unknown.status_code == 404 and "no_such_thing" in unknown.json()["error"]
    assert bad.status_code == 400 and "max_output" in bad.json()["error"]


def test_messages_readable_per_session(start: Start, model: FakeModelServer) -> None:
    server = start()
    model.script(Reply.text("pong"))
    oa = openai.OpenAI(
        base_url=f"http://127.0.0.1:{server.port}/openai",
        api_key=TOKEN,
        default_headers={"X-Session-Id": "m1"},
    )
    oa.chat.completions.create(model="x", messages=[{"role": "user", "content": "ping"}])
    with http(server, **{"X-Session-Id": "m1"}) as client:
        messages = client.get("/settings/messages").json()["messages"]
    assert messages == [
        {"role": "user", "type": "message", "content": "ping"},
        {"role": "assistant", "type": "message", "content": "pong"},
    ]


# -- OpenAI-compatible -----------------------------------------------------------------


def _openai(server: ServerThread, session: str | None = None) -> openai.OpenAI:
    headers = {"X-Session-Id": session} if session else None
    return openai.OpenAI(
        base_url=f"http://127.0.0.1:{server.port}/openai",
        api_key=TOKEN,
        default_headers=headers,
        max_retries=0,
        timeout=15,
    )


def test_openai_client_non_streaming_with_auto_run(start: Start, model: FakeModelServer) -> None:
    model.script(
        Reply.text("Running it.") + Reply.tool_call("shell", "echo 42"),
        Reply.text("The answer is 42."),
    )
    reply = _openai(start(auto_run=True)).chat.completions.create(
        model="open-interpreter", messages=[{"role": "user", "content": "what is it?"}]
    )
    content = reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop"
    assert (
        content == "Running it.\n\n```shell\necho 42\n```\n\n\n```\n42\n\n```\n\nThe answer is 42."
    )


def test_openai_client_streaming_approval_with_yes(
    start: Start, model: FakeModelServer, tmp_path: Path
) -> None:
    marker = tmp_path / "made"
    model.script(Reply.tool_call("shell", f"touch {marker} && echo made"), Reply.text("Done."))
    client = _openai(start(), "stream-1")
    first = client.chat.completions.create(
        model="x", messages=[{"role": "user", "content": "make it"}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in first)
    assert text.endswith("Do you want to run this code?") and "```shell" in text
    assert not marker.exists()
    second = client.chat.completions.create(
        model="x", messages=[{"role": "user", "content": "Yes!"}], stream=True
    )
    chunks = list(second)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert marker.exists()
    assert "made" in text and text.endswith("Done.")
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_openai_model_error_is_an_api_error(start: Start, model: FakeModelServer) -> None:
    model.script(Reply.status(400, body="context too long"))
    with pytest.raises(openai.APIStatusError) as caught:
        _openai(start()).chat.completions.create(
            model="x", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.status_code == 502


def test_openai_last_message_must_be_user(start: Start) -> None:
    with pytest.raises(openai.BadRequestError):
        _openai(start()).chat.completions.create(
            model="x", messages=[{"role": "assistant", "content": "hi"}]
        )
