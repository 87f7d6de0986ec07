"""The fake model server speaks real HTTP: OpenAI SSE, Anthropic SSE, errors, cuts, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from interpreter.testing.fake_server import NO_REPLY_LEFT, FakeModelServer, Reply

TIMEOUT = httpx.Timeout(10.0)


def sse_payloads(response: httpx.Response) -> list[str]:
    return [line[6:] for line in response.iter_lines() if line.startswith("data: ")]


def stream_chat(server: FakeModelServer, **extra: Any) -> list[str]:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    body.update(extra)
    with httpx.stream("POST", server.url + "/chat/completions", json=body, timeout=TIMEOUT) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/event-stream"
        return sse_payloads(r)


def test_text_streams_in_chunks_and_ends_with_done(server: FakeModelServer) -> None:
    server.script(Reply.text("Hello wonderful world", chunk_size=5))
    payloads = stream_chat(server)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    deltas = [c["choices"][0]["delta"].get("content") for c in chunks]
    assert [d for d in deltas if d] == ["Hello", " wond", "erful", " worl", "d"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert server.requests[0]["messages"][0]["content"] == "hi"


def test_tool_call_arguments_stream_in_pieces_with_usage(server: FakeModelServer) -> None:
    server.script(Reply.text("Running:") + Reply.tool_call("python", "print(1)", call_id="c1"))
    payloads = stream_chat(server, stream_options={"include_usage": True})
    chunks = [json.loads(p) for p in payloads[:-1]]
    calls = [
        tc for c in chunks if c["choices"] for tc in c["choices"][0]["delta"].get("tool_calls", [])
    ]
    assert calls[0]["id"] == "c1" and calls[0]["function"]["name"] == "execute"
    args = "".join(tc["function"]["arguments"] for tc in calls)
    assert json.loads(args) == {"language": "python", "code": "print(1)"}
    assert len(calls) > 2
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0


def test_status_with_retry_after_and_empty_script(server: FakeModelServer) -> None:
    server.script(Reply.status(429, retry_after=2, body="slow down"))
    r = httpx.post(server.url + "/chat/completions", json={"messages": []}, timeout=TIMEOUT)
    assert r.status_code == 429 and r.headers["retry-after"] == "2"
    assert r.json()["error"]["message"] == "slow down"
    r = httpx.post(server.url + "/chat/completions", json={"messages": []}, timeout=TIMEOUT)
    assert r.status_code == 500 and r.json()["error"]["message"] == NO_REPLY_LEFT
    assert len(server.requests) == 2


def test_cut_stream_has_no_done_and_breaks_the_body(server: FakeModelServer) -> None:
    server.script(Reply.cut(Reply.text("a b c d e f g h", chunk_size=1), after_events=3))
    body = {"messages": [], "stream": True}
    got: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("POST", server.url + "/chat/completions", json=body, timeout=TIMEOUT) as r,
    ):
        got.extend(sse_payloads(r))
    assert "[DONE]" not in got and len(got) <= 3


def test_malformed_event_and_delay(server: FakeModelServer) -> None:
    server.script(Reply.delay(0.05, Reply.malformed(Reply.text("x y", chunk_size=1))))
    start = time.monotonic()
    payloads = stream_chat(server)
    assert time.monotonic() - start >= 0.2
    with pytest.raises(json.JSONDecodeError):
        json.loads(payloads[1])


def test_non_streaming_and_models(server: FakeModelServer) -> None:
    server.script(Reply.raw_arguments('{"language": "python", "code": "pri'))
    r = httpx.post(server.url + "/chat/completions", json={"messages": []}, timeout=TIMEOUT)
    message = r.json()["choices"][0]["message"]
    assert message["tool_calls"][0]["function"]["arguments"].endswith('"pri')
    models = httpx.get(server.url + "/models", timeout=TIMEOUT).json()
    assert models["data"][0]["id"]


def test_responder_answers_when_script_is_empty() -> None:
    def echo(request: dict[str, Any]) -> Reply:
        return Reply.text("echo " + request["messages"][-1]["content"])

    with FakeModelServer(responder=echo) as srv:
        for word in ("one", "two"):
            body = {"messages": [{"role": "user", "content": word}]}
            r = httpx.post(srv.url + "/chat/completions", json=body, timeout=TIMEOUT)
            assert r.json()["choices"][0]["message"]["content"] == f"echo {word}"


def test_anthropic_messages_stream(server: FakeModelServer) -> None:
    server.script(
        Reply.text("Hi there", chunk_size=3) + Reply.tool_call("shell", "ls", call_id="t1")
    )
    body = {"model": "claude-x", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    with httpx.stream("POST", server.url + "/messages", json=body, headers=headers) as r:
        lines = list(r.iter_lines())
    events = [line[7:] for line in lines if line.startswith("event: ")]
    data = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    text = "".join(
        d["delta"]["text"]
        for d in data
        if d["type"] == "content_block_delta" and d["delta"]["type"] == "text_delta"
    )
    args = "".join(
        d["delta"]["partial_json"]
        for d in data
        if d.get("delta", {}).get("type") == "input_json_delta"
    )
    assert text == "Hi there" and json.loads(args) == {"language": "shell", "code": "ls"}
    starts = [d["content_block"] for d in data if d["type"] == "content_block_start"]
    assert starts[1]["type"] == "tool_use" and starts[1]["id"] == "t1"
    delta = next(d for d in data if d["type"] == "message_delta")
    assert delta["delta"]["stop_reason"] == "tool_use" and delta["usage"]["output_tokens"] > 0
    assert server.request_headers[0]["x-api-key"] == "k"


def test_openai_sdk_understands_the_stream(server: FakeModelServer) -> None:
    openai = pytest.importorskip("openai")
    server.script(Reply.text("Hello from the SDK"))
    client = openai.OpenAI(base_url=server.url, api_key="x", max_retries=0)
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Hello from the SDK"


def test_cli_serves_script_and_logs(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"text": "from cli"}, {"status": 429, "retry_after": 1}]))
    log = tmp_path / "log.jsonl"
    cmd = [sys.executable, "-m", "interpreter.testing.fake_server", "--script", str(script)]
    proc = subprocess.Popen([*cmd, "--log", str(log)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.split()[-1]
        r = httpx.post(url + "/chat/completions", json={"messages": []}, timeout=TIMEOUT)
        assert r.json()["choices"][0]["message"]["content"] == "from cli"
        r = httpx.post(url + "/chat/completions", json={"messages": [1]}, timeout=TIMEOUT)
        assert r.status_code == 429
        logged = [json.loads(x) for x in log.read_text().splitlines()]
        assert logged == [{"messages": []}, {"messages": [1]}]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
