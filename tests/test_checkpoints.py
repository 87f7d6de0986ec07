"""Checkpoints through the public surfaces: a snapshot of the working folder before every
approved run, put back byte for byte by ``interpreter.checkpoints``, ``%undo`` and
``%restore``, against the fake model and the real git store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint_helpers import CHANGE_TREE, make_tree, tree_state
from helpers import make_interpreter
from interpreter import OpenInterpreter
from interpreter.store.checkpoints import CheckpointError
from interpreter.terminal.magic import MagicContext, run_magic
from interpreter.testing.fake_server import FakeModelServer, Reply


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    make_tree(root)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def interp(server: FakeModelServer, tmp_path: Path) -> Iterator[OpenInterpreter]:
    it = make_interpreter(server, auto_run=True, checkpoints_enabled=True)
    it.conversation_history_path = str(tmp_path / "conversations")
    yield it
    it.computer.terminate()


def magic(interp: OpenInterpreter, line: str, answers: list[str]) -> list[str]:
    said: list[str] = []
    shown: list[str] = []

    def ask(question: str) -> str:
        said.append(question)
        return answers.pop(0)

    ctx = MagicContext(
        interp, said.append, lambda chunk: None, ask, lambda lang, t: shown.append(t)
    )
    run_magic(ctx, line)
    return said + shown


def change_tree(server: FakeModelServer, interp: OpenInterpreter, code: str = CHANGE_TREE) -> None:
    server.script(Reply.tool_call("python", code), Reply.text("Done."))
    interp.chat("change the files", display=False)


def test_a_run_is_undone_byte_for_byte_through_the_api(server, interp, tree) -> None:
    before = tree_state(tree)
    change_tree(server, interp)
    assert tree_state(tree) != before
    listed = interp.checkpoints.list()
    assert [(c.kind, c.language, c.label) for c in listed] == [
        ("run", "python", "import os, shutil")
    ]
    diff = interp.checkpoints.diff(listed[0].id)
    statuses = {c.status for c in diff.changes}
    assert statuses == {"added", "changed", "deleted"}
    assert "d19/f19.txt" in {c.path for c in diff.changes if c.status == "deleted"}
    saved, applied = interp.checkpoints.restore(listed[0].id)
    assert tree_state(tree) == before
    assert applied.summary() == diff.summary()
    interp.checkpoints.restore(saved.id)  # the restore is undone too
    assert "new/deeper/n0.txt" in tree_state(tree)


def test_a_checkpoint_names_its_code_message_and_messages_stay_as_they_were(
    server, interp, tree
) -> None:
    change_tree(server, interp)
    index = next(i for i, m in enumerate(interp.messages) if m["type"] == "code")
    assert interp.checkpoints.list()[0].message == index
    assert interp.checkpoints.since(0) == interp.checkpoints.list()[0].id
    assert interp.checkpoints.since(index + 1) is None
    assert all("checkpoint" not in m for m in interp.messages)


def test_undo_offers_messages_files_or_both(server, interp, tree) -> None:
    before = tree_state(tree)
    change_tree(server, interp)
    said = magic(interp, "%undo", ["f"])
    assert any("Undo (m)essages, (f)iles, (b)oth" in line for line in said)
    assert any(line.startswith("- d0/f0.txt") for line in "\n".join(said).splitlines())
    assert tree_state(tree) == before
    assert any(m["type"] == "code" for m in interp.messages)  # messages stay

    change_tree(server, interp)
    magic(interp, "%undo", ["m"])
    assert tree_state(tree) != before  # files stay
    assert [m["content"] for m in interp.messages if m["role"] == "user"] == ["change the files"]

    magic(interp, "%undo", ["b"])
    assert interp.messages == []
    assert tree_state(tree) == before


def test_undo_cancel_and_undo_n(server, interp, tree) -> None:
    before = tree_state(tree)
    change_tree(server, interp)
    server.script(Reply.tool_call("shell", "echo more > more.txt"), Reply.text("Done."))
    interp.chat("one more", display=False)
    count = len(interp.messages)
    said = magic(interp, "%undo 2", ["c"])
    assert "Nothing was undone." in said
    assert len(interp.messages) == count and (tree / "more.txt").exists()
    magic(interp, "%undo 2", ["b"])
    assert interp.messages == [] and tree_state(tree) == before
    assert "There are not 2 messages to undo." in magic(interp, "%undo 2", [])


def test_undo_without_file_changes_removes_messages_without_asking(server, interp, tree) -> None:
    server.script(Reply.tool_call("python", "print(1)"), Reply.text("Done."))
    interp.chat("print one", display=False)
    said = magic(interp, "%undo", [])  # no answer is needed: asking would fail
    assert interp.messages == [] and any("Removed" in line for line in said)


def test_checkpoints_lists_and_restore_asks(server, interp, tree) -> None:
    before = tree_state(tree)
    change_tree(server, interp)
    said = magic(interp, "%checkpoints", [])
    first = interp.checkpoints.list()[0]
    assert any(line.startswith(first.id) and "import os, shutil" in line for line in said)
    assert any("added" in line and "deleted" in line for line in said if first.id in line)
    assert "Nothing was restored." in magic(interp, f"%restore {first.id[:6]}", ["n"])
    assert tree_state(tree) != before
    magic(interp, f"%restore {first.id[:6]}", ["y"])
    assert tree_state(tree) == before
    assert any("nothing to do" in line for line in magic(interp, f"%restore {first.id}", []))
    assert any("no checkpoint" in line for line in magic(interp, "%restore beef00", []))


def test_gitignored_and_oversized_files_are_left_alone(server, interp, tree) -> None:
    (tree / ".gitignore").write_text("cache/\n")
    (tree / "cache").mkdir()
    (tree / "cache" / "c.txt").write_text("cached")
    interp.checkpoint_size_cap = 1000
    (tree / "big.dat").write_bytes(b"x" * 5000)
    server.script(
        Reply.tool_call(
            "python", "open('cache/c.txt','w').write('new'); open('big.dat','w').write('y')"
        ),
        Reply.text("Done."),
    )
    chunks = interp.chat("touch them", display=False, stream=True)
    notices = [c.get("content", "") for c in chunks if c.get("recipient") == "user"]
    assert any("leave out files over" in str(n) and "big.dat" in str(n) for n in notices)
    interp.checkpoints.restore("last")
    assert (tree / "cache" / "c.txt").read_text() == "new"  # ignored: not checkpointed
    assert (tree / "big.dat").read_text() == "y"


def test_the_users_own_git_repository_is_not_touched(server, interp, tree) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q"], cwd=tree, check=True)
    subprocess.run(["git", "add", "d0"], cwd=tree, check=True)
    git_before = {p: p.read_bytes() for p in (tree / ".git").rglob("*") if p.is_file()}
    change_tree(server, interp)
    interp.checkpoints.restore("last")
    git_after = {p: p.read_bytes() for p in (tree / ".git").rglob("*") if p.is_file()}
    assert git_after == git_before


def test_a_corrupt_store_is_one_notice_and_code_still_runs(server, interp, tree) -> None:
    change_tree(server, interp, "print('first')")
    store = interp.conversation_data_dir() / "checkpoints.git"
    for obj in (store / "objects").rglob("*"):
        if obj.is_file():
            obj.chmod(0o644)
            obj.write_bytes(b"garbage")
    server.script(Reply.tool_call("python", "print('still runs')"), Reply.text("Done."))
    chunks = interp.chat("again", display=False, stream=True)
    notices = [str(c.get("content")) for c in chunks if c.get("recipient") == "user"]
    assert len([n for n in notices if "Checkpoints are off" in n]) == 1
    assert len(notices[0].strip().splitlines()) == 1
    assert any("still runs" in str(m.get("content")) for m in interp.messages)
    with pytest.raises(CheckpointError):
        interp.checkpoints.restore("last")


def test_checkpoints_can_be_switched_off(server, interp, tree) -> None:
    interp.checkpoints_enabled = False
    change_tree(server, interp, "print('no snapshot')")
    assert interp.checkpoints.list() == []
    assert not (interp.conversation_data_dir() / "checkpoints.git").exists()


def test_declined_code_takes_no_checkpoint(server, interp, tree) -> None:
    interp.auto_run = False
    interp.approval_callback = lambda language, code: False
    change_tree(server, interp)
    assert interp.checkpoints.list() == []


def test_an_old_conversation_without_checkpoints_undoes_messages(server, interp, tree) -> None:
    interp.messages = [
        {"role": "user", "type": "message", "content": "hi"},
        {"role": "assistant", "type": "code", "format": "python", "content": "print(1)"},
        {"role": "computer", "type": "console", "format": "output", "content": "1"},
    ]
    said = magic(interp, "%undo", [])
    assert interp.messages == [] and any("Removed 3 message(s)" in line for line in said)
