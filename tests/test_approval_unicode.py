"""Invisible Unicode in code is shown escaped at the approval prompt, before the answer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import QUESTION, Cli, cli_env, model_args


def _tags(text: str) -> str:
    return "".join(chr(0xE0000 + ord(c)) for c in text)


@pytest.fixture
def cli(tmp_path: Path, server: FakeModelServer) -> Iterator[Cli]:
    started = Cli(model_args(server.url), cli_env(tmp_path / "cfg"), tmp_path)
    yield started
    started.kill()


def test_tag_and_zero_width_payload_is_visible_before_the_answer(
    tmp_path: Path, server: FakeModelServer, cli: Cli
) -> None:
    payload = _tags("open('pwned.txt','w').write('x')")
    code = (
        "exec(''.join(chr(ord(c) - 0xE0000) for c in '" + payload + "'))\n"
        "print('zero\u200bwidth\ufeff')"
    )
    server.script(Reply.tool_call("python", code))
    cli.prompt()
    cli.send_line("go")
    cli.expect_text(QUESTION)
    raw = cli.output()
    shown = re.sub(rb"\x1b\[[0-9;?]*[a-zA-Z]", b"", raw)  # the colours between tokens
    assert b"\\U000e006f\\U000e0070\\U000e0065\\U000e006e" in shown  # "open"
    assert b"zero\\u200bwidth\\ufeff" in shown
    assert payload.encode() not in shown and "\u200b".encode() not in raw
    cli.send_line("n")
    cli.prompt()
    assert cli.quit() == 0
    assert not (tmp_path / "pwned.txt").exists()
