"""Crash-safe file writes: a reader sees the old content or the new, never a mix."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .paths import ensure_dir

FILE_MODE = 0o600
TEMP_SUFFIX = ".tmp"


def atomic_write_text(
    path: str | os.PathLike[str], text: str, mode: int = FILE_MODE, *, overwrite: bool = True
) -> bool:
    """Write ``text`` (UTF-8) to ``path`` atomically with permissions ``mode``.

    The data goes to a hidden temp file in the same folder (``.NAME.*.tmp``), is fsynced,
    then renamed over ``path``; the folder is fsynced too. Missing folders are created
    0700. With ``overwrite=False`` an existing file is kept and False is returned.
    """
    target = Path(path)
    folder = ensure_dir(target.parent)
    temp = _write_temp(folder, target.name, text, mode)
    try:
        placed = _place(temp, target, overwrite)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    if placed:
        _fsync_dir(folder)
    return placed


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of our in-progress temp files."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def _write_temp(folder: Path, name: str, text: str, mode: int) -> str:
    import tempfile

    fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=TEMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp


def _place(temp: str, target: Path, overwrite: bool) -> bool:
    """Move ``temp`` to ``target``; without ``overwrite``, only if nothing is there."""
    if overwrite:
        os.replace(temp, target)
        return True
    try:
        os.link(temp, target)
    except FileExistsError:
        os.unlink(temp)
        return False
    except OSError:  # filesystems without hard links
        if target.exists():
            os.unlink(temp)
            return False
        os.replace(temp, target)
        return True
    os.unlink(temp)
    return True


def _fsync_dir(folder: Path) -> None:
    flags = getattr(os, "O_DIRECTORY", None)
    if flags is None:  # Windows: directories cannot be opened for fsync
        return
    try:
        fd = os.open(folder, os.O_RDONLY | flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
