"""The checkpoint store on its own (real git, real files): crash-safe restores, a missing
git, the size cap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interpreter.store.checkpoints import CheckpointError, CheckpointStore

BIG = 8 * 1024 * 1024
RESTORE = """
import sys
from pathlib import Path
from interpreter.store.checkpoints import CheckpointStore
CheckpointStore(Path(sys.argv[1]), Path(sys.argv[2]), size_cap=10**9).restore(sys.argv[3])
"""


def _temps(root: Path) -> list[Path]:
    return list(root.glob(".interpreter-restore-*"))


def _wait_for(condition, child: subprocess.Popen[bytes], seconds: float = 60) -> bool:
    """Polls ``condition`` until it holds (True) or the child has exited (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        if child.poll() is not None:
            return False
        time.sleep(0.001)
    raise AssertionError("neither the condition nor the child's exit came")


@pytest.mark.parametrize("point", ["journal", "temp"])
def test_a_restore_killed_midway_leaves_each_file_old_or_new(tmp_path: Path, point: str) -> None:
    work, git_dir = tmp_path / "work", tmp_path / "store.git"
    work.mkdir()
    old = {f"big{i}.bin": bytes([i]) * BIG for i in range(6)}
    for name, data in old.items():
        (work / name).write_bytes(data)
    store = CheckpointStore(git_dir, work, size_cap=10**9)
    checkpoint = store.snapshot("before", "python")
    new = {name: bytes([200 + i]) * BIG for i, name in enumerate(old)}
    for name, data in new.items():
        (work / name).write_bytes(data)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    child = subprocess.Popen(
        [sys.executable, "-c", RESTORE, str(git_dir), str(work), checkpoint.id], env=env
    )
    journal = git_dir / "restore-journal"
    condition = journal.exists if point == "journal" else (lambda: bool(_temps(work)))
    if _wait_for(condition, child):
        child.send_signal(signal.SIGKILL)
    child.wait()
    for name in old:
        data = (work / name).read_bytes()
        assert data in (old[name], new[name]), f"{name} is half-written"
    CheckpointStore(git_dir, work, size_cap=10**9).restore(checkpoint.id)  # cleans up, completes
    assert _temps(work) == []
    assert all((work / name).read_bytes() == data for name, data in old.items())


def test_without_git_a_snapshot_is_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "w").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(CheckpointError) as caught:
        CheckpointStore(tmp_path / "g.git", tmp_path / "w").snapshot("x")
    assert str(caught.value) == "checkpoints need git, which is not installed"


def test_files_over_the_cap_are_skipped_and_reported_once(tmp_path: Path) -> None:
    work = tmp_path / "w"
    work.mkdir()
    (work / "small.txt").write_text("s")
    (work / "large.bin").write_bytes(b"x" * 2000)
    store = CheckpointStore(tmp_path / "g.git", work, size_cap=1000)
    first = store.snapshot("one")
    assert store.take_skipped() == ["large.bin"]
    store.snapshot("two")
    assert store.take_skipped() == []
    (work / "large.bin").write_bytes(b"y" * 3000)
    (work / "small.txt").write_text("changed")
    assert [c.path for c in store.changes(first.id).changes] == ["small.txt"]


def test_unknown_and_ambiguous_ids(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    store = CheckpointStore(tmp_path / "g.git", tmp_path / "w")
    with pytest.raises(CheckpointError, match="no checkpoint 'abc'"):
        store.get("abc")
    made = store.snapshot("x", "shell")
    assert store.get(made.id[:5]) == made
    assert store.list() == [made]
