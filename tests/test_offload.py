"""Long program output kept whole: in a file in the conversation's data folder (Python's
also in the kernel as ``_out[n]``), with the model sent its start, its end and where the
rest is, while the user sees all of it. Through chat() against the fake model server."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import make_interpreter, text, tool_messages
from interpreter import OpenInterpreter
from interpreter.core.offload import OutputKeeper
from interpreter.testing.fake_server import FakeModelServer, Reply

LISTING = "print('\\n'.join(f'row {i:05d}' for i in range(20000)))"  # 200,000 characters


@pytest.fixture
def interp(
    server: FakeModelServer, config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[OpenInterpreter]:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # a data folder per test
    it = make_interpreter(server, auto_run=True)
    yield it
    it.computer.terminate()


def test_python_output_is_kept_in_a_file_and_in_out_n(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(Reply.tool_call("python", LISTING), Reply.text("It printed rows."))
    chunks = list(interp.chat("List the rows", display=False, stream=True))

    whole = "".join(f"row {i:05d}\n" for i in range(20000))
    assert text(chunks) == whole  # the user saw every line as it streamed
    path = interp.conversation_data_dir() / "out-1.txt"
    assert path.read_text(encoding="utf-8") == whole
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    sent = tool_messages(server.requests[1])[0]["content"]
    assert sent.startswith("row 00000\nrow 00001\n")
    assert sent.endswith("row 19998\nrow 19999")
    assert f"characters omitted; the whole output is in _out[1] (Python) and {path}]" in sent
    assert len(sent) < interp.max_output + 300
    (stored,) = [m for m in interp.messages if m["type"] == "console"]
    assert stored["content"].strip() == sent  # stored as the model sees it

    check = f"print(len(_out[1]), _out[1] == open({str(path)!r}).read())"
    result = interp.computer.run("python", check)
    assert result[0]["content"].split() == [str(len(whole)), "True"]


def test_other_languages_point_at_the_file_only(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(Reply.tool_call("shell", "seq 1 30000"), Reply.text("Counted."))
    interp.chat("Count", display=False)
    path = interp.conversation_data_dir() / "out-1.txt"
    assert path.read_text() == "".join(f"{i}\n" for i in range(1, 30001))
    sent = tool_messages(server.requests[1])[0]["content"]
    assert f"the whole output is in {path}]" in sent and "_out[" not in sent
    assert sent.rstrip().endswith("30000")


def test_each_code_block_gets_its_own_number(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(
        Reply.tool_call("shell", "echo short"),
        Reply.tool_call("shell", "seq 1 5000"),
        Reply.text("done"),
    )
    interp.chat("Twice", display=False)
    folder = interp.conversation_data_dir()
    assert sorted(p.name for p in folder.iterdir()) == ["out-2.txt"]  # only the long one
    assert tool_messages(server.requests[1])[0]["content"] == "short"


def test_short_output_and_offload_off_are_as_before(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.offload_output = False
    server.script(Reply.tool_call("shell", "seq 1 30000"), Reply.text("Counted."))
    interp.chat("Count", display=False)
    assert not interp.conversation_data_dir().exists()
    sent = tool_messages(server.requests[1])[0]["content"]
    assert "whole output is in" not in sent and sent.rstrip().endswith("30000")


def test_a_folder_that_cannot_be_written_changes_nothing_else(
    server: FakeModelServer,
    interp: OpenInterpreter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    server.script(Reply.tool_call("shell", "seq 1 30000"), Reply.text("Counted."))
    interp.chat("Count", display=False)
    assert interp.stop_reason == "done"
    sent = tool_messages(server.requests[1])[0]["content"]
    assert "whole output is in" not in sent and sent.rstrip().endswith("30000")


def test_the_threshold_is_a_setting(server: FakeModelServer, interp: OpenInterpreter) -> None:
    interp.offload_threshold = 100_000
    server.script(Reply.tool_call("shell", "seq 1 5000"), Reply.text("ok"))  # 23,893 characters
    interp.chat("Count", display=False)
    assert not interp.conversation_data_dir().exists()


def test_a_hundred_megabytes_go_to_disk_in_bounded_memory(tmp_path: Path) -> None:
    keeper = OutputKeeper(threshold=2800, limit=2800, folder=lambda: tmp_path / "data", index=7)
    piece = ("0123456789abcdef" * 64 + "\n") * 64  # 66 KB of lines
    tracemalloc.start()
    for _ in range(100_000_000 // len(piece) + 1):
        keeper.add(piece)
    kept = keeper.finish()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert kept is not None and kept.total >= 100_000_000
    assert kept.path == tmp_path / "data" / "out-7.txt"
    assert kept.path.stat().st_size == kept.total
    assert not list((tmp_path / "data").glob("*.part"))
    assert peak < 2_000_000  # the head, the tail and a write buffer, not the output
    shown = kept.for_model(2800, "_out[7]")
    assert shown.startswith("0123456789abcdef") and shown.endswith("abcdef\n")
    assert f"{kept.total - 2800:,} characters omitted" in shown
