"""Usage in the terminal, in a real pseudo-terminal: a dim line after each turn, %tokens
and %compact."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import Cli, cli_env, model_args


@pytest.mark.deadline(90)
def test_a_dim_usage_line_after_each_turn_and_percent_tokens(
    tmp_path: Path, server: FakeModelServer
) -> None:
    server.script(
        replace(Reply.text("Hello!"), prompt_tokens=1200, completion_tokens=34, cached_tokens=1000)
    )
    cli = Cli(model_args(server.url), cli_env(tmp_path / "cfg"), tmp_path)
    try:
        cli.prompt()
        cli.send_line("hi there")
        line = "1 request: 1,200 tokens in (1,000 cached), 34 out, $0.0021 · session $0.0021"
        cli.expect_text(line)
        cli.prompt()
        cli.send_line("%tokens")
        cli.expect_text("Last turn: 1,200 tokens in (1,000 cached), 34 out, $0.0021.")
        cli.prompt()
        cli.send_line("%compact")
        cli.expect_text("Nothing to summarise yet.")  # only the latest exchange so far
        cli.prompt()
        assert cli.quit() == 0
    finally:
        cli.kill()
    raw = cli.output().decode(errors="replace")
    dim = re.search(r"\x1b\[2m[^\x1b]*1 request: 1,200 tokens", raw)
    assert dim is not None, "the usage line is dim"
