"""Headless runs of the real ``interpreter`` command (pipes, no terminal) against the fake
model server: ``-p``/``--prompt``, ``--output-format text|json|stream-json``, exit codes,
``--resume``, ``--notebook``, ``--export-notebook``. Every JSON line printed is validated
against docs/stream-json.schema.json."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import nbformat
import pytest

from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import cli_env, model_args, run_piped

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "docs" / "stream-json.schema.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
MARKER_CODE = "open('marker.txt', 'w').write('made'); print('marker written')"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "oi043"


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


class Cli:
    """The command with its own config and data folders, and the fake server's flags."""

    def __init__(self, tmp_path: Path, server: FakeModelServer) -> None:
        self.cwd = tmp_path
        self.config = tmp_path / "cfg"
        self.env = cli_env(self.config, XDG_DATA_HOME=str(tmp_path / "data"))
        self.server = server

    @property
    def conversations(self) -> Path:
        return self.config / "open-interpreter" / "conversations"

    def run(
        self, *args: str, stdin: str = "", model: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = [*args, *(model_args(self.server.url) if model else [])]
        return run_piped(argv, self.env, self.cwd, stdin=stdin, timeout=60)

    def events(self, *args: str, stdin: str = "") -> tuple[int, list[dict[str, Any]], str]:
        """Run with stream-json; the exit code, the events (each one validated), stderr."""
        done = self.run("--output-format", "stream-json", *args, stdin=stdin)
        events = [json.loads(line) for line in done.stdout.splitlines()]
        for event in events:
            VALIDATOR.validate(event)
        assert events and events[0]["type"] == "init", done.stdout + done.stderr
        assert events[-1]["type"] == "result"
        assert events[-1]["exit_code"] == done.returncode
        assert [e["type"] for e in events].count("result") == 1
        return done.returncode, events, done.stderr


@pytest.fixture
def cli(tmp_path: Path, server: FakeModelServer) -> Cli:
    return Cli(tmp_path, server)


def console_text(events: list[dict[str, Any]]) -> str:
    return "".join(
        str(e.get("content", ""))
        for e in events
        if e.get("type") == "console" and e.get("format") == "output"
    )


def test_stream_json_runs_an_approved_task_and_exits_0(cli: Cli, server: FakeModelServer) -> None:
    server.script(Reply.text("Writing it.") + Reply.tool_call("python", MARKER_CODE),
                  Reply.text("The marker is written."))  # fmt: skip
    code, events, _ = cli.events("-y", "-p", "write the marker")
    assert code == 0 and (cli.cwd / "marker.txt").exists()
    assert "marker written" in console_text(events)
    usage = [e for e in events if e["type"] == "usage"]
    assert [u["total"]["requests"] for u in usage] == [1, 2]
    result = events[-1]
    assert result["stop_reason"] == "done" and result["result"] == "The marker is written."
    assert result["usage"]["turn"]["requests"] == 2 and result["declined"] == []
    assert (cli.conversations / f"{result['conversation']}.json").is_file()
    chunks = [e for e in events if "role" in e]
    assert chunks[0] == {"role": "assistant", "type": "message", "start": True}


def test_code_needing_approval_is_declined_with_exit_3(cli: Cli, server: FakeModelServer) -> None:
    server.script(Reply.tool_call("python", MARKER_CODE), Reply.text("unused"))
    code, events, stderr = cli.events("-p", "write the marker")
    assert code == 3 and not (cli.cwd / "marker.txt").exists()
    (confirmation,) = [e for e in events if e["type"] == "confirmation"]
    assert confirmation["decision"] == "declined" and "-y" in confirmation["reason"]
    assert confirmation["content"]["content"] == MARKER_CODE
    result = events[-1]
    assert result["stop_reason"] == "declined"
    assert result["declined"] == [
        {"language": "python", "code": MARKER_CODE, "reason": confirmation["reason"]}
    ]
    assert "not run" in stderr and len(server.requests) == 1


def test_an_allow_rule_lets_code_run_headless(cli: Cli, server: FakeModelServer) -> None:
    profiles = cli.config / "open-interpreter" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "rules.yaml").write_text(
        "version: 0.2.5\npermissions:\n  allow:\n    - {language: shell, command: 'echo *'}\n"
    )
    server.script(Reply.tool_call("shell", "echo allowed-by-rule"), Reply.text("ok"))
    code, events, _ = cli.events("--profile", "rules", "--prompt", "echo something")
    assert code == 0 and "allowed-by-rule" in console_text(events)
    assert not [e for e in events if e["type"] == "confirmation"]


