"""A task on the command line runs once and the command exits (``-i`` stays in the chat);
code nobody could approve is declined with exit code 3. In a real pty and through pipes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest

from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import PROMPT_READY, QUESTION, Cli, cli_env, model_args, run_piped

MARKER_CODE = "open('marker.txt', 'w').write('made'); print('marker written')"
EXIT_DECLINED = 3


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


def _exit_status(cli: Cli) -> int:
    cli.child.expect(pexpect.EOF, timeout=20)
    cli.child.close()
    return int(cli.child.exitstatus if cli.child.exitstatus is not None else -1)


def test_y_and_a_task_in_a_terminal_runs_once_and_exits(
    tmp_path: Path, server: FakeModelServer, cli_factory: Callable[..., Cli]
) -> None:
    server.script(Reply.tool_call("python", MARKER_CODE), Reply.text("All done."))
    cli = cli_factory("-y", "write the marker")
    cli.expect_text("All done.")
    assert _exit_status(cli) == 0
    assert PROMPT_READY not in cli.output()  # never waited at the prompt
    assert (tmp_path / "marker.txt").read_text() == "made"


def test_a_task_in_a_terminal_asks_there_then_exits(
    tmp_path: Path, server: FakeModelServer, cli_factory: Callable[..., Cli]
) -> None:
    server.script(Reply.tool_call("python", MARKER_CODE), Reply.text("Written."))
    cli = cli_factory("write", "the", "marker")
    cli.expect_text(QUESTION)
    cli.send_line("y")
    cli.expect_text("Written.")
    assert _exit_status(cli) == 0
    assert (tmp_path / "marker.txt").exists()


def test_interactive_stays_in_the_chat_after_the_task(
    server: FakeModelServer, cli_factory: Callable[..., Cli]
) -> None:
    server.script(Reply.text("First answer."), Reply.text("Second answer."))
    cli = cli_factory("-i", "first task")
    cli.expect_text("First answer.")
    cli.prompt()
    cli.send_line("and then?")
    cli.expect_text("Second answer.")
    cli.prompt()
    assert cli.quit() == 0
    users = [m["content"] for m in server.requests[1]["messages"] if m["role"] == "user"]
    assert users == ["first task", "and then?"]


def test_interactive_long_form_without_a_task_is_the_chat(
    server: FakeModelServer, cli_factory: Callable[..., Cli]
) -> None:
    server.script(Reply.text("Hello."))
    cli = cli_factory("--interactive")
    cli.prompt()
    cli.send_line("hi")
    cli.expect_text("Hello.")
    cli.prompt()
    assert cli.quit() == 0


def test_interactive_without_a_terminal_is_a_usage_error(
    tmp_path: Path, server: FakeModelServer
) -> None:
    done = run_piped(["-i", *model_args(server.url)], cli_env(tmp_path / "cfg"), tmp_path, "hi")
    assert done.returncode == 2
    assert "--interactive needs a terminal" in done.stderr
    assert server.requests == []


def test_piped_task_with_declined_code_exits_3_and_says_why_on_stderr(
    tmp_path: Path, server: FakeModelServer
) -> None:
    server.script(Reply.tool_call("python", MARKER_CODE))
    env = cli_env(tmp_path / "cfg")
    done = run_piped(model_args(server.url), env, tmp_path, stdin="write the marker")
    assert done.returncode == EXIT_DECLINED
    assert "Code was not run" in done.stderr and "-y" in done.stderr
    assert "Code was not run" not in done.stdout
    assert not (tmp_path / "marker.txt").exists()


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh Python with pipes (no terminal)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env=cli_env(tmp_path / "cfg"),
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _setup(server: FakeModelServer) -> str:
    return (
        "from interpreter import interpreter\n"
        f"interpreter.llm.api_base = {server.url!r}\n"
        "interpreter.llm.api_key = 'k'\n"
    )


def test_python_display_without_a_terminal_names_the_python_settings(
    tmp_path: Path, server: FakeModelServer
) -> None:
    server.script(Reply.tool_call("python", MARKER_CODE))
    done = _python(_setup(server) + "interpreter.chat('write the marker')\n", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "interpreter.auto_run = True" in done.stderr
    assert "approval_callback" in done.stderr
    assert "-y" not in done.stderr
    assert not (tmp_path / "marker.txt").exists()


def test_python_display_without_a_terminal_asks_the_approval_callback(
    tmp_path: Path, server: FakeModelServer
) -> None:
    server.script(Reply.tool_call("python", MARKER_CODE), Reply.text("Callback said yes."))
    code = (
        _setup(server)
        + "asked = []\n"
        + "interpreter.approval_callback = lambda language, code: asked.append(language) or True\n"
        + "interpreter.chat('write the marker')\n"
        + "print('ASKED', asked)\n"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ASKED ['python']" in done.stdout and "Callback said yes." in done.stdout
    assert "Code was not run" not in done.stderr
    assert (tmp_path / "marker.txt").read_text() == "made"
