"""The ``interpreter`` command end to end in a real pseudo-terminal, against the fake model."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import QUESTION, Cli, cli_env, model_args

MARKER_CODE = "open('marker.txt', 'w').write('made'); print('marker written')"


@pytest.fixture
def cli_factory(tmp_path: Path, server: FakeModelServer) -> Iterator[object]:
    started: list[Cli] = []

    def start(*extra: str, env: dict[str, str] | None = None) -> Cli:
        cli = Cli([*model_args(server.url), *extra], env or cli_env(tmp_path / "cfg"), tmp_path)
        started.append(cli)
        return cli

    yield start
    for cli in started:
        cli.kill()


def test_two_turns_with_approval_run_the_code(tmp_path: Path, server, cli_factory) -> None:
    server.script(
        Reply.text("I will write the marker.") + Reply.tool_call("python", MARKER_CODE),
        Reply.text("The marker is written."),
        Reply.text("Second turn answer."),
    )
    cli = cli_factory()
    cli.prompt()
    cli.send_line("write the marker")
    cli.expect_text(QUESTION)
    assert not (tmp_path / "marker.txt").exists()
    cli.send_line("y")
    cli.expect_text("marker written")
    cli.expect_text("The marker is written.")
    cli.prompt()
    cli.send_line("and now?")
    cli.expect_text("Second turn answer.")
    cli.prompt()
    assert cli.quit() == 0
    assert (tmp_path / "marker.txt").read_text() == "made"
    last = server.requests[-1]["messages"]
    assert any("marker written" in str(m.get("content")) for m in last)


def test_declined_code_does_not_run(tmp_path: Path, server, cli_factory) -> None:
    server.script(Reply.tool_call("python", MARKER_CODE), Reply.text("Fine, next."))
    cli = cli_factory()
    cli.prompt()
    cli.send_line("write the marker")
    cli.expect_text(QUESTION)
    cli.send_line("n")
    cli.prompt()
    cli.send_line("ok")
    cli.expect_text("Fine, next.")
    cli.prompt()
    assert cli.quit() == 0
    assert not (tmp_path / "marker.txt").exists()


def test_edit_runs_the_edited_code(tmp_path: Path, server, cli_factory) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\necho \"open('edited.txt','w').write('e')\" > \"$1\"\n")
    editor.chmod(0o755)
    server.script(Reply.tool_call("python", MARKER_CODE), Reply.text("Edited and ran."))
    cli = cli_factory(env=cli_env(tmp_path / "cfg", EDITOR=str(editor)))
    cli.prompt()
    cli.send_line("do it")
    cli.expect_text(QUESTION)
    cli.send_line("e")
    cli.expect_text("Edited and ran.")
    cli.prompt()
    cli.quit()
    assert (tmp_path / "edited.txt").exists() and not (tmp_path / "marker.txt").exists()


def test_ctrl_c_stops_a_long_run_and_the_next_turn_works(server, cli_factory) -> None:
    server.script(
        Reply.tool_call("python", "import time\nprint('sleeping', flush=True)\ntime.sleep(100)"),
        Reply.text("After the interrupt."),
    )
    cli = cli_factory()
    cli.prompt()
    cli.send_line("sleep")
    cli.expect_text(QUESTION)
    cli.send_line("y")
    cli.expect_text("sleeping")
    time.sleep(0.3)
    assert cli.interrupt(timeout=10) < 10
    cli.send_line("still there?")
    cli.expect_text("After the interrupt.")
    cli.prompt()
    assert cli.quit() == 0
    messages = server.requests[-1]["messages"]
    assert any("still there?" in str(m.get("content")) for m in messages)
    assert any(str(m.get("content")) == "sleep" for m in messages)


PAYLOADS = {
    "text": "\x1b[9999;9999H",
    "title": "\x1b]0;PWNED-TITLE\x07",
    "clipboard": "\x1b]52;c;UFdORUQ=\x07",
    "link": "\x1b]8;;http://evil.example\x1b\\",
    "bidi": "\u202eRLO",
}


def test_escape_sequences_are_shown_not_interpreted(server, cli_factory) -> None:
    text = "Look: " + PAYLOADS["text"] + " and " + PAYLOADS["bidi"] + " and " + PAYLOADS["title"]
    code = "print('\\x1b]52;c;UFdORUQ=\\x07' + 'OUT')\n# " + PAYLOADS["link"]
    server.script(
        Reply.text(text) + Reply.tool_call("python", code),
        Reply.text("done [/bold] [red]not markup[/red]"),
    )
    cli = cli_factory()
    cli.prompt()
    cli.send_line("show")
    cli.expect_text(QUESTION)
    cli.send_line("y")
    cli.expect_text("not markup")
    cli.prompt()
    cli.quit()
    raw = cli.output()
    for payload in PAYLOADS.values():
        assert payload.encode() not in raw
    assert b"PWNED-TITLE\x07" not in raw and b"\xe2\x80\xae" not in raw
    for shown in ("\\x1b[9999;9999H", "\\u202eRLO", "\\x1b]0;PWNED-TITLE\\x07"):
        assert shown.encode() in raw
    assert b"\\x1b]52;c;UFdORUQ=\\x07OUT" in raw  # the program's output, escaped
    assert b"[/bold]" in raw


def test_magic_commands(tmp_path: Path, server, cli_factory) -> None:
    server.script(Reply.text("First answer."), Reply.text("Second answer."))
    cli = cli_factory()
    cli.prompt()
    cli.send_line("hello")
    cli.expect_text("First answer.")
    steps = [
        ("%help", "%save_message"),
        ("%verbose true", "verbose is now on"),
        ("%verbose false", "verbose is now off"),
        ("%auto_run", "auto_run is now on"),
        ("%auto_run false", "auto_run is now off"),
        ("%info", "gpt-4o"),
        ("%tokens", "tokens in the messages"),
        ("%tokens how many", "your prompt"),
        ("%save_message saved.json", "Saved 2 message(s)"),
        ("%jupyter out.ipynb", "Exported the conversation"),
        ("%markdown out.md", "Exported the conversation"),
        ("%% echo shell-magic-$((40+2))", "shell-magic-42"),
        ("%undo", "Removed 2 message(s)"),
        ("%load_message saved.json", "Loaded 2 message(s)"),
        ("%reset", "The conversation was reset"),
        ("%nonsense", "Unknown command %nonsense"),
    ]
    for line, expected in steps:
        cli.prompt()
        cli.send_line(line)
        cli.expect_text(expected)
    cli.prompt()
    cli.send_line("again")
    cli.expect_text("Second answer.")
    cli.prompt()
    assert cli.quit() == 0
    assert b"test-key" not in cli.output()
    import json

    notebook = json.loads((tmp_path / "out.ipynb").read_text())
    assert notebook["nbformat"] == 4 and notebook["cells"]
    assert "First answer." in (tmp_path / "out.md").read_text()
    # after %reset the model saw only the new message
    assert [m["content"] for m in server.requests[-1]["messages"] if m["role"] == "user"] == [
        "again"
    ]
    # %% is not recorded
    assert all("shell-magic" not in str(r) for r in server.requests)


def test_startup_shows_the_prompt_quickly(cli_factory) -> None:
    started = time.monotonic()
    cli = cli_factory()
    cli.prompt(timeout=10)
    elapsed = time.monotonic() - started
    assert cli.quit() == 0
    assert elapsed < 3.0, elapsed  # generous for loaded CI machines; about 0.3 s locally


def test_multi_line_input_block(server, cli_factory) -> None:
    server.script(Reply.text("Got it."))
    cli = cli_factory()
    cli.prompt()
    cli.send_line('"""')
    cli.send_line("line one")
    cli.send_line('line two"""')
    cli.expect_text("Got it.")
    cli.prompt()
    cli.quit()
    users = [m for m in server.requests[0]["messages"] if m["role"] == "user"]
    assert users[-1]["content"] == "line one\nline two"


