"""The terminal stays responsive, in a real pseudo-terminal against the fake model: a
spinner while the model is silent and a note for each retry (both gone once text comes,
absent from pipes and --plain), text on screen as it arrives, the prompt shown before the
interpreter is built, and the Python kernel started while the user types (and stopped
with us). What the screen finally shows is checked with a terminal emulator (pyte).
Timings are in benchmarks/bench_terminal.py, not here."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import (
    Cli,
    cli_env,
    model_args,
    processes_with,
    run_piped,
    screen_text,
    wait_until,
)

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@pytest.fixture
def start(tmp_path: Path, server: FakeModelServer) -> Iterator[object]:
    started: list[Cli] = []

    (tmp_path / "tmp").mkdir()

    def run(*extra: str, **env: str) -> Cli:
        environment = cli_env(tmp_path / "cfg", TMPDIR=str(tmp_path / "tmp"), **env)
        cli = Cli([*model_args(server.url), *extra], environment, tmp_path)
        started.append(cli)
        return cli

    yield run
    for cli in started:
        cli.kill()


def kernels(tmp_path: Path) -> set[int]:
    """The Python kernels the CLI of this test started (their connection files live in
    the test's TMPDIR)."""
    return {pid for pid in processes_with(str(tmp_path / "tmp")) if _is_kernel(pid)}


def _is_kernel(pid: int) -> bool:
    try:
        return b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


# -- a sign of life ---------------------------------------------------------------------


def test_a_spinner_shows_while_the_model_is_silent_and_leaves_no_trace(server, start) -> None:
    server.script(Reply.delay(0.6, Reply.text("The late answer.")))
    cli = start()
    cli.prompt()
    cli.send_line("hello")
    cli.expect_text("waiting for the model")
    cli.expect_text("The late answer.")
    cli.prompt()
    assert cli.quit() == 0
    raw = cli.output()
    shown = screen_text(raw)
    assert "The late answer." in shown
    assert "waiting for the model" not in shown and not set(SPINNER) & set(shown)
    assert raw.rfind(b"\x1b[?25h") > raw.rfind(b"\x1b[?25l")  # the cursor is back


def test_each_retry_is_shown_with_its_wait_and_goes_when_the_answer_comes(server, start) -> None:
    server.script(Reply.status(500), Reply.status(503), Reply.text("Recovered after retries."))
    cli = start()
    cli.prompt()
    cli.send_line("hello")
    cli.expect(re.compile(rb"retrying \(2/5\) after HTTP 500, next try in \d+\.\d s"))
    cli.expect_text("retrying (3/5) after HTTP 503")
    cli.expect_text("Recovered after retries.")
    cli.prompt()
    assert cli.quit() == 0
    shown = screen_text(cli.output())
    assert "Recovered after retries." in shown and "retrying" not in shown
    assert len(server.requests) == 3


def test_verbose_lines_are_written_above_the_spinner_not_across_it(server, start) -> None:
    server.script(Reply.status(500), Reply.delay(0.5, Reply.text("Verbose answer.")))
    cli = start("-v")
    cli.prompt()
    cli.send_line("hello")
    cli.expect_text("Verbose answer.")
    cli.prompt()
    assert cli.quit() == 0
    rows = screen_text(cli.output()).split("\n")
    retry = [row for row in rows if "verbose: retry 1 of 4" in row]
    assert len(retry) == 1 and retry[0].startswith("verbose: retry 1 of 4 in ")
    assert all(row.startswith("verbose: ") for row in rows if "verbose:" in row)
    assert "Verbose answer." in rows and not set(SPINNER) & set("".join(rows))


def test_pipes_get_one_plain_line_per_retry_and_no_spinner(tmp_path: Path, server) -> None:
    server.script(Reply.status(500), Reply.delay(0.4, Reply.text("Fine now.")))
    done = run_piped([*model_args(server.url), "hello"], cli_env(tmp_path / "cfg"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Fine now." in done.stdout
    assert "\x1b" not in done.stdout and not set(SPINNER) & set(done.stdout + done.stderr)
    notes = [line for line in done.stderr.splitlines() if "retrying" in line]
    assert len(notes) == 1
    assert re.fullmatch(r"interpreter: retrying \(2/5\) after HTTP 500 in \d+\.\d s", notes[0])


def test_plain_mode_in_a_terminal_has_no_spinner_only_the_retry_note(server, start) -> None:
    server.script(Reply.status(502), Reply.delay(0.5, Reply.text("Plain answer.")))
    cli = start("--plain")
    cli.prompt()
    cli.send_line("hello")
    cli.expect_text("interpreter: retrying (2/5) after HTTP 502 in ")
    cli.expect_text("Plain answer.")
    cli.prompt()
    assert cli.quit() == 0
    text = cli.output().decode(errors="replace")
    assert "waiting for the model" not in text and not set(SPINNER) & set(text)


# -- text as it arrives -----------------------------------------------------------------


def test_text_is_on_screen_before_the_reply_is_complete(server, start) -> None:
    words = [f"word{i}" for i in range(12)]
    server.script(Reply.delay(0.3, Reply.text(" ".join(words) + ".", chunk_size=6)))
    cli = start()
    cli.prompt()
    cli.send_line("stream it")
    cli.expect_text("word0")
    assert b"word11" not in cli.output()  # the rest was still on its way
    cli.expect_text("word11.")
    cli.prompt()
    assert cli.quit() == 0
    assert " ".join(words) + "." in screen_text(cli.output())


def test_a_long_markdown_reply_ends_on_screen_whole_and_once(server, start) -> None:
    sections = [
        f"Section {i} has **bold**, `code` and a [link](https://x.example/{i})." for i in range(60)
    ]
    table = "| name | value |\n|---|---|\n| alpha | 1 |\n| beta | 22 |"
    text = "\n\n".join([*sections[:30], "- first item\n- second item", table, *sections[30:]])
    text += "\n\n```python\nprint('fenced')\n```\n\nThe end."
    server.script(Reply.text(text, chunk_size=7))
    cli = start()
    cli.prompt()
    cli.send_line("write a lot")
    cli.expect_text("The end.")
    cli.prompt()
    assert cli.quit() == 0
    shown = screen_text(cli.output())
    for i in range(60):
        assert shown.count(f"Section {i} has bold, code and a link (https://x.example/{i}).") == 1
    assert "• first item" in shown and "print('fenced')" in shown
    assert re.search(r"alpha\s+│\s+1", shown) and re.search(r"beta\s+│\s+22", shown)


# -- start-up ---------------------------------------------------------------------------


def test_a_broken_profile_stops_before_the_prompt(tmp_path: Path, start) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("llm:\n  model: [unclosed\n")
    cli = start("--profile", str(bad))
    cli.child.expect(pexpect.EOF, timeout=30)
    cli.child.close()
    assert cli.child.exitstatus == 2
    text = cli.output().decode(errors="replace")
    assert "bad.yaml" in text and "invalid YAML" in text
    assert "\x1b[?2004h" not in text  # no prompt was shown


def test_a_message_typed_at_once_waits_for_the_interpreter_and_is_answered(server, start) -> None:
    server.script(Reply.text("Answered the first message."))
    cli = start()
    cli.prompt()
    cli.send_line("quick")  # the interpreter may still be building in the background
    cli.expect_text("Answered the first message.")
    cli.prompt()
    assert cli.quit() == 0
    assert server.requests[0]["messages"][-1]["content"] == "quick"


# -- the kernel, started while the user types -------------------------------------------


def test_the_first_code_runs_in_the_kernel_started_while_the_user_typed(
    tmp_path: Path, server, start
) -> None:
    server.script(
        Reply.tool_call("python", "import os; print('kernel pid', os.getpid())"),
        Reply.text("The code ran."),
    )
    cli = start("-y")
    cli.prompt()
    started = wait_until(lambda: kernels(tmp_path), 60)
    assert len(started) == 1  # before any message: started ahead
    cli.send_line("run some python")
    cli.expect_text("The code ran.")
    cli.prompt()
    (kernel,) = started
    assert f"kernel pid {kernel}" in screen_text(cli.output())
    assert cli.quit() == 0
    assert wait_until(lambda: not kernels(tmp_path), 15), kernels(tmp_path)


def test_the_early_kernel_dies_with_a_killed_terminal(tmp_path: Path, start) -> None:
    cli = start()
    cli.prompt()
    assert wait_until(lambda: kernels(tmp_path), 60)
    cli.child.kill(signal.SIGKILL)
    assert wait_until(lambda: not kernels(tmp_path), 15), kernels(tmp_path)


def test_quitting_at_once_leaves_no_kernel(tmp_path: Path, start) -> None:
    cli = start()
    cli.prompt()
    assert cli.quit() == 0
    assert wait_until(lambda: not kernels(tmp_path), 15), kernels(tmp_path)


def test_no_kernel_is_started_when_python_is_not_offered(tmp_path: Path, server, start) -> None:
    profile = tmp_path / "shell-only.yaml"
    profile.write_text("computer:\n  languages: [shell]\n")
    server.script(Reply.text("No Python here."))
    cli = start("--profile", str(profile))
    cli.prompt()
    cli.send_line("hello")
    cli.expect_text("No Python here.")
    cli.prompt()
    assert kernels(tmp_path) == set()
    assert cli.quit() == 0
