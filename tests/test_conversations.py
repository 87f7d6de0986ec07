"""Conversations: 0.4.3's names, files and listing, checked against files 0.4.3 wrote."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import textwrap
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from interpreter.store.conversations import (
    REDACTED,
    ConversationError,
    conversation_filename,
    display_title,
    list_conversations,
    load_conversation,
    save_conversation,
)

FIXTURES = Path(__file__).parent / "fixtures" / "oi043"
OI_PYTHON = Path("/tmp/oi/bin/python")
WHEN = datetime(2026, 11, 24, 19, 37, 58)
FIXTURE_WHEN = datetime(2026, 11, 26, 6, 22, 22)
NAMING_CASES = [
    "What is 6*7? Use python to check",
    "What is 6 * 7 + 25? Use python to check it please",
    "hello",
    "hi there",
    "exactly twenty-five chars",
    'list <files> in "C:\\temp" | sort? now!',
    "line one\nline two has more words",
    "你好吗？请告诉我今天的天气怎么样",
    "a/b/c d/e/f g/h/i j/k/l m/n/o",
    "   leading spaces are words too",
    "",
]


def fixture_conversations() -> list[Path]:
    return sorted(FIXTURES.glob("*.json"))


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "type": "message", "content": text}


# -- names ------------------------------------------------------------------------------------


def test_names_of_real_043_files_are_reproduced() -> None:
    for path in fixture_conversations():
        messages = load_conversation(path)
        assert conversation_filename(messages, FIXTURE_WHEN) == path.name


@pytest.mark.parametrize(
    ("text", "stem"),
    [
        ("What is 6*7? Use a calculator", "What_is_67_Use_a"),
        ("hello", "hello"),
        ("hi there", "hi"),
        ("你好吗？请告诉我今天的天气怎么样", "你好吗？请告诉我今天的天气怎么"),
        ("a/b/c d/e/f g/h/i j/k/l m/n/o", "abc_def_ghi_jkl"),
        ("tab\there and more", "tabhere_and"),
    ],
)
def test_name_rules(text: str, stem: str) -> None:
    name = conversation_filename([user(text)], WHEN)
    assert name == f"{stem}__November_24_2026_19-37-58.json"


def test_name_skips_system_message_and_pads_date() -> None:
    messages = [
        {"role": "system", "type": "message", "content": "You are"},
        user("Plot a sine wave"),
    ]
    name = conversation_filename(messages, datetime(2025, 3, 5, 7, 8, 9))
    assert name == "Plot_a_sine__March_05_2025_07-08-09.json"


def test_display_title() -> None:
    name = "What_is_67_Use__November_24_2026_19-37-58.json"
    assert display_title(name) == "What is 67 Use... (November 24 2026 19-37-58)"
    fixture = "What_is_6__7_+_25_Use__November_26_2026_06-22-22.json"
    assert display_title(fixture) == "What is 6  7 + 25 Use... (November 26 2026 06-22-22)"
    assert display_title("notes.json") == "notes"


# -- saving and loading -----------------------------------------------------------------------


def test_saved_file_is_byte_identical_to_043s(tmp_path: Path) -> None:
    for fixture in fixture_conversations():
        messages = load_conversation(fixture)
        path = save_conversation(messages, tmp_path / "conversations", fixture.name)
        assert path.read_bytes() == fixture.read_bytes()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_keeps_lmc_fields_only(tmp_path: Path) -> None:
    messages = [
        {"role": "system", "type": "message", "content": "system prompt"},
        {**user("hi"), "start": True, "api_key": "sk-should-not-be-here", "id": 3},
        {"role": "assistant", "type": "code", "format": "python", "content": "print(1)"},
        {"role": "computer", "type": "console", "format": "active_line", "content": 1},
        {"role": "computer", "type": "confirmation", "format": "execution", "content": {}},
        {"role": "computer", "type": "console", "format": "output", "content": "1\n"},
        {"role": "computer", "type": "image", "format": "base64.png", "content": "iVBO"},
        {"role": "assistant", "type": "message", "content": "done", "recipient": "user"},
    ]
    path = save_conversation(messages, tmp_path, "chat.json")
    saved = json.loads(path.read_text())
    assert saved == [
        user("hi"),
        messages[2],
        messages[5],
        messages[6],
        messages[7],
    ]
    assert "\n" not in path.read_text()


def test_save_redacts_secrets_everywhere(tmp_path: Path) -> None:
    key = "sk-proj-ABCDEF1234567890"
    messages = [
        user(f"my key is {key}"),
        {"role": "assistant", "type": "code", "format": "shell", "content": f"export K={key}"},
        {"role": "computer", "type": "console", "format": "output", "content": f"{key}\n"},
    ]
    path = save_conversation(messages, tmp_path, "c.json", secrets=[key, "x", ""])
    text = path.read_text()
    assert key not in text
    assert text.count(REDACTED) == 3
    assert json.loads(text)[0]["content"] == f"my key is {REDACTED}"
    assert messages[0]["content"] == f"my key is {key}"  # the caller's list is untouched


def test_save_refuses_paths_as_names(tmp_path: Path) -> None:
    for bad in ("../escape.json", "a/b.json", "", ".."):
        with pytest.raises(ValueError):
            save_conversation([user("hi")], tmp_path, bad)
    assert list(tmp_path.iterdir()) == []


def test_save_overwrites_same_file_each_turn(tmp_path: Path) -> None:
    messages = [user("first")]
    save_conversation(messages, tmp_path, "c.json")
    messages.append({"role": "assistant", "type": "message", "content": "second"})
    save_conversation(messages, tmp_path, "c.json")
    assert load_conversation(tmp_path / "c.json") == messages
    assert os.listdir(tmp_path) == ["c.json"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'[{"role": "user", ', "not valid JSON (line 1, column"),
        (b"", "not valid JSON"),
        (b'{"role": "user"}', "not a list of messages (a JSON dict)"),
        (b'[{"role": "user", "content": "x"}]', "message 1 is not an LMC message: no 'type'"),
        (b'[{"role": "user", "type": "message"}]', "no 'content'"),
        (b'[{"role": "function", "type": "message", "content": 1}]', "unknown role 'function'"),
        (b'["hello"]', "a JSON str, not an object"),
        (b"\xff\xfe[]", "not UTF-8 text"),
    ],
)
def test_load_errors_are_one_line_with_path(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(ConversationError) as caught:
        load_conversation(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert reason in message
    assert "\n" not in message


def test_load_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ConversationError, match="No such file"):
        load_conversation(tmp_path / "nope.json")
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(ConversationError, match="not a regular file"):
        load_conversation(tmp_path / "dir.json")


def test_load_drops_system_messages(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps([{"role": "system", "type": "message", "content": "s"}, user("u")]))
    assert load_conversation(path) == [user("u")]


# -- listing ----------------------------------------------------------------------------------


def test_list_newest_first_with_errors(tmp_path: Path) -> None:
    folder = tmp_path / "conversations"
    older = save_conversation([user("old one")], folder, "old__January_02_2025_10-00-00.json")
    newer = save_conversation([user("new one")], folder, "new__March_01_2026_09-00-00.json")
    broken = folder / "broken__February_01_2026_09-00-00.json"
    broken.write_text("[{")
    foreign = folder / "notes.json"
    foreign.write_text('{"not": "a conversation"}')
    mtime = datetime(2025, 6, 1).timestamp()
    os.utime(foreign, (mtime, mtime))
    (folder / ".c.json.abc123.tmp").write_text("partial")
    (folder / "readme.txt").write_text("not listed")
    for path in fixture_conversations():
        shutil.copy(path, folder / path.name)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    entries = list_conversations(folder)

    names = [e.path.name for e in entries]
    assert names == [
        *sorted((p.name for p in fixture_conversations()), reverse=True),
        newer.name,
        broken.name,
        foreign.name,
        older.name,
    ]
    by_name = {e.path.name: e for e in entries}
    assert by_name[newer.name].error is None
    assert by_name[newer.name].title == "new... (March 01 2026 09-00-00)"
    assert by_name[newer.name].when == datetime(2026, 3, 1, 9, 0, 0)
    assert by_name[foreign.name].when == datetime(2025, 6, 1)
    assert "not valid JSON" in (by_name[broken.name].error or "")
    assert by_name[foreign.name].error == "not a list of messages (a JSON dict)"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # nothing rewritten


def test_list_unreadable_file_does_not_stop_the_others(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    good = save_conversation([user("fine")], tmp_path, "fine__May_01_2026_00-00-00.json")
    locked = save_conversation([user("locked")], tmp_path, "locked__May_02_2026_00-00-00.json")
    os.chmod(locked, 0)
    entries = list_conversations(tmp_path)
    assert [e.path for e in entries] == [locked, good]
    assert entries[0].error == "Permission denied"
    assert entries[1].error is None


def test_list_fifo_is_listed_with_an_error_without_blocking(tmp_path: Path) -> None:
    good = save_conversation([user("fine")], tmp_path, "fine__May_01_2026_00-00-00.json")
    fifo = tmp_path / "pipe__May_02_2026_00-00-00.json"
    os.mkfifo(fifo)
    entries = list_conversations(tmp_path)
    assert [(e.path, e.error) for e in entries] == [(fifo, "not a regular file"), (good, None)]


def test_list_missing_folder_is_empty(tmp_path: Path) -> None:
    assert list_conversations(tmp_path / "none") == []


# -- against Open Interpreter 0.4.3 itself -----------------------------------------------------

OI_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from interpreter import interpreter
    from interpreter.terminal_interface.render_past_conversation import render_past_conversation

    cases, ours, folder = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
    names = []
    for text in cases:
        interpreter.messages, interpreter.conversation_filename = [], None
        interpreter.conversation_history_path = folder
        interpreter._respond_and_store = lambda: iter(())
        list(interpreter._streaming_chat(text, display=False))
        names.append(interpreter.conversation_filename)
    with open(ours) as f:  # exactly how 0.4.3's --conversations reads a file
        messages = json.load(f)
    render_past_conversation(messages)
    print("RESULT " + json.dumps({"names": names, "messages": messages}))
    """
)


