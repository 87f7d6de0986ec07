"""Atomic writes: real files, real processes killed mid-write, real concurrent writers."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from interpreter.store.atomic import atomic_write_text, is_temp_name
from interpreter.store.conversations import list_conversations
from interpreter.store.paths import conversations_dir, ensure_dir, profiles_dir

SRC = str(Path(__file__).resolve().parents[1] / "src")
PAYLOAD = 200_000  # characters per version: big enough that a kill can land mid-write


def version_text(number: int) -> str:
    """A file version whose body can be checked against its header."""
    return f"{number}\n" + (f"{number % 10}" * PAYLOAD)


def parse_version(text: str) -> int:
    """The version number of a complete version; AssertionError for anything else."""
    header, _, body = text.partition("\n")
    number = int(header)
    assert body == f"{number % 10}" * PAYLOAD, f"torn file: version {number}, {len(body)} chars"
    return number


WRITER = textwrap.dedent(
    """
    import sys
    from interpreter.store.atomic import atomic_write_text
    path, start, step, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    payload = {payload}
    print("ready", flush=True)
    for n in range(start, start + step * count, step):
        atomic_write_text(path, f"{{n}}\\n" + (f"{{n % 10}}" * payload))
    """
).format(payload=PAYLOAD)


def start_writer(
    path: Path, start: int, step: int = 1, count: int = 10**6
) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    args = [sys.executable, "-c", WRITER, str(path), str(start), str(step), str(count)]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_write_creates_private_file_and_folders(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.json"
    assert atomic_write_text(target, "héllo") is True
    assert target.read_text(encoding="utf-8") == "héllo"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
    assert os.listdir(target.parent) == ["file.json"]


def test_overwrite_replaces_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")
    os.chmod(target, 0o644)
    atomic_write_text(target, "new", mode=0o640)
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["f.txt"]


def test_no_overwrite_keeps_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    assert atomic_write_text(target, "first", overwrite=False) is True
    assert atomic_write_text(target, "second", overwrite=False) is False
    assert target.read_text() == "first"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_failed_write_leaves_old_content_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "bad \udc80 surrogate")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_paths_follow_xdg_config_home(config_dir: Path) -> None:
    from interpreter.store import paths

    assert paths.config_dir() == config_dir
    assert conversations_dir() == config_dir / "conversations"
    assert profiles_dir() == config_dir / "profiles"
    assert not config_dir.exists()  # looking it up creates nothing
    ensure_dir(conversations_dir())
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700


def test_sigkill_never_leaves_a_torn_file(tmp_path: Path) -> None:
    folder = tmp_path / "conversations"
    target = folder / "chat__November_24_2026_19-37-58.json"
    atomic_write_text(target, version_text(0))
    rng = random.Random(1234)
    last = 0
    for _ in range(50):
        proc = start_writer(target, last + 1)
        time.sleep(rng.uniform(0.0, 0.03))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        number = parse_version(target.read_text())
        assert number >= last
        last = number
    assert last > 0  # the children did get to write
    listed = list_conversations(folder)
    assert [e.path.name for e in listed] == [target.name]
    leftovers = [n for n in os.listdir(folder) if n != target.name]
    assert all(is_temp_name(n) for n in leftovers)


def test_concurrent_writers_and_reader_see_whole_versions(tmp_path: Path) -> None:
    target = tmp_path / "shared.json"
    atomic_write_text(target, version_text(0))
    writers = [start_writer(target, 1, 2, 60), start_writer(target, 2, 2, 60)]
    reads = 0
    deadline = time.monotonic() + 60
    while any(w.poll() is None for w in writers) and time.monotonic() < deadline:
        parse_version(target.read_text())
        reads += 1
    for writer in writers:
        assert writer.wait(timeout=60) == 0
    assert parse_version(target.read_text()) in (119, 120)
    assert reads > 0
    assert os.listdir(tmp_path) == ["shared.json"]
