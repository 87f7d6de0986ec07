"""MCP servers through the ``interpreter`` command: ``--mcp NAME=COMMAND`` and a profile's
``mcp_servers:``, a call approved in a real pty (its server, tool and hints shown; ``a``
saves a per-tool rule), Ctrl-C ending a call that hangs, bad flags."""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest
import yaml

from interpreter.testing.fake_server import FakeModelServer, Reply
from mcp_helpers import time_server
from pty_helpers import QUESTION, Cli, cli_env, model_args, run_piped, screen_text

pytestmark = pytest.mark.deadline(180)

HANG_SERVER = Path(__file__).parent / "fixtures" / "misbehaving_mcp_server.py"
START = Callable[..., Cli]


def time_flag() -> str:
    entry = time_server()
    return "time=" + shlex.join([entry["command"], *entry["args"]])


@pytest.fixture
def start(tmp_path: Path, server: FakeModelServer) -> Iterator[START]:
    started: list[Cli] = []

    def run(*extra: str) -> Cli:
        cli = Cli([*model_args(server.url), *extra], cli_env(tmp_path / "cfg"), tmp_path, 60)
        started.append(cli)
        return cli

    yield run
    for cli in started:
        cli.kill()


def call_time() -> Reply:
    return Reply.raw_arguments('{"timezone": "Asia/Tokyo"}', name="mcp__time__get_current_time")


def test_a_call_is_shown_asked_and_always_allowed_per_tool(
    tmp_path: Path, server: FakeModelServer, start: START
) -> None:
    server.script(call_time(), Reply.text("Tokyo time given."), call_time(), Reply.text("Again."))
    cli = start("--mcp", time_flag())
    cli.prompt()
    cli.send_line("what time is it in Tokyo?")
    cli.expect_text(QUESTION)
    shown = screen_text(cli.output())
    assert "computer.mcp.time.get_current_time(timezone='Asia/Tokyo')" in shown
    assert "MCP server 'time'" in shown and "only reads (readOnlyHint)" in shown
    cli.send_line("a")
    cli.expect_text("Saved in")
    cli.expect_text('"timezone": "Asia/Tokyo"')
    cli.expect_text("Tokyo time given.")
    cli.prompt()
    assert cli.quit() == 0
    profile = tmp_path / "cfg" / "open-interpreter" / "profiles" / "default.yaml"
    rules = yaml.safe_load(profile.read_text())["permissions"]["allow"]
    assert rules == [{"language": "mcp__time", "command": "get_current_time"}]
    again = start("--mcp", time_flag())
    again.prompt()
    again.send_line("and now?")
    again.expect_text("Again.")
    again.prompt()
    assert again.quit() == 0
    assert QUESTION not in again.output().decode(errors="replace")


def test_ctrl_c_ends_a_call_that_hangs(server: FakeModelServer, start: START) -> None:
    server.script(Reply.raw_arguments("{}", name="mcp__bad__hang"), Reply.text("never"))
    cli = start("-y", "--mcp", f"bad={shlex.join([sys.executable, str(HANG_SERVER)])}")
    cli.prompt()
    cli.send_line("hang")
    wait_for_screen(cli, "computer.mcp.bad.hang()")
    assert cli.interrupt(timeout=20) < 20
    assert "the call of 'hang' on MCP server 'bad' was stopped" in screen_text(cli.output())
    assert cli.quit() == 0


def wait_for_screen(cli: Cli, text: str, seconds: float = 60) -> None:
    """Until ``text`` is on the screen (code is highlighted: not in the raw bytes)."""
    deadline = time.monotonic() + seconds
    while text not in screen_text(cli.output()):
        assert time.monotonic() < deadline, screen_text(cli.output())
        cli.expect([pexpect.TIMEOUT], timeout=0.1)


def test_a_profile_names_the_servers(tmp_path: Path, server: FakeModelServer) -> None:
    profile = tmp_path / "with-mcp.yaml"
    profile.write_text(yaml.safe_dump({"mcp_servers": {"time": time_server()}, "auto_run": True}))
    server.script(call_time(), Reply.text("It is late in Tokyo."))
    args = [*model_args(server.url), "--profile", str(profile), "what time in Tokyo?"]
    done = run_piped(args, cli_env(tmp_path / "cfg"), tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "It is late in Tokyo." in done.stdout
    assert server.requests[1]["messages"][-1]["role"] == "tool"


@pytest.mark.parametrize(
    ("flag", "said"),
    [("nocommand", "--mcp 'nocommand': expected NAME=COMMAND"),
     ("bad name=ls", "MCP server name 'bad name'")],
)  # fmt: skip
def test_a_bad_mcp_flag_is_a_usage_error(tmp_path: Path, flag: str, said: str) -> None:
    done = run_piped(["--mcp", flag, "hello"], cli_env(tmp_path / "cfg"), tmp_path)
    assert done.returncode == 2 and said in done.stderr
    assert done.stderr.count("\n") == 1
