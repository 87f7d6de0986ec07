"""What settings do: verbose and debug, %tokens against the real request, the output
templates, multi_line, the one context-window table and the one file-suffix table."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from helpers import make_interpreter
from interpreter.execution.computer import DEFAULT_LANGUAGES, file_suffix
from interpreter.llm import providers
from interpreter.llm.tokens import count_tokens, default_context_window
from interpreter.terminal.approve import edit_code
from interpreter.terminal.input import InputReader
from interpreter.terminal.magic import MagicContext, run_magic
from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import cli_env, model_args, run_piped

# -- verbose and debug, through the command line ------------------------------------------------


def test_verbose_prints_route_request_retries_and_usage_to_stderr(
    tmp_path: Path, server: FakeModelServer
) -> None:
    server.script(Reply.status(503), Reply.text("Hi \x1b[2J"))
    env = cli_env(tmp_path / "cfg")
    done = run_piped(["-v", "--json", *model_args(server.url), "hello"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == (
        f"verbose: model gpt-4o via OpenAI-compatible server at {server.url} (tool calls, images)"
    )
    assert lines[1].startswith("verbose: sending 2 messages, ") and "1 tool)" in lines[1]
    assert lines[2].startswith("verbose: retry 1 of 4 in ") and "HTTP 503" in lines[2]
    assert lines[3].startswith("verbose: reply done: ") and "completion tokens" in lines[3]
    assert len(lines) == 4 and "test-key" not in done.stderr
    assert all(json.loads(line) for line in done.stdout.splitlines())  # stdout stays JSON
    assert len(server.requests) == 2


def test_debug_adds_the_messages_and_the_reply_pieces(
    tmp_path: Path, server: FakeModelServer
) -> None:
    server.script(Reply.text("Hi \x1b[2J"))
    done = run_piped(
        ["--debug", *model_args(server.url), "hello"], cli_env(tmp_path / "c"), tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "verbose: model gpt-4o via" in done.stderr
    assert 'debug: message 1: {"role": "user", "content": "hello"}' in done.stderr
    assert "debug: tool: " in done.stderr and "debug: received TextPiece(text='Hi \\x1b[2J')" in (
        done.stderr
    )
    assert "\x1b" not in done.stderr and "test-key" not in done.stderr


def test_without_verbose_nothing_is_printed(tmp_path: Path, server: FakeModelServer) -> None:
    server.script(Reply.text("Hi"))
    done = run_piped([*model_args(server.url), "hello"], cli_env(tmp_path / "c"), tmp_path)
    assert done.returncode == 0 and done.stderr == ""


def test_unknown_profile_key_is_one_warning_line_and_the_run_goes_on(
    tmp_path: Path, server: FakeModelServer
) -> None:
    profiles = tmp_path / "cfg" / "open-interpreter" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "mine.yaml").write_text("version: 0.2.5\nfrobnicate: 3\n")
    server.script(Reply.text("Hi"))
    done = run_piped(
        ["-p", "mine", *model_args(server.url), "x"], cli_env(tmp_path / "cfg"), tmp_path
    )
    assert done.returncode == 0
    assert done.stderr == (
        f"interpreter: warning: {profiles / 'mine.yaml'}:2: frobnicate: unknown setting, ignored\n"
    )
    assert "Hi" in done.stdout


# -- %tokens counts the request the turn sends ---------------------------------------------------


def test_tokens_counts_exactly_the_request_that_is_sent(server: FakeModelServer) -> None:
    interp = make_interpreter(server, custom_instructions="Answer in French.")
    interp.user_message_template = "Question: {content}"
    interp.messages = [
        {"role": "user", "type": "message", "content": "first"},
        {"role": "assistant", "type": "message", "content": "premier"},
        {"role": "assistant", "type": "message", "content": "just for you", "recipient": "user"},
    ]
    said: list[str] = []
    run_magic(MagicContext(interp, said.append, said.append), "%tokens how are you")
    counted = int(said[0].split()[0])
    server.script(Reply.text("bien"))
    interp.chat("how are you", display=False)
    sent = server.requests[0]["messages"]
    assert sent[0]["content"] == interp._full_system_message()
    assert sent[-1]["content"] == "Question: how are you"
    assert counted == count_tokens(sent, "gpt-4o")
    assert "context window" in said[0]


# -- the templates ------------------------------------------------------------------------------


def test_code_output_settings_shape_what_text_models_are_sent(server: FakeModelServer) -> None:
    interp = make_interpreter(server, auto_run=True)
    interp.llm.supports_functions = False
    interp.code_output_template = "OUT<{content}>"
    interp.code_output_sender = "assistant"
    interp.user_message_template = "[{content}]"
    interp.always_apply_user_message_template = True
    server.script(Reply.text("```python\nprint(6 * 7)\n```"), Reply.text("42."), Reply.text("ok"))
    interp.chat("compute", display=False)
    interp.chat("again", display=False)
    second = server.requests[1]["messages"]
    assert second[-1] == {"role": "assistant", "content": "```python\nprint(6 * 7)\n```\n\nOUT<42>"}
    users = [m["content"] for m in server.requests[2]["messages"] if m["role"] == "user"]
    assert users == ["[compute]", "[again]"]


# -- multi_line -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("multi_line", "first"), [(True, "one\ntwo"), (False, '"""one')])
def test_multi_line_opens_blocks_only_when_on(
    monkeypatch: pytest.MonkeyPatch, multi_line: bool, first: str
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('"""one\ntwo"""\n'))
    reader = InputReader(None, interactive=False, multi_line=multi_line)
    assert reader.read() == first


# -- one table each ---------------------------------------------------------------------------


def test_one_context_window_table() -> None:
    assert not hasattr(providers, "default_context_window")
    assert default_context_window("gpt-4.1") == 1_047_576
    assert default_context_window("gpt-4.1-mini") == 1_047_576
    assert default_context_window("o3-mini") == 200_000
    assert default_context_window("gpt-5") == 272_000
    assert default_context_window("openai/o1-preview") == 128_000


def test_file_suffixes_come_from_the_language_classes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for cls in DEFAULT_LANGUAGES:
        for name in (cls.name, *cls.aliases):
            assert file_suffix(name) == f".{cls.file_extension}"
    assert file_suffix("bash") == ".sh" and file_suffix("cobol") == ".txt"
    log = tmp_path / "edited"
    script = f"import sys; open({str(log)!r}, 'w').write(sys.argv[1])"
    monkeypatch.setenv("VISUAL", f"{sys.executable} -c {json.dumps(script)}")
    assert edit_code("rb", "puts 1") == "puts 1"
    assert log.read_text().endswith(".rb")
