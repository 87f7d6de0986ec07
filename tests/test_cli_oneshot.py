"""The ``interpreter`` command without a terminal: one-shot runs, JSON lines, exit codes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from interpreter.testing.fake_server import Reply
from pty_helpers import cli_env, model_args, run_piped

MARKER_CODE = "open('marker.txt', 'w').write('made'); print('marker written')"


def test_stdin_message_with_auto_run_runs_and_exits_0(tmp_path: Path, server) -> None:
    server.script(Reply.tool_call("python", MARKER_CODE), Reply.text("All done."))
    env = cli_env(tmp_path / "cfg")
    done = run_piped(["-y", *model_args(server.url)], env, tmp_path, stdin="write the marker\n")
    assert done.returncode == 0, done.stderr
    assert "marker written" in done.stdout and "All done." in done.stdout
    assert (tmp_path / "marker.txt").exists()
    users = [m for m in server.requests[0]["messages"] if m["role"] == "user"]
    assert users[-1]["content"] == "write the marker"
    saved = list((tmp_path / "cfg" / "open-interpreter" / "conversations").glob("*.json"))
    assert len(saved) == 1 and "write_the" in saved[0].name


def test_bare_words_are_the_message(tmp_path: Path, server) -> None:
    server.script(Reply.text("Listed."))
    env = cli_env(tmp_path / "cfg")
    done = run_piped([*model_args(server.url), "list", "my", "files"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert [m["content"] for m in server.requests[0]["messages"] if m["role"] == "user"] == [
        "list my files"
    ]


def test_without_a_terminal_and_without_y_code_is_declined(tmp_path: Path, server) -> None:
    server.script(Reply.tool_call("python", MARKER_CODE), Reply.text("unused"))
    env = cli_env(tmp_path / "cfg")
    done = run_piped(model_args(server.url), env, tmp_path, stdin="write the marker")
    assert done.returncode == 3, done.stderr  # declined: nobody could approve it
    assert "-y" in done.stderr and "not run" in done.stderr
    assert not (tmp_path / "marker.txt").exists()
    assert len(server.requests) == 1


def test_json_prints_the_chunk_stream_as_json_lines(tmp_path: Path, server) -> None:
    server.script(
        Reply.text("Hi \x1b[2J") + Reply.tool_call("python", "print(6*7)"), Reply.text("ok")
    )
    env = cli_env(tmp_path / "cfg")
    done = run_piped(["--json", "-y", *model_args(server.url), "compute"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout  # JSON escapes it
    events = [json.loads(line) for line in done.stdout.splitlines()]  # --output-format stream-json
    assert events[0]["type"] == "init" and events[-1]["type"] == "result"
    chunks = [e for e in events if "role" in e]  # the LMC chunks
    assert chunks[0] == {"role": "assistant", "type": "message", "start": True}
    text = "".join(c.get("content", "") for c in chunks if c["type"] == "message")
    assert text == "Hi \x1b[2Jok"
    output = "".join(
        c["content"] for c in chunks if c["type"] == "console" and c.get("format") == "output"
    )
    assert output.strip() == "42"
    starts = [c for c in chunks if c.get("start")]
    assert [(c["role"], c["type"]) for c in starts] == [
        ("assistant", "message"),
        ("assistant", "code"),
        ("computer", "console"),
        ("assistant", "message"),
    ]


def test_provider_error_is_one_line_and_exit_1(tmp_path: Path, server) -> None:
    server.script(Reply.status(401, body={"error": {"message": "Incorrect API key provided"}}))
    env = cli_env(tmp_path / "cfg")
    done = run_piped(model_args(server.url), env, tmp_path, stdin="hi")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "401" in lines[0] or "key" in lines[0].lower()


def test_no_model_configured_says_how_to_set_one_up(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "cfg")
    done = run_piped(["hello"], env, tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    for hint in ("OPENAI_API_KEY", "--api_base", "--local", "--profiles"):
        assert hint in done.stderr


@pytest.mark.parametrize("flag", ["--os", "--vision", "-vi", "--speak_messages", "--bogus"])
def test_unsupported_flags_fail_with_one_line_and_exit_2(tmp_path: Path, flag: str) -> None:
    done = run_piped([flag], cli_env(tmp_path / "cfg"), tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr and done.stderr.startswith("interpreter: ")


def test_help_lists_every_flag_and_version_prints(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "cfg")
    shown = run_piped(["--help"], env, tmp_path)
    assert shown.returncode == 0
    for flag in ("--auto_run", "-y", "-sm", "--system_message", "--stdin", "-s", "--os", "--local",
                 "--conversations", "--profiles", "--reset_profile", "--api_base", "-ab", "--json"):  # fmt: skip
        assert flag in shown.stdout
    version = run_piped(["--version"], env, tmp_path)
    assert version.returncode == 0
    from interpreter import __version__

    assert version.stdout.strip() == f"interpreter {__version__}"


def test_profile_then_environment_then_flags(tmp_path: Path, server) -> None:
    """defaults < profile < environment < flags, seen in the request the model gets."""
    profiles = tmp_path / "cfg" / "open-interpreter" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "mine.yaml").write_text(
        f"version: 0.2.5\nllm:\n  model: from-profile\n  api_base: {server.url}\n"
        "  api_key: k\n  temperature: 0.5\ncustom_instructions: PROFILE-INSTRUCTIONS\n"
    )
    server.script(Reply.text("a"), Reply.text("b"), Reply.text("c"))
    env = cli_env(tmp_path / "cfg")
    run_piped(["-p", "mine", "hi"], env, tmp_path)
    run_piped(["-p", "mine", "hi"], {**env, "INTERPRETER_MODEL": "from-env"}, tmp_path)
    run_piped(["-p", "mine", "-m", "from-flag", "-t", "0.25", "hi"],
              {**env, "INTERPRETER_MODEL": "from-env"}, tmp_path)  # fmt: skip
    models = [r["model"] for r in server.requests]
    assert models == ["from-profile", "from-env", "from-flag"]
    assert [r.get("temperature") for r in server.requests] == [0.5, 0.5, 0.25]
    system = server.requests[0]["messages"][0]
    assert system["role"] == "system" and "PROFILE-INSTRUCTIONS" in system["content"]


def test_missing_profile_is_a_usage_error(tmp_path: Path) -> None:
    # (-p nope would be the task: -p is a profile only when one of that name exists)
    done = run_piped(["--profile", "nope", "hi"], cli_env(tmp_path / "cfg"), tmp_path)
    assert done.returncode == 2 and "nope" in done.stderr and "Traceback" not in done.stderr


def test_profiles_prints_the_folder(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "cfg", PATH="/nonexistent")
    done = run_piped(["--profiles"], env, tmp_path)
    assert done.returncode == 0
    assert str(tmp_path / "cfg" / "open-interpreter" / "profiles") in done.stdout
    default = tmp_path / "cfg" / "open-interpreter" / "profiles" / "default.yaml"
    assert "version: 0.2.5" in default.read_text()  # created on the first run, commented


def test_profiles_opens_default_yaml_in_the_editor_without_an_opener(tmp_path: Path) -> None:
    import pexpect

    editor = tmp_path / "editor.sh"
    editor.write_text(f"#!/bin/sh\necho edited:$1 > {tmp_path}/opened\n")
    editor.chmod(0o755)
    env = cli_env(tmp_path / "cfg", PATH=f"/nonexistent:{os.path.dirname(sys.executable)}")
    env["EDITOR"] = str(editor)
    child = pexpect.spawn(sys.executable, ["-m", "interpreter", "--profiles"], env=env, timeout=20)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert (tmp_path / "opened").read_text().strip().endswith("profiles/default.yaml")


def test_first_run_writes_the_default_profile(tmp_path: Path) -> None:
    run_piped(["hi"], cli_env(tmp_path / "cfg"), tmp_path)
    default = tmp_path / "cfg" / "open-interpreter" / "profiles" / "default.yaml"
    assert default.stat().st_mode & 0o777 == 0o600 and "llm:" in default.read_text()


def test_server_flag_starts_the_server_or_says_why_not(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "cfg", INTERPRETER_HOST="0.0.0.0")
    done = run_piped(["--server"], env, tmp_path, timeout=20)
    # binding to every interface without a token is refused by the server: exit 2, one line
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_sigint_in_one_shot_exits_130(tmp_path: Path, server) -> None:
    import signal
    import subprocess
    import sys
    import time

    server.script(
        Reply.tool_call("python", "import time\nprint('sleeping', flush=True)\ntime.sleep(100)"),
        Reply.text("unused"),
    )
    env = cli_env(tmp_path / "cfg")
    proc = subprocess.Popen(
        [sys.executable, "-m", "interpreter", "-y", *model_args(server.url), "sleep"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env, cwd=tmp_path, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        seen = ""
        deadline = time.monotonic() + 20
        while "sleeping" not in seen and time.monotonic() < deadline:
            seen += proc.stdout.readline()
        assert "sleeping" in seen
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
    finally:
        proc.kill()
        proc.wait()


def test_json_mode_without_y_declines_and_stdout_stays_json(tmp_path: Path, server) -> None:
    server.script(Reply.tool_call("python", MARKER_CODE))
    env = cli_env(tmp_path / "cfg")
    done = run_piped(["--json", *model_args(server.url), "go"], env, tmp_path)
    assert done.returncode == 3  # headless: a declined approval
    chunks = [json.loads(line) for line in done.stdout.splitlines()]
    assert any(c["type"] == "confirmation" for c in chunks)
    assert "-y" in done.stderr
    assert not (tmp_path / "marker.txt").exists()


def test_fast_uses_the_small_model_and_asks_for_brevity(tmp_path: Path, server) -> None:
    server.script(Reply.text("ok"))
    env = cli_env(tmp_path / "cfg")
    done = run_piped(["--fast", "-ab", server.url, "-ak", "k", "hi"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    request = server.requests[0]
    assert request["model"] == "gpt-4o-mini"
    assert "concise" in request["messages"][0]["content"]


def test_plain_output_has_no_boxes_or_colours(tmp_path: Path, server) -> None:
    server.script(Reply.text("**bold**") + Reply.tool_call("python", "print(2)"), Reply.text("."))
    env = cli_env(tmp_path / "cfg")
    done = run_piped(["--plain", "-y", *model_args(server.url), "go"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "```python\nprint(2)\n```" in done.stdout and "╭" not in done.stdout
    assert "\x1b" not in done.stdout


def test_local_without_a_local_server_says_how_to_start_one(tmp_path: Path) -> None:
    from interpreter.terminal.local import find_local_server

    if find_local_server(timeout=0.2) is not None:
        pytest.skip("a local model server is running on this machine")
    done = run_piped(["--local", "hi"], cli_env(tmp_path / "cfg"), tmp_path)
    assert done.returncode == 1
    assert "ollama" in done.stderr.lower() and "--api_base" in done.stderr
