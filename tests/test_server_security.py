"""Attacks on the server: foreign Origin / Host, missing or wrong tokens, settings tampering,
auto-run, exposure without a token. Real clients against uvicorn on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from interpreter import OpenInterpreter
from interpreter.server import serve
from interpreter.server.client import LmcClient
from interpreter.server.config import ConfigError, settings_for
from interpreter.server.runner import listen
from interpreter.testing.fake_server import FakeModelServer, Reply
from server_helpers import Start

TOKEN = "sec-token-456"


def raw_handshake(port: int, host: str, origin: str | None = None) -> str:
    """The status line of a websocket handshake sent with exactly these headers."""
    lines = [
        "GET / HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    if origin:
        lines.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return sock.recv(4096).decode("latin-1").split("\r\n")[0]


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "https://127.0.0.1.evil.example", "http://localhost:1", "null"],
)
def test_foreign_origin_websocket_gets_403(
    start: Start, model: FakeModelServer, origin: str
) -> None:
    server = start()
    with pytest.raises(InvalidStatus) as caught:
        connect(f"ws://127.0.0.1:{server.port}/", origin=origin, open_timeout=5)  # type: ignore[arg-type]
    assert caught.value.response.status_code == 403
    assert model.requests == []


def test_own_and_allowed_origins_are_served(start: Start) -> None:
    server = start(allowed_origins=("https://app.example",))
    for origin in (
        f"http://localhost:{server.port}",
        f"http://127.0.0.1:{server.port}",
        "https://app.example",
    ):
        status = raw_handshake(server.port, f"127.0.0.1:{server.port}", origin)
        assert status == "HTTP/1.1 101 Switching Protocols", origin


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "192.168.1.5:{port}", "localhost:1"]
)
def test_foreign_host_header_gets_403_on_http_and_websocket(start: Start, host: str) -> None:
    server = start()
    host = host.format(port=server.port)
    reply = httpx.get(
        f"http://127.0.0.1:{server.port}/heartbeat", headers={"Host": host}, timeout=5
    )
    assert reply.status_code == 403 and "Host" in reply.json()["error"]
    assert raw_handshake(server.port, host).startswith("HTTP/1.1 403")


def test_loopback_host_names_are_served(start: Start) -> None:
    server = start()
    for host in (
        "localhost",
        f"localhost:{server.port}",
        f"127.0.0.1:{server.port}",
        f"[::1]:{server.port}",
    ):
        reply = httpx.get(
            f"http://127.0.0.1:{server.port}/heartbeat", headers={"Host": host}, timeout=5
        )
        assert reply.status_code == 200, host


def test_missing_token_is_401_and_wrong_token_403(start: Start) -> None:
    base = f"http://127.0.0.1:{start().port}"
    missing = httpx.get(f"{base}/settings", timeout=5)
    wrong = httpx.get(f"{base}/settings", headers={"X-API-KEY": "guess"}, timeout=5)
    bearer = httpx.get(f"{base}/settings", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert missing.status_code == 401 and "token" in missing.json()["error"]
    assert wrong.status_code == 403 and wrong.json()["error"] == "forbidden: wrong token"
    assert bearer.status_code == 200


def test_openai_client_with_wrong_key_is_refused(start: Start, model: FakeModelServer) -> None:
    client = openai.OpenAI(
        base_url=f"http://127.0.0.1:{start().port}/openai", api_key="nope", max_retries=0
    )
    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(
            model="x", messages=[{"role": "user", "content": "rm -rf /"}]
        )
    assert model.requests == []


def test_websocket_wrong_auth_is_answered_false_and_closed(
    start: Start, model: FakeModelServer
) -> None:
    server = start()
    with connect(f"ws://127.0.0.1:{server.port}/", open_timeout=5) as ws:
        ws.send(json.dumps({"role": "user", "start": True}))  # no auth first
        assert json.loads(ws.recv(timeout=5)) == {"auth": False}
        assert json.loads(ws.recv(timeout=5))["type"] == "error"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    with LmcClient(f"ws://127.0.0.1:{server.port}/", "wrong", timeout=5) as client:
        assert client.authenticated is False
    assert model.requests == []


@pytest.mark.parametrize(
    ("payload", "name"),
    [
        ({"auto_run": True}, "auto_run"),
        ({"llm": {"api_base": "http://evil.example/v1"}}, "llm.api_base"),
        ({"llm": {"api_key": "sk-attacker"}}, "llm.api_key"),
        ({"llm": {"max_budget": 1000}}, "llm.max_budget"),
        ({"safe_mode": "off"}, "safe_mode"),
        ({"computer": {"languages": []}}, "computer"),
        ({"conversation_history_path": "/tmp/elsewhere"}, "conversation_history_path"),
        ({"custom_instructions": "fine", "auto_run": True}, "auto_run"),
    ],
)
def test_settings_tampering_is_403_and_changes_nothing(
    start: Start, payload: dict[str, Any], name: str
) -> None:
    server = start()
    for headers in ({"X-API-KEY": TOKEN}, {"X-API-KEY": TOKEN, "X-Session-Id": "victim"}):
        with httpx.Client(
            base_url=f"http://127.0.0.1:{server.port}", headers=headers, timeout=5
        ) as c:
            before = c.get("/settings").json()
            reply = c.post("/settings", json=payload)
            assert reply.status_code == 403
            assert name in reply.json()["error"] and "safety" in reply.json()["error"]
            assert c.get("/settings").json() == before


def test_api_key_is_never_returned(start: Start) -> None:
    with httpx.Client(
        base_url=f"http://127.0.0.1:{start().port}",
        headers={"X-API-KEY": TOKEN, "X-Session-Id": "k"},
        timeout=5,
    ) as c:
        bodies = [
            c.get(path)
            for path in ("/settings", "/settings/llm", "/settings/api_key", "/settings/llm.api_key")
        ]
    assert [b.status_code for b in bodies] == [200, 200, 403, 403]
    assert all("sk-test-secret" not in b.text for b in bodies)


def test_auto_run_cannot_be_switched_on_through_openai_tokens(
    start: Start, model: FakeModelServer, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    model.script(Reply.tool_call("shell", f"touch {marker}"))
    client = openai.OpenAI(
        base_url=f"http://127.0.0.1:{start().port}/openai",
        api_key=TOKEN,
        max_retries=0,
        default_headers={"X-Session-Id": "a"},
    )
    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(
            model="x", messages=[{"role": "user", "content": "{AUTO_RUN_ON}"}]
        )
    reply = client.chat.completions.create(model="x", messages=[{"role": "user", "content": "go"}])
    assert (reply.choices[0].message.content or "").endswith("Do you want to run this code?")
    assert not marker.exists()


def test_non_loopback_bind_without_token_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("INTERPRETER_API_KEY", raising=False)
    assert serve(OpenInterpreter(load_profile=False), "0.0.0.0", 0) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "INTERPRETER_API_KEY" in err and "0.0.0.0" in err
    with pytest.raises(ConfigError):
        settings_for(
            OpenInterpreter(load_profile=False), None, None, {"INTERPRETER_HOST": "192.168.0.9"}
        )


def test_token_is_generated_only_for_loopback_and_explicit_one_allows_exposure() -> None:
    interp = OpenInterpreter(load_profile=False)
    local = settings_for(interp, None, None, {})
    assert local.token_generated and len(local.token) >= 32 and local.host == "127.0.0.1"
    assert local.port == 8000
    exposed = settings_for(
        interp, "0.0.0.0", None, {"INTERPRETER_API_KEY": "k" * 40, "INTERPRETER_PORT": "9001"}
    )
    assert exposed.token == "k" * 40 and not exposed.token_generated and exposed.port == 9001


def test_serve_prints_a_generated_token_that_works(
    model: FakeModelServer, config_dir: Path
) -> None:
    port = listen().getsockname()[1]
    code = (
        "from interpreter import OpenInterpreter; from interpreter.server.app import serve; "
        f"i = OpenInterpreter(load_profile=False); i.llm.api_base = {model.url!r}; "
        f"raise SystemExit(serve(i, '127.0.0.1', {port}))"
    )
    env = {k: v for k, v in os.environ.items() if k != "INTERPRETER_API_KEY"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        token = lines[1].rsplit(" ", 1)[1].strip()
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{base}/heartbeat", timeout=1)
                break
            except httpx.TransportError:
                import time

                time.sleep(0.05)
        assert (
            httpx.get(f"{base}/settings", headers={"X-API-KEY": token}, timeout=5).status_code
            == 200
        )
        assert (
            httpx.get(f"{base}/settings", headers={"X-API-KEY": "x"}, timeout=5).status_code == 403
        )
    finally:
        proc.terminate()
        proc.wait(10)


def test_websocket_that_never_authenticates_is_closed(start: Start, model: FakeModelServer) -> None:
    server = start(auth_timeout=1.0)
    with connect(f"ws://127.0.0.1:{server.port}/", open_timeout=5) as ws:
        # says nothing: the server must give up on it (wait for the close, no sleep)
        assert json.loads(ws.recv(timeout=30)) == {"auth": False}
        error = json.loads(ws.recv(timeout=30))
        assert error["type"] == "error" and "timed out" in error["content"]
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    with LmcClient(f"ws://127.0.0.1:{server.port}/", TOKEN, timeout=5) as client:
        assert client.authenticated is True  # a prompt client is still served
    assert model.requests == []


def test_auth_timeout_comes_from_the_environment() -> None:
    interp = OpenInterpreter(load_profile=False)
    assert settings_for(interp, env={}).auth_timeout == 10.0
    assert settings_for(interp, env={"INTERPRETER_AUTH_TIMEOUT": "2.5"}).auth_timeout == 2.5
    for bad in ("soon", "0", "-1"):
        with pytest.raises(ConfigError, match="INTERPRETER_AUTH_TIMEOUT"):
            settings_for(interp, env={"INTERPRETER_AUTH_TIMEOUT": bad})