def test_budget_exit_4_turn_limit_exit_5_error_exit_1(cli: Cli, server: FakeModelServer) -> None:
    code, events, _ = cli.events("-p", "anything", "--max_budget", "0")
    assert (code, events[-1]["stop_reason"]) == (4, "budget") and events[-1]["error"]
    server.script(Reply.tool_call("shell", "echo looping"))  # then it would go on
    code, events, _ = cli.events("-y", "-p", "loop", "--max_turns", "1")
    assert (code, events[-1]["stop_reason"]) == (5, "max_turns")
    server.script(Reply.status(401, body={"error": {"message": "Incorrect API key provided"}}))
    code, events, stderr = cli.events("-p", "hi")
    assert (code, events[-1]["stop_reason"]) == (1, "error")
    assert "401" in events[-1]["error"] or "key" in events[-1]["error"].lower()
    assert "Traceback" not in stderr


def test_usage_errors_exit_2_with_a_result(cli: Cli) -> None:
    code, events, _ = cli.events()  # no task anywhere
    assert code == 2 and "no task" in events[-1]["error"]
    code, events, _ = cli.events("-p", "hi", "--resume", "no-such-conversation")
    assert code == 2 and "no conversation" in events[-1]["error"]
    done = cli.run("--output-format", "xml", "-p", "hi")
    assert done.returncode == 2 and done.stdout == "" and len(done.stderr.splitlines()) == 1


def test_text_and_json_formats(cli: Cli, server: FakeModelServer) -> None:
    server.script(Reply.text("Thinking.") + Reply.tool_call("shell", "echo 42"),
                  Reply.text("The answer is 42."))  # fmt: skip
    done = cli.run("-y", "-p", "answer")
    assert (done.returncode, done.stdout) == (0, "The answer is 42.\n")
    server.script(Reply.text("Sneaky \x1b]52;c;aGk=\x07text."))
    done = cli.run("-p", "answer")
    assert done.stdout == "Sneaky \\x1b]52;c;aGk=\\x07text.\n"  # shown, never interpreted
    server.script(Reply.text("Just text."))
    done = cli.run("--output-format", "json", "say something")  # the task as words
    (line,) = done.stdout.splitlines()
    result = json.loads(line)
    VALIDATOR.validate(result)
    assert result["type"] == "result" and result["result"] == "Just text."
    assert result["messages"] == [{"role": "assistant", "type": "message", "content": "Just text."}]


def test_the_task_from_stdin_and_json_as_stream_json(cli: Cli, server: FakeModelServer) -> None:
    server.script(Reply.text("Read it."))
    code, events, _ = cli.events(stdin="a task on stdin\n")
    assert code == 0
    assert server.requests[-1]["messages"][-1]["content"] == "a task on stdin"
    server.script(Reply.text("Summarised."))
    done = cli.run("--json", "-p", "summarise this", stdin="the piped text")
    events = [json.loads(line) for line in done.stdout.splitlines()]
    for event in events:
        VALIDATOR.validate(event)
    assert events[0]["type"] == "init" and events[-1]["result"] == "Summarised."
    assert server.requests[-1]["messages"][-1]["content"] == "summarise this\n\nthe piped text"


def test_p_is_the_profile_when_one_has_that_name_else_the_task(
    cli: Cli, server: FakeModelServer
) -> None:
    profiles = cli.config / "open-interpreter" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "marked.yaml").write_text("version: 0.2.5\ncustom_instructions: PROFILE-MARK\n")
    server.script(Reply.text("as the profile"), Reply.text("as the task"))
    done = cli.run("-p", "marked", "--output-format", "json", "first task")
    assert done.returncode == 0, done.stderr
    assert "PROFILE-MARK" in server.requests[0]["messages"][0]["content"]
    assert server.requests[0]["messages"][-1]["content"] == "first task"
    done = cli.run("-p", "marked words that are no profile", "--output-format", "json")
    assert done.returncode == 0, done.stderr
    assert "PROFILE-MARK" not in server.requests[1]["messages"][0]["content"]
    assert server.requests[1]["messages"][-1]["content"] == "marked words that are no profile"


def test_p_that_can_only_be_a_profile_fails_as_profile_does(cli: Cli) -> None:
    done = cli.run("-p", "missing.yaml", "hi")
    assert done.returncode == 2 and "no such profile" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    fast = cli.config / "open-interpreter" / "profiles"
    fast.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "fast.yaml", fast / "fast.yaml")
    done = cli.run("-p", "fast", "--profile", "fast", "hi")
    assert done.returncode == 2 and "two profiles" in done.stderr