@pytest.mark.skipif(not OI_PYTHON.exists(), reason="Open Interpreter 0.4.3 is not in /tmp/oi")
def test_against_open_interpreter_043(tmp_path: Path) -> None:
    messages = [
        user("Make a chart of my files"),
        {"role": "assistant", "type": "message", "content": "Sure — listing them."},
        {"role": "assistant", "type": "code", "format": "python", "content": "import os"},
        {"role": "computer", "type": "console", "format": "output", "content": "a.txt\n"},
        {"role": "assistant", "type": "message", "content": "Done ✓"},
    ]
    ours = save_conversation(messages, tmp_path / "ours", "ours.json")
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    args = [str(OI_PYTHON), "-c", OI_SCRIPT, json.dumps(NAMING_CASES), str(ours), str(tmp_path)]
    before = time.time()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert result["messages"] == messages
    for text, theirs in zip(NAMING_CASES, result["names"], strict=True):
        stamp = datetime.strptime(theirs.rsplit("__", 1)[1], "%B_%d_%Y_%H-%M-%S.json")
        assert before - 2 <= stamp.timestamp() <= time.time() + 1
        assert conversation_filename([user(text)], stamp) == theirs, text


def test_older_config_folders_are_copied_on_first_run(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    home = tmp_path / "cfg"
    old = home / "Open Interpreter" / "conversations"
    old.mkdir(parents=True)
    (old / "hello__January_01_2024_10-00-00.json").write_text(
        '[{"role": "user", "type": "message", "content": "hello"}]'
    )
    env = dict(os.environ, XDG_CONFIG_HOME=str(home))
    env.pop("OPENAI_API_KEY", None)
    subprocess.run(
        [sys.executable, "-m", "interpreter", "hi"],
        env=env,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    copied = home / "open-interpreter" / "conversations" / "hello__January_01_2024_10-00-00.json"
    assert load_conversation(copied)[0]["content"] == "hello"
    assert (old / "hello__January_01_2024_10-00-00.json").exists()  # copied, not moved
