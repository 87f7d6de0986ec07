"""What the web UI relies on, through real clients on loopback: the hash-bound ``go``, edited
code, ``decline``, the usage message, the session commands (resume, reset, settings) and
the conversation routes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from interpreter.core.safety import digest
from interpreter.server.client import LmcClient
from interpreter.server.runner import ServerThread
from interpreter.store.conversations import save_conversation
from interpreter.testing.fake_server import FakeModelServer, Reply
from webui_helpers import TOKEN, ui_servers

pytestmark = pytest.mark.deadline(120)


@pytest.fixture
def ui(model: FakeModelServer, config_dir: Path) -> Iterator[ServerThread]:
    with ui_servers(model) as start:
        yield start()


def ws(server: ServerThread) -> LmcClient:
    return LmcClient(f"ws://127.0.0.1:{server.port}/", TOKEN, timeout=20)


def http(server: ServerThread, **headers: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"http://127.0.0.1:{server.port}", headers={"X-API-KEY": TOKEN, **headers}
    )


def command(client: LmcClient, name: str, **args: Any) -> list[dict[str, Any]]:
    """One unframed command chunk (as the UI sends it); the chunks up to ``complete``."""
    client.send({"role": "user", "type": "command", "content": name, **args})
    return client.until_complete()


def output_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["content"] for c in chunks if c.get("format") == "output" and "content" in c)


def errors_of(chunks: list[dict[str, Any]]) -> list[str]:
    return [c["content"] for c in chunks if c.get("role") == "server" and c.get("type") == "error"]


def pending_hash(chunks: list[dict[str, Any]]) -> str:
    (confirmation,) = [c for c in chunks if c.get("type") == "confirmation"]
    value: str = confirmation["content"]["hash"]
    return value


# -- go bound to the hash ----------------------------------------------------------------


def test_go_with_a_stale_hash_runs_nothing_and_the_code_stays_pending(
    ui: ServerThread, model: FakeModelServer, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    model.script(Reply.tool_call("shell", f"touch {marker} && echo made"), Reply.text("done"))
    with ws(ui) as client:
        shown = pending_hash(client.chat("make it"))
        assert shown == digest(f"touch {marker} && echo made")
        refused = command(client, "go", hash=digest("something else"))
        assert errors_of(refused) == [
            "the hash does not match the code waiting for approval; nothing ran "
            "(approve the code as it is shown now)"
        ]
        assert not marker.exists() and len(model.requests) == 1
        ran = command(client, "go", hash=shown)
    assert output_of(ran) == "made\n" and marker.exists()
    assert errors_of(ran) == []


def test_framed_go_keeps_its_hash(ui: ServerThread, model: FakeModelServer) -> None:
    model.script(Reply.tool_call("shell", "echo framed"), Reply.text("done"))
    with ws(ui) as client:
        shown = pending_hash(client.chat("run it"))
        client.send({"role": "user", "type": "command", "start": True})
        client.send({"role": "user", "type": "command", "content": "go", "hash": "0" * 64})
        client.send({"role": "user", "type": "command", "end": True})
        assert errors_of(client.until_complete())  # the hash travelled with the framed command
        client.send({"role": "user", "type": "command", "start": True})
        client.send({"role": "user", "type": "command", "content": "go", "hash": shown})
        client.send({"role": "user", "type": "command", "end": True})
        assert output_of(client.until_complete()) == "framed\n"


def test_edited_code_with_its_hash_is_a_new_approval(
    ui: ServerThread, model: FakeModelServer
) -> None:
    model.script(Reply.tool_call("shell", "echo original"), Reply.text("done"))
    with ws(ui) as client:
        client.chat("say something")
        edited = "echo edited"
        assert errors_of(command(client, "go", code=edited, hash=digest("echo original"))) == [
            "the hash does not match the edited code; nothing ran"
        ]
        assert errors_of(command(client, "go", code="  ", hash=digest("  "))) == [
            "the edited code is empty; nothing ran"
        ]
        ran = command(client, "go", code=edited, hash=digest(edited))
    assert output_of(ran) == "edited\n"
    sent = json.dumps(model.requests[-1]["messages"])
    assert "edited" in sent and "echo original" not in output_of(ran)


def test_decline_runs_nothing_and_the_model_is_told(
    ui: ServerThread, model: FakeModelServer, tmp_path: Path
) -> None:
    marker = tmp_path / "declined"
    model.script(Reply.tool_call("shell", f"touch {marker}"))
    with ws(ui) as client:
        client.chat("make a file")
        chunks = command(client, "decline")
        assert command(client, "go") == [
            {"role": "server", "type": "error", "content": "no code is waiting for approval"}
        ]
    assert output_of(chunks) == "The user declined to run this code."
    assert not marker.exists() and len(model.requests) == 1


# -- the usage message ---------------------------------------------------------------------


def test_usage_message_before_each_complete_carries_the_session_totals(
    ui: ServerThread, model: FakeModelServer
) -> None:
    model.script(
        dataclasses.replace(Reply.text("one"), prompt_tokens=100, completion_tokens=7),
        dataclasses.replace(Reply.text("two"), prompt_tokens=150, completion_tokens=3),
    )
    with ws(ui) as client:
        first = client.chat("first")
        second = client.chat("second")
    assert first[-1]["role"] == "server" and first[-1]["type"] == "usage"
    usage = second[-1]["content"]
    assert {k: usage[k] for k in ("prompt_tokens", "completion_tokens", "total_tokens")} == {
        "prompt_tokens": 250,
        "completion_tokens": 10,
        "total_tokens": 260,
    }
    assert usage["model"] == "gpt-4o" and usage["cost"] > 0
    assert first[-1]["content"]["total_tokens"] == 107


# -- session commands ------------------------------------------------------------------------


def _saved(config_dir: Path, name: str, messages: list[dict[str, Any]]) -> Path:
    return save_conversation(messages, config_dir / "conversations", name)


HISTORY = [
    {"role": "user", "type": "message", "content": "what is 6 times 7"},
    {"role": "assistant", "type": "message", "content": "It is 42."},
]
NAME = "what_is_6_times__November_24_2026_19-37-58.json"


def test_resume_loads_a_saved_conversation_into_the_session(
    ui: ServerThread, model: FakeModelServer, config_dir: Path
) -> None:
    path = _saved(config_dir, NAME, HISTORY)
    model.script(Reply.text("And 42 plus 1 is 43."))
    with ws(ui) as client:
        (reply,) = command(client, "resume", conversation=NAME)
        assert reply == {
            "role": "server",
            "type": "conversation",
            "content": {
                "name": NAME,
                "title": "what is 6 times... (November 24 2026 19-37-58)",
                "messages": HISTORY,
            },
        }
        client.chat("plus one?")
    sent = [m["content"] for m in model.requests[0]["messages"] if m["role"] != "system"]
    assert sent == ["what is 6 times 7", "It is 42.", "plus one?"]
    saved = json.loads(path.read_text())  # the same file goes on
    assert [m["content"] for m in saved][-2:] == ["plus one?", "And 42 plus 1 is 43."]


@pytest.mark.parametrize("name", ["nope.json", "../secrets.json", "", None])
def test_resume_of_an_unknown_name_is_an_error(
    ui: ServerThread, config_dir: Path, name: str | None
) -> None:
    _saved(config_dir, NAME, HISTORY)
    with ws(ui) as client:
        errors = errors_of(command(client, "resume", conversation=name))
    assert len(errors) == 1 and "\n" not in errors[0]


def test_reset_starts_an_empty_conversation(ui: ServerThread, model: FakeModelServer) -> None:
    model.script(Reply.text("first answer"), Reply.text("fresh answer"))
    with ws(ui) as client:
        client.chat("first question")
        (reply,) = command(client, "reset")
        client.chat("new question")
    assert reply["content"] == {"name": None, "title": None, "messages": []}
    sent = [m["content"] for m in model.requests[1]["messages"] if m["role"] != "system"]
    assert sent == ["new question"]


def test_settings_command_changes_to_an_allowed_model_but_never_turns_auto_run_on(
    model: FakeModelServer, config_dir: Path
) -> None:
    model.script(Reply.text("hi"))
    with ui_servers(model) as start, ws(start(allowed_models=("gpt-4o-mini",))) as client:
        (view,) = command(client, "settings")
        assert view["type"] == "settings" and view["content"]["auto_run"] is False
        assert "sk-test-secret" not in json.dumps(view)
        (changed,) = command(client, "settings", settings={"llm": {"model": "gpt-4o-mini"}})
        assert changed["content"]["llm"]["model"] == "gpt-4o-mini"
        refused = errors_of(command(client, "settings", settings={"auto_run": True}))
        base = errors_of(command(client, "settings", settings={"llm": {"api_base": "http://x"}}))
        client.chat("hello")
    assert refused == ["the setting 'auto_run' cannot be changed through the server (safety)"]
    assert base == ["the setting 'llm.api_base' cannot be changed through the server (safety)"]
    assert model.requests[0]["model"] == "gpt-4o-mini"


def test_unknown_command_is_an_error(ui: ServerThread) -> None:
    with ws(ui) as client:
        assert errors_of(command(client, "dance")) == [
            "unknown command 'dance' (use go, decline, stop, resume, reset, settings, checkpoints, "
            "checkpoint_diff or restore)"
        ]


# -- conversation routes ---------------------------------------------------------------------


def test_conversation_routes_list_and_read_saved_conversations(
    ui: ServerThread, config_dir: Path
) -> None:
    _saved(config_dir, NAME, HISTORY)
    older = "hello__January_02_2025_10-00-00.json"
    _saved(config_dir, older, HISTORY[:1])
    (config_dir / "conversations" / "broken.json").write_text("{nope")
    with http(ui) as client:
        listing = client.get("/conversations").json()
        one = client.get(f"/conversations/{NAME}").json()
        missing = client.get("/conversations/nope.json")
        broken = client.get("/conversations/broken.json")
    names = [e["name"] for e in listing]
    assert sorted(names) == sorted([NAME, older, "broken.json"])
    assert names.index(NAME) < names.index(older)  # newest first (the date in the name)
    entry = {e["name"]: e for e in listing}
    assert entry[NAME]["when"] == "2026-11-24T19:37:58" and entry[NAME]["error"] is None
    assert entry["broken.json"]["error"]
    assert one == {"name": NAME, "title": entry[NAME]["title"], "messages": HISTORY}
    assert missing.status_code == 404 and broken.status_code == 404


def test_conversation_routes_need_the_token(ui: ServerThread) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{ui.port}") as client:
        assert client.get("/conversations").status_code == 401
        assert client.get("/conversations", headers={"X-API-KEY": "wrong"}).status_code == 403
