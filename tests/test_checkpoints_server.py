"""Checkpoints over the server with real clients on loopback: the REST routes (a session
named by ``X-Session-Id``) and the websocket's commands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from checkpoint_helpers import CHANGE_TREE_SHELL, make_tree, tree_state
from helpers import make_interpreter
from interpreter.server import ServerSettings, create_app
from interpreter.server.client import LmcClient
from interpreter.server.runner import ServerThread, listen
from interpreter.testing.fake_server import FakeModelServer, Reply
from webui_helpers import TOKEN

pytestmark = pytest.mark.deadline(120)


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    make_tree(root, files=200)
    monkeypatch.chdir(root)  # the server's sessions work here
    return root


@pytest.fixture
def served(model: FakeModelServer, config_dir: Path, tree: Path) -> Iterator[ServerThread]:
    sock = listen()
    config = ServerSettings(
        make_interpreter=lambda: make_interpreter(model, checkpoints_enabled=True),
        token=TOKEN,
        port=sock.getsockname()[1],
    )
    server = ServerThread(create_app(config), sock).start()
    yield server
    server.stop()


def http(server: ServerThread, **headers: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"http://127.0.0.1:{server.port}",
        headers={"X-API-KEY": TOKEN, **headers},
        timeout=30,
    )


def ask(client: httpx.Client, text: str) -> str:
    body = {"model": "x", "messages": [{"role": "user", "content": text}]}
    reply = client.post("/openai/chat/completions", json=body)
    assert reply.status_code == 200, reply.text
    content: str = reply.json()["choices"][0]["message"]["content"]
    return content


def test_rest_routes_list_diff_and_restore(served, model, tree) -> None:
    before = tree_state(tree)
    model.script(Reply.tool_call("shell", CHANGE_TREE_SHELL), Reply.text("Done."))
    with http(served, **{"X-Session-Id": "s1"}) as client:
        ask(client, "change the files")
        assert "changed the tree" in ask(client, "yes")
        (listed,) = client.get("/checkpoints").json()
        assert listed["kind"] == "run" and listed["language"] == "shell"
        assert listed["label"].startswith("rm d0/f0.txt")
        assert "deleted" in listed["touched"]["summary"]
        diff = client.get(f"/checkpoints/{listed['id'][:8]}").json()
        assert diff["checkpoint"] == listed["id"]
        assert {"path": "d0/f0.txt", "status": "deleted", "added": 0, "removed": 1,
                "binary": False} in diff["changes"]  # fmt: skip
        assert "-file 0" in diff["patch"]  # the run deleted its line
        restored = client.post(f"/checkpoints/{listed['id']}/restore").json()
        assert restored["restored"] == listed["id"] and restored["saved"]
        assert tree_state(tree) == before
        assert client.get("/checkpoints/beef1234").status_code == 404
    with http(served) as other:  # another session has checkpoints of its own
        assert other.get("/checkpoints").json() == []


def test_checkpoint_routes_need_the_token(served) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{served.port}") as client:
        assert client.get("/checkpoints").status_code == 401
        assert client.post("/checkpoints/abc/restore").status_code == 401


def test_websocket_commands_list_diff_and_restore(served, model, tree) -> None:
    before = tree_state(tree)
    model.script(Reply.tool_call("shell", CHANGE_TREE_SHELL), Reply.text("Done."))
    with LmcClient(f"ws://127.0.0.1:{served.port}/", TOKEN, timeout=30) as client:
        chunks = client.chat("change the files")
        (confirmation,) = [c for c in chunks if c.get("type") == "confirmation"]
        client.send({"role": "user", "type": "command", "content": "go",
                     "hash": confirmation["content"]["hash"]})  # fmt: skip
        client.until_complete()
        listed = reply_of(client, "checkpoints")["content"]
        ident = listed[0]["id"]
        diff = reply_of(client, "checkpoint_diff", checkpoint=ident)["content"]
        assert diff["checkpoint"] == ident and diff["changes"]
        restored = reply_of(client, "restore", checkpoint=ident)
        assert restored["type"] == "restored" and restored["content"]["restored"] == ident
        assert tree_state(tree) == before
        client.send({"role": "user", "type": "command", "content": "restore"})
        errors = [c["content"] for c in client.until_complete() if c.get("type") == "error"]
        assert errors == ["restore needs 'checkpoint': an id from the checkpoints command"]


def reply_of(client: LmcClient, name: str, **args: str) -> dict[str, object]:
    client.send({"role": "user", "type": "command", "content": name, **args})
    (reply,) = [c for c in client.until_complete() if c.get("role") == "server"
                and c.get("type") not in ("usage", "status")]  # fmt: skip
    return reply
