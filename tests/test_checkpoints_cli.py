"""``%undo`` in the real ``interpreter`` command, in a pseudo-terminal: code approved at
the prompt changes a 2 000-file tree, and ``%undo`` puts it back byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkpoint_helpers import CHANGE_TREE, CHANGE_TREE_SHELL, make_tree, tree_state
from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import QUESTION, Cli, cli_env, model_args

pytestmark = pytest.mark.deadline(180)


@pytest.mark.parametrize(
    ("language", "code"), [("python", CHANGE_TREE), ("shell", CHANGE_TREE_SHELL)]
)
def test_undo_puts_the_files_back_after_approved_code(
    tmp_path: Path, server: FakeModelServer, language: str, code: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    make_tree(work)
    before = tree_state(work)
    server.script(Reply.tool_call(language, code), Reply.text("The files are changed."))
    cli = Cli(
        [*model_args(server.url), "--checkpoints"], cli_env(tmp_path / "cfg"), work, timeout=60
    )
    try:
        cli.prompt()
        cli.send_line("change the files")
        cli.expect_text(QUESTION)
        cli.send_line("y")
        cli.expect_text("The files are changed.")
        cli.prompt()
        assert tree_state(work) != before
        cli.send_line("%checkpoints")
        cli.expect_text("%restore ID puts the files back")
        cli.prompt()
        cli.send_line("%undo")
        cli.expect_text("Undo (m)essages, (f)iles, (b)oth, or (c)ancel?")
        cli.send_line("b")
        cli.expect_text("Files put back as they were at checkpoint")
        cli.expect_text("Removed 4 message(s)")
        cli.prompt()
        assert tree_state(work) == before
        assert cli.quit() == 0
    finally:
        cli.kill()
    screen = cli.output().decode(errors="replace")
    assert "d0/f0.txt" in screen  # the summary named the deleted file before asking
