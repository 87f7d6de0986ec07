"""``%undo`` and ``%reset`` reach the conversation file, so ``--conversations`` resumes the
conversation as it was left: the real command in a pty, against the fake model server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import Cli, cli_env, model_args


@pytest.fixture
def cli_factory(tmp_path: Path, server: FakeModelServer) -> Iterator[Callable[..., Cli]]:
    started: list[Cli] = []

    def start(*extra: str) -> Cli:
        cli = Cli([*model_args(server.url), *extra], cli_env(tmp_path / "cfg"), tmp_path)
        started.append(cli)
        return cli

    yield start
    for cli in started:
        cli.kill()


def _folder(tmp_path: Path) -> Path:
    return tmp_path / "cfg" / "open-interpreter" / "conversations"


def _saved(path: Path) -> list[str]:
    return [str(m["content"]) for m in json.loads(path.read_text())]


def _chat(cli: Cli, *turns: tuple[str, str]) -> None:
    """Send each (message, expected reply) at the prompt."""
    for text, reply in turns:
        cli.prompt()
        cli.send_line(text)
        cli.expect_text(reply)


def _magic(cli: Cli, line: str, answer: str) -> None:
    cli.prompt()
    cli.send_line(line)
    cli.expect_text(answer)


def _sent(request: dict[str, Any]) -> list[str]:
    return [str(m["content"]) for m in request["messages"] if m["role"] != "system"]


def _resume(cli: Cli, folder: Path, first_words: str) -> None:
    """Pick the conversation whose title starts with ``first_words`` in the list."""
    from interpreter.store.conversations import list_conversations

    titles = [entry.title for entry in list_conversations(folder)]
    (index,) = [i for i, title in enumerate(titles) if title.startswith(first_words)]
    cli.expect_text(first_words)
    cli.expect_text("Open folder")
    cli.child.send(b"\x1b[B" * index + b"\r")  # down arrows, Enter


def test_undo_is_saved_and_resuming_does_not_bring_the_turn_back(
    tmp_path: Path, server: FakeModelServer, cli_factory: Callable[..., Cli]
) -> None:
    server.script(Reply.text("Noted: seven."), Reply.text("Noted: eight."), Reply.text("Seven."))
    cli = cli_factory()
    _chat(cli, ("remember seven please", "Noted: seven."), ("and eight too", "Noted: eight."))
    _magic(cli, "%undo", "Removed 2 message(s)")
    cli.prompt()
    assert cli.quit() == 0
    (saved,) = _folder(tmp_path).glob("*.json")
    assert _saved(saved) == ["remember seven please", "Noted: seven."]

    again = cli_factory("--conversations")
    _resume(again, _folder(tmp_path), "remember seven")
    again.expect_text("Noted: seven.")  # replayed
    _chat(again, ("which numbers?", "Seven."))
    again.prompt()
    assert again.quit() == 0
    assert "Noted: eight." not in again.output().decode(errors="replace")
    assert _sent(server.requests[-1]) == [
        "remember seven please",
        "Noted: seven.",
        "which numbers?",
    ]
    assert list(_folder(tmp_path).glob("*.json")) == [saved]


def test_undoing_every_turn_removes_the_file_and_the_next_message_starts_a_new_one(
    tmp_path: Path, server: FakeModelServer, cli_factory: Callable[..., Cli]
) -> None:
    server.script(Reply.text("Secret noted."), Reply.text("Fresh start."))
    cli = cli_factory()
    _chat(cli, ("my secret words", "Secret noted."))
    cli.prompt()  # the turn is over (and saved) once the prompt is back
    assert len(list(_folder(tmp_path).glob("*.json"))) == 1
    cli.send_line("%undo")
    cli.expect_text("Removed 2 message(s)")  # said once the file is gone
    assert list(_folder(tmp_path).glob("*.json")) == []
    _chat(cli, ("something else entirely", "Fresh start."))
    cli.prompt()
    assert cli.quit() == 0
    (saved,) = _folder(tmp_path).glob("*.json")
    assert saved.name.startswith("something_else") and "secret" not in saved.read_text()


def test_reset_starts_a_new_saved_conversation_and_keeps_the_previous_one(
    tmp_path: Path, server: FakeModelServer, cli_factory: Callable[..., Cli]
) -> None:
    server.script(Reply.text("Hello there."), Reply.text("Again here."), Reply.text("Only again."))
    cli = cli_factory()
    _chat(cli, ("hello before reset", "Hello there."))
    _magic(cli, "%reset", "the previous one stays saved as 'hello before")
    _chat(cli, ("again after reset", "Again here."))
    cli.prompt()
    assert cli.quit() == 0
    files = {_saved(p)[0]: _saved(p) for p in _folder(tmp_path).glob("*.json")}
    assert files == {
        "hello before reset": ["hello before reset", "Hello there."],
        "again after reset": ["again after reset", "Again here."],
    }
    assert _sent(server.requests[1]) == ["again after reset"]

    again = cli_factory("--conversations")
    _resume(again, _folder(tmp_path), "again after")
    _chat(again, ("what came before?", "Only again."))
    again.prompt()
    assert again.quit() == 0
    assert _sent(server.requests[-1]) == ["again after reset", "Again here.", "what came before?"]
