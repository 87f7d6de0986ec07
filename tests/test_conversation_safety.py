"""Saved conversations: no secrets inside, and two sessions never lose each other's turns."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from helpers import make_interpreter
from interpreter import OpenInterpreter
from interpreter.server.client import LmcClient
from interpreter.store.conversation_writer import save_session
from interpreter.store.conversations import REDACTED, list_conversations, load_conversation
from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import cli_env, model_args
from server_helpers import Start

TOKEN = "srv-token-0123456789"  # the servers' token (the ``start`` fixture)
ENV_SECRETS = {
    "OPENAI_API_KEY": "sk-env-0123456789abcdef",
    "MY_SERVICE_TOKEN": "tok-fedcba9876543210",
    "SOME_SECRET": "hunter2-but-longer",
    "AWS_SECRET_ACCESS_KEY": "aws/abcdefghijklmnop",
}


@pytest.fixture
def interp(server: FakeModelServer, config_dir: Path) -> Iterator[OpenInterpreter]:
    it = make_interpreter(server, auto_run=True)
    yield it
    it.computer.terminate()


def _saved(config_dir: Path) -> list[Path]:
    return sorted((config_dir / "conversations").glob("*.json"))


def test_environment_keys_and_configured_tokens_printed_by_code_are_redacted(
    server: FakeModelServer,
    interp: OpenInterpreter,
    config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in ENV_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SHORT_TOKEN", "abc1234")  # under 8 characters: not a secret
    interp.computer.kernel_gateway_token = "gateway-token-42424242"
    names = " ".join(f"${n}" for n in [*ENV_SECRETS, "SHORT_TOKEN"])
    code = f"echo {names} gateway-token-42424242 sk-test-secret"
    server.script(
        Reply.tool_call("shell", code),
        Reply.text(f"Your key is {ENV_SECRETS['OPENAI_API_KEY']}."),
    )
    interp.chat("show my keys", display=False)
    output = "".join(str(m["content"]) for m in interp.messages if m["role"] == "computer")
    assert ENV_SECRETS["SOME_SECRET"] in output  # the run itself saw them
    [path] = _saved(config_dir)
    text = path.read_text()
    for secret in [*ENV_SECRETS.values(), "gateway-token-42424242", "sk-test-secret"]:
        assert secret not in text
    assert "abc1234" in text
    saved = load_conversation(path)
    assert saved[-1]["content"] == f"Your key is {REDACTED}."
    # the two literal tokens in the code, all six in the output, the key in the reply
    assert text.count(REDACTED) == 2 + len(ENV_SECRETS) + 2 + 1


def test_server_token_printed_by_code_is_redacted(
    start: Start, model: FakeModelServer, config_dir: Path
) -> None:
    model.script(Reply.tool_call("shell", f"echo {TOKEN}"), Reply.text("done"))
    server = start(auto_run=True)
    with LmcClient(f"ws://127.0.0.1:{server.port}/", TOKEN, timeout=20) as client:
        chunks = client.chat("echo the token")
    assert any(TOKEN in str(c.get("content")) for c in chunks)  # the client saw it run
    [path] = _saved(config_dir)
    assert TOKEN not in path.read_text() and REDACTED in path.read_text()


def test_two_sessions_on_one_conversation_keep_both(
    server: FakeModelServer, interp: OpenInterpreter, config_dir: Path, capfd
) -> None:
    server.script(Reply.text("first answer"))
    interp.chat("shared start", display=False)
    [path] = _saved(config_dir)
    other = make_interpreter(server, auto_run=True)  # resumes the same file
    other.messages = load_conversation(path)
    other.conversation_filename = path.name
    server.script(Reply.text("answer for A"), Reply.text("answer for B"))
    interp.chat("turn of A", display=False)
    other.chat("turn of B", display=False)
    warning = capfd.readouterr().err.strip()
    files = _saved(config_dir)
    assert len(files) == 2
    first, second = (load_conversation(p) for p in (path, *[f for f in files if f != path]))
    assert [m["content"] for m in first][-2:] == ["turn of A", "answer for A"]
    assert [m["content"] for m in second][-2:] == ["turn of B", "answer for B"]
    assert [m["content"] for m in second][:2] == ["shared start", "first answer"]
    assert warning.count("\n") == 0 and path.name in warning and "another session" in warning
    assert other.conversation_filename != path.name
    server.script(Reply.text("A again"))
    interp.chat("A continues", display=False)  # still its own file, no new warning
    assert load_conversation(path)[-1]["content"] == "A again"
    assert len(_saved(config_dir)) == 2 and capfd.readouterr().err == ""


def test_a_session_keeps_saving_to_its_file_and_undo_is_not_a_conflict(
    server: FakeModelServer, interp: OpenInterpreter, config_dir: Path, capfd
) -> None:
    server.script(Reply.text("one"), Reply.text("two"))
    interp.chat("hello there", display=False)
    interp.messages = interp.messages[:-1]  # %undo-like edit
    interp.chat("again", display=False)
    assert len(_saved(config_dir)) == 1 and capfd.readouterr().err == ""


def _save_at(args: tuple[str, str, str]) -> str:
    directory, text, when = args
    message = {"role": "user", "type": "message", "content": text}
    return save_session(
        [message], directory, None, None, when=datetime.fromisoformat(when)
    ).filename


def test_new_conversations_started_the_same_second_get_distinct_names(tmp_path: Path) -> None:
    when = "2026-03-04T05:06:07"
    jobs = [(str(tmp_path), "same task", when)] * 6
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        names = pool.map(_save_at, jobs)
    assert len(set(names)) == 6
    assert "same__March_04_2026_05-06-07.json" in names
    assert "same__March_04_2026_05-06-07_2.json" in names
    entries = list_conversations(tmp_path)
    assert len(entries) == 6 and all(e.when == datetime.fromisoformat(when) for e in entries)


def test_one_shot_runs_started_together_keep_every_conversation(
    tmp_path: Path, server: FakeModelServer
) -> None:
    config = tmp_path / "cfg"
    replies = [Reply.text(f"answer {i}") for i in range(4)]
    server.script(*replies)
    base = [sys.executable, "-m", "interpreter", *model_args(server.url)]
    env = cli_env(config)
    quiet, pipe = subprocess.DEVNULL, subprocess.PIPE
    procs = [
        subprocess.Popen([*base, "-y", "same task"], env=env, cwd=tmp_path, stdout=quiet),
        subprocess.Popen([*base, "-y", "same task"], env=env, cwd=tmp_path, stdout=quiet),
        subprocess.Popen(base, env=env, cwd=tmp_path, stdin=pipe, stdout=quiet, text=True),
        subprocess.Popen(base, env=env, cwd=tmp_path, stdin=pipe, stdout=quiet, text=True),
    ]
    for proc in procs[2:]:
        assert proc.stdin is not None
        proc.stdin.write("same task\n")
        proc.stdin.close()
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    files = sorted((config / "open-interpreter" / "conversations").glob("*.json"))
    answers = sorted(json.loads(f.read_text())[-1]["content"] for f in files)
    assert answers == [f"answer {i}" for i in range(4)]