def test_exit_word_quits(cli_factory) -> None:
    cli = cli_factory()
    cli.prompt()
    cli.send_line("exit")
    cli.child.expect(__import__("pexpect").EOF, timeout=10)
    cli.child.close()
    assert cli.child.exitstatus == 0


def test_conversations_resume_replays_and_keeps_saving_to_the_same_file(
    tmp_path: Path, server, cli_factory
) -> None:
    from pty_helpers import run_piped

    server.script(Reply.text("Noted: seven."), Reply.text("It was seven."))
    env = cli_env(tmp_path / "cfg")
    first = run_piped([*model_args(server.url), "remember the number seven please"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "cfg" / "open-interpreter" / "conversations"
    (saved,) = folder.glob("*.json")
    cli = cli_factory("--conversations")
    cli.expect_text("remember the number")
    cli.expect_text("Open folder")
    cli.child.send(b"\r")
    cli.expect_text("Noted: seven.")  # replayed
    cli.prompt()
    cli.send_line("which number?")
    cli.expect_text("It was seven.")
    cli.prompt()
    assert cli.quit() == 0
    assert list(folder.glob("*.json")) == [saved]
    contents = saved.read_text()
    assert "which number?" in contents and "It was seven." in contents
    sent = [m["content"] for m in server.requests[-1]["messages"] if m["role"] != "system"]
    assert sent[:2] == ["remember the number seven please", "Noted: seven."]


def test_conversations_open_folder_prints_the_path_without_an_opener(
    tmp_path: Path, server, cli_factory
) -> None:
    from pty_helpers import run_piped

    server.script(Reply.text("ok"))
    env = cli_env(tmp_path / "cfg")
    run_piped([*model_args(server.url), "one conversation"], env, tmp_path)
    cli = cli_factory("--conversations", env=cli_env(tmp_path / "cfg", PATH="/nonexistent"))
    cli.expect_text("Open folder")
    cli.child.send(b"\x1b[B")  # down arrow
    time.sleep(0.2)
    cli.child.send(b"\r")
    cli.expect_text(str(tmp_path / "cfg" / "open-interpreter" / "conversations"))
    cli.child.expect(__import__("pexpect").EOF, timeout=10)
    cli.child.close()
    assert cli.child.exitstatus == 0


def test_python_api_chat_with_display_asks_in_the_terminal(tmp_path: Path, server) -> None:
    import sys

    import pexpect

    server.script(Reply.tool_call("python", MARKER_CODE), Reply.text("API done."))
    script = (
        "from interpreter import interpreter\n"
        f"interpreter.llm.api_base = {server.url!r}\n"
        "interpreter.llm.api_key = 'k'\n"
        "new = interpreter.chat('write the marker')\n"
        "print('NEW', len(new))\n"
    )
    child = pexpect.spawn(
        sys.executable, ["-c", script], env=cli_env(tmp_path / "cfg"), cwd=str(tmp_path),
        dimensions=(50, 200), timeout=20,
    )  # fmt: skip
    try:
        child.expect_exact(QUESTION)
        child.send(b"y\r")
        child.expect_exact(b"API done.")
        child.expect(rb"NEW (\d+)")
        assert int(child.match.group(1)) >= 3
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert (tmp_path / "marker.txt").exists()


def test_ctrl_c_stops_a_streaming_reply_and_keeps_the_conversation(server, cli_factory) -> None:
    server.script(
        Reply.delay(0.1, Reply.text("word " * 400, chunk_size=5)),
        Reply.text("Next turn fine."),
    )
    cli = cli_factory()
    cli.prompt()
    cli.send_line("talk a lot")
    cli.expect_text("word word")
    assert cli.interrupt(timeout=10) < 5
    cli.send_line("next")
    cli.expect_text("Next turn fine.")
    cli.prompt()
    assert cli.quit() == 0
    sent = server.requests[-1]["messages"]
    partial = [m for m in sent if m["role"] == "assistant"]
    assert partial and partial[0]["content"].startswith("word word")
    assert len(partial[0]["content"]) < len("word " * 400)


def test_up_arrow_recalls_earlier_input_across_sessions(
    tmp_path: Path, server, cli_factory
) -> None:
    server.script(Reply.text("one"), Reply.text("two"), Reply.text("three"))
    cli = cli_factory()
    cli.prompt()
    cli.send_line("remember this line")
    cli.expect_text("one")
    cli.prompt()
    cli.child.send("\x1b[A\r")  # up arrow, Enter: the earlier line again
    cli.expect_text("two")
    cli.prompt()
    assert cli.quit() == 0
    again = cli_factory()  # a new session keeps the history (a file in the config dir)
    again.prompt()
    again.child.send("\x1b[A\r")
    again.expect_text("three")
    again.prompt()
    assert again.quit() == 0
    sent = [r["messages"][-1]["content"] for r in server.requests]
    assert sent == ["remember this line"] * 3


def test_always_allow_is_saved_in_the_profile_for_the_next_session(
    tmp_path: Path, server, cli_factory
) -> None:
    (tmp_path / "listed-file.txt").write_text("x")
    server.script(
        Reply.tool_call("shell", "ls"),
        Reply.text("Listed once."),
        Reply.tool_call("shell", "ls"),
        Reply.text("Listed again."),
    )
    cli = cli_factory()
    cli.prompt()
    cli.send_line("list the files")
    cli.expect_text(QUESTION)
    cli.send_line("a")
    cli.expect_text("Saved in")
    cli.expect_text("listed-file.txt")
    cli.expect_text("Listed once.")
    cli.prompt()
    assert cli.quit() == 0
    profile = tmp_path / "cfg" / "open-interpreter" / "profiles" / "default.yaml"
    text = profile.read_text()
    assert "# This file is read every time `interpreter` starts" in text  # comments kept
    data = yaml.safe_load(text)
    assert data["permissions"] == {"allow": [{"language": "shell", "command": "ls"}]}
    assert data["version"] == "0.2.5"
    again = cli_factory()  # same config dir: the saved rule applies
    again.prompt()
    again.send_line("list them again")
    again.expect_text("Listed again.")
    again.prompt()
    assert again.quit() == 0
    shown = again.output().decode(errors="replace")
    assert QUESTION not in shown and "listed-file.txt" in shown
