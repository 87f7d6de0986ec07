"""Saving one session's conversation when other sessions may write the same folder.

Every save takes an advisory lock (``fcntl.flock`` on ``.lock`` in the conversations
folder), so choosing a new file name and writing it, or checking a file and replacing it,
is one step for every interpreter on the machine. A new conversation gets a name no file
has yet (two one-shot runs in the same second get ``..._2.json``). A session replaces its
file only while the file is still what this session last wrote (same inode, time and
size), or, on its first save into an existing file (a resumed conversation), while the
file's messages are the start of this session's. Otherwise another session wrote it:
nothing of theirs is overwritten; this session's conversation is saved under a new name
and one line on stderr says so. (Merging two sessions' turns into one file would give the
model a conversation neither session had; a second file keeps both whole.)
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..lmc import Message
from .atomic import atomic_write_text
from .conversations import saved_text, unique_filename
from .paths import ensure_dir

__all__ = ["Saved", "save_session"]

LOCK_NAME = ".lock"


@dataclass(frozen=True)
class Saved:
    """Where a save went: the file name and its stamp right after our write."""

    filename: str
    stamp: tuple[int, int, int]
    forked_from: str | None = None


def save_session(
    messages: list[Message],
    directory: str | os.PathLike[str],
    filename: str | None,
    last: Saved | None,
    *,
    secrets: Iterable[str] = (),
    when: datetime | None = None,
) -> Saved:
    """Save ``messages`` for a session whose previous save was ``last`` (None: none yet).

    ``filename`` None starts a new conversation. Returns where it went; ``forked_from``
    is set when another session had changed ``filename`` (and the one-line warning given).
    """
    folder = ensure_dir(Path(directory))
    text = saved_text(messages, secrets)
    when = when or datetime.now()
    with _locked(folder):
        if filename is None:
            return _write(folder, unique_filename(messages, folder, when), text)
        previous = last if last is not None and last.filename == filename else None
        if _still_ours(folder / filename, text, previous):
            return _write(folder, filename, text)
        new = unique_filename(messages, folder, when)
        saved = _write(folder, new, text, forked_from=filename)
    _warn(f"{filename} was changed by another session; this conversation continues in {new}")
    return saved


def _still_ours(path: Path, text: str, last: Saved | None) -> bool:
    stamp = _stamp(path)
    if stamp is None:
        return True  # nothing there (yet, or deleted): nothing to lose
    if last is not None:
        return stamp == last.stamp
    return _is_start_of(path, text)


def _is_start_of(path: Path, text: str) -> bool:
    """Whether the messages saved in ``path`` are the first of ``text``'s (same format)."""
    try:
        disk = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if disk == "[]" or disk == text:
        return True
    body = disk[:-1]
    return disk.endswith("]") and text.startswith(body) and text[len(body) : len(body) + 2] == ", "


def _write(folder: Path, filename: str, text: str, forked_from: str | None = None) -> Saved:
    path = folder / filename
    atomic_write_text(path, text)
    stamp = _stamp(path)
    assert stamp is not None  # just written, under the lock
    return Saved(filename, stamp, forked_from)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; names and stamps still apply
        yield
        return
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _warn(line: str) -> None:
    print(f"interpreter: {line}", file=sys.stderr, flush=True)