def test_resume_last_and_by_id_continue_the_conversation(cli: Cli, server: FakeModelServer) -> None:
    server.script(Reply.text("My name is Ada."), Reply.text("Ada, as I said."),
                  Reply.text("Still Ada."))  # fmt: skip
    _, events, _ = cli.events("-p", "remember the name Ada")
    first = events[-1]["conversation"]
    code, events, _ = cli.events("--resume", "last", "-p", "what was the name?")
    assert code == 0 and events[-1]["conversation"] == first
    sent = [m["content"] for m in server.requests[1]["messages"][1:]]
    assert sent == ["remember the name Ada", "My name is Ada.", "what was the name?"]
    code, events, _ = cli.events("--resume", first, "-p", "again?")
    assert code == 0 and len(server.requests[2]["messages"]) == 6
    assert [p.name for p in cli.conversations.glob("*.json")] == [f"{first}.json"]


def test_resume_works_without_headless_too(cli: Cli, server: FakeModelServer) -> None:
    server.script(Reply.text("Noted: blue."), Reply.text("Blue."))
    cli.events("-p", "my colour is blue")
    done = cli.run("--resume", "last", "which colour?")  # the one-shot run, not headless
    assert done.returncode == 0, done.stderr
    assert "Resumed " in done.stderr and "Blue." in done.stdout
    assert [m["content"] for m in server.requests[1]["messages"][1:]] == [
        "my colour is blue",
        "Noted: blue.",
        "which colour?",
    ]


@pytest.mark.deadline(60)
def test_ctrl_c_stops_the_task_keeps_the_conversation_and_exits_130(
    cli: Cli, server: FakeModelServer
) -> None:
    server.script(
        Reply.tool_call("python", "import time\nprint('sleeping', flush=True)\ntime.sleep(60)")
    )
    argv = ["-m", "interpreter", "--output-format", "stream-json", "-y", "-p", "wait"]
    proc = subprocess.Popen(
        [sys.executable, *argv, *model_args(server.url)], stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli.env, cwd=cli.cwd, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = []
        while not any("sleeping" in line for line in lines):
            lines.append(proc.stdout.readline())
        proc.send_signal(signal.SIGINT)
        lines += proc.stdout.readlines()
        assert proc.wait(timeout=30) == 130
    finally:
        proc.kill()
        proc.wait()
    result = json.loads(lines[-1])
    VALIDATOR.validate(result)
    assert (result["stop_reason"], result["exit_code"]) == ("interrupted", 130)
    assert (cli.conversations / f"{result['conversation']}.json").is_file()


def test_a_long_task_is_not_mistaken_for_a_profile_file(cli: Cli, server: FakeModelServer) -> None:
    server.script(Reply.text("Long read."))
    code, events, _ = cli.events("-p", "word " * 100)
    assert code == 0 and events[-1]["result"] == "Long read."


def test_notebook_and_export_notebook_from_the_command_line(
    cli: Cli, server: FakeModelServer
) -> None:
    server.script(Reply.tool_call("python", "print('in a notebook')\n6 * 7"), Reply.text("42."))
    code, events, _ = cli.events("-y", "-p", "compute", "--notebook", "live.ipynb")
    assert code == 0 and events[-1]["notebook"] == str(cli.cwd / "live.ipynb")
    live = nbformat.read(cli.cwd / "live.ipynb", as_version=4)
    nbformat.validate(live)
    (cell,) = [c for c in live.cells if c.cell_type == "code"]
    assert cell.execution_count == 1 and cell.outputs[0].text == "in a notebook\n"
    assert cell.outputs[1].data["text/plain"] == "42"

    done = cli.run("--export-notebook", events[-1]["conversation"], "out.ipynb", model=False)
    assert done.returncode == 0, done.stderr
    exported = nbformat.read(cli.cwd / "out.ipynb", as_version=4)
    assert [c.outputs for c in exported.cells if c.cell_type == "code"] == [cell.outputs]

    old = FIXTURES / "What_is_6__7_+_25_Use__November_26_2026_06-22-22.json"
    done = cli.run("--export-notebook", str(old), "old.ipynb", model=False)
    assert done.returncode == 0, done.stderr
    (code_cell,) = [
        c for c in nbformat.read(cli.cwd / "old.ipynb", 4).cells if c.cell_type == "code"
    ]
    assert code_cell.outputs[0].text == "67\n" and code_cell.execution_count is None
    done = cli.run("--export-notebook", "nothing-here", "x.ipynb", model=False)
    assert done.returncode == 2 and "no conversation" in done.stderr


def test_help_documents_p_and_the_exit_codes(cli: Cli) -> None:
    shown = cli.run("--help", model=False).stdout
    for text in ("-p VALUE", "--prompt TASK", "--output-format", "--resume", "--notebook",
                 "--export-notebook", "3 declined", "4 budget", "5 turn limit"):  # fmt: skip
        assert text in " ".join(shown.split()), text
