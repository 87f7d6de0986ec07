"""Sessions: isolation under concurrency, the session limit, and clean-up when a client leaves."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from interpreter.server.client import LmcClient
from interpreter.testing.fake_server import FakeModelServer, Reply
from server_helpers import Start

TOKEN = "sessions-token"


def keyed_responder(request: dict[str, Any]) -> Reply:
    """``task N`` -> run ``echo answer-N``; its output -> ``final answer-N``."""
    last = request["messages"][-1]
    if last["role"] == "tool":
        return Reply.text(f"final {str(last['content']).strip()}")
    match = re.search(r"task (\d+)", str(last.get("content")))
    number = match.group(1) if match else "?"
    return Reply.tool_call("shell", f"echo answer-{number}")


@pytest.fixture
def model() -> Iterator[FakeModelServer]:
    with FakeModelServer(responder=keyed_responder) as srv:
        yield srv


def in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Runs ``work(i)`` in ``count`` threads at once; returns results (or raises the first error)."""
    results: list[Any] = [None] * count
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            barrier.wait(10)
            results[i] = work(i)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a session hung"
    if errors:
        raise errors[0]
    return results


def text_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["content"] for c in chunks if c.get("type") == "message" and "content" in c)


def test_twenty_concurrent_websocket_sessions_get_their_own_answers(start: Start) -> None:
    server = start(max_sessions=20)

    def session(i: int) -> tuple[str, str]:
        with LmcClient(f"ws://127.0.0.1:{server.port}/", TOKEN, timeout=30) as client:
            assert client.pending_code(client.chat(f"task {i}"))
            first = text_of(client.go())
            assert client.pending_code(client.chat(f"task {i + 100}"))
            return first, text_of(client.go())

    results = in_threads(20, session)
    assert results == [(f"final answer-{i}", f"final answer-{i + 100}") for i in range(20)]


def test_twenty_concurrent_openai_sessions_keep_isolated_messages(start: Start) -> None:
    server = start(auto_run=True, max_sessions=20)
    base = f"http://127.0.0.1:{server.port}"

    def session(i: int) -> str:
        client = openai.OpenAI(
            base_url=f"{base}/openai",
            api_key=TOKEN,
            max_retries=0,
            timeout=30,
            default_headers={"X-Session-Id": f"s{i}"},
        )
        stream = client.chat.completions.create(
            model="x", messages=[{"role": "user", "content": f"task {i}"}], stream=True
        )
        return "".join(c.choices[0].delta.content or "" for c in stream)

    texts = in_threads(20, session)
    for i, text in enumerate(texts):
        assert text.endswith(f"final answer-{i}") and f"echo answer-{i}\n" in text
    with httpx.Client(base_url=base, headers={"X-API-KEY": TOKEN}, timeout=10) as http:
        for i in range(20):
            messages = http.get("/settings/messages", headers={"X-Session-Id": f"s{i}"}).json()[
                "messages"
            ]
            assert [m["content"] for m in messages] == [
                f"task {i}",
                f"echo answer-{i}",
                f"answer-{i}\n",
                f"final answer-{i}",
            ]


def test_session_limit_gives_a_clear_error(start: Start) -> None:
    server = start(max_sessions=2)
    url = f"ws://127.0.0.1:{server.port}/"
    with LmcClient(url, TOKEN) as one, LmcClient(url, TOKEN) as two:
        assert one.authenticated and two.authenticated
        with LmcClient(url, TOKEN, timeout=5) as three:
            error = three.receive()
        assert error["role"] == "server" and error["type"] == "error"
        assert "2 sessions" in error["content"]
        reply = httpx.post(
            f"http://127.0.0.1:{server.port}/openai/chat/completions",
            headers={"X-API-KEY": TOKEN, "X-Session-Id": "extra"},
            json={"model": "x", "messages": [{"role": "user", "content": "hi"}]},
            timeout=10,
        )
        assert reply.status_code == 503 and "max_sessions" in reply.json()["error"]["message"]
    for _ in range(100):  # the two closed sessions free their places
        with LmcClient(url, TOKEN, timeout=5) as again:
            if again.authenticated and again.chat("task 7")[0].get("role") != "server":
                break
        time.sleep(0.05)
    else:
        pytest.fail("sessions were not released when their clients left")


def test_disconnect_mid_run_stops_the_code_and_keeps_the_history(
    start: Start, model: FakeModelServer, config_dir: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "finished"
    model.responder = None
    model.script(Reply.tool_call("shell", f"echo started; sleep 2; touch {marker}"))
    server = start()
    with LmcClient(f"ws://127.0.0.1:{server.port}/", TOKEN, timeout=10) as client:
        assert client.pending_code(client.chat("run the slow job"))
        client.command("go")
        while client.receive().get("content") != "started\n":
            pass
    time.sleep(3)
    assert not marker.exists()
    saved = [json.loads(p.read_text()) for p in (config_dir / "conversations").glob("*.json")]
    assert len(saved) == 1
    assert saved[0][0] == {"role": "user", "type": "message", "content": "run the slow job"}
    assert saved[0][1]["type"] == "code" and "sleep 2" in saved[0][1]["content"]
    assert saved[0][2]["type"] == "console" and saved[0][2]["content"].startswith("started")


def test_closing_a_rest_session_frees_it(start: Start) -> None:
    server = start(max_sessions=1)
    with httpx.Client(
        base_url=f"http://127.0.0.1:{server.port}", headers={"X-API-KEY": TOKEN}, timeout=10
    ) as http:
        assert http.get("/settings", headers={"X-Session-Id": "a"}).status_code == 200
        assert http.get("/settings", headers={"X-Session-Id": "b"}).status_code == 503
        assert http.delete("/sessions/a").status_code == 200
        assert http.delete("/sessions/a").status_code == 404
        assert http.get("/settings", headers={"X-Session-Id": "b"}).status_code == 200
