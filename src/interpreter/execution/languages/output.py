"""Console output helpers shared by the languages: chunk builders, ANSI stripping, capping."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from typing import IO

from ...lmc import Chunk

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def output(text: str) -> Chunk:
    """A console output chunk."""
    return {"type": "console", "format": "output", "content": text}


def active_line(line: int | None) -> Chunk:
    """A console active-line chunk (``None`` when execution ends)."""
    return {"type": "console", "format": "active_line", "content": line}


def strip_ansi(text: str) -> str:
    """The text without ANSI colour and cursor escape sequences."""
    return _ANSI.sub("", text)


def is_output(chunk: Chunk) -> bool:
    return chunk.get("type") == "console" and chunk.get("format") == "output"


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "replace"))


def _cut_to_bytes(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 form fits in ``limit`` bytes."""
    if text.isascii():
        return text[:limit]
    return text.encode("utf-8", "replace")[:limit].decode("utf-8", "ignore")


class OutputCap:
    """Forwards console output up to ``limit`` bytes per run, then counts what it drops.

    Other chunks (images, HTML, active lines) pass through untouched. ``notice()`` is the
    one line to show at the end of a run when anything was dropped.
    """

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.sent = 0
        self.dropped = 0

    def feed(self, chunk: Chunk) -> Chunk | None:
        """The chunk to forward (maybe cut short), or None when it is dropped."""
        if self.limit is None or not is_output(chunk):
            return chunk
        text = str(chunk["content"])
        size = _utf8_len(text)
        room = max(self.limit - self.sent, 0)
        if size <= room:
            self.sent += size
            return chunk
        kept = _cut_to_bytes(text, room)
        kept_size = _utf8_len(kept)
        self.sent += kept_size
        self.dropped += size - kept_size
        return output(kept) if kept else None

    def add_dropped(self, count: int) -> None:
        """Record bytes dropped before they reached us (e.g. inside a kernel)."""
        self.dropped += count

    def notice(self) -> Chunk | None:
        if not self.dropped:
            return None
        return output(f"\n... output truncated ({self.dropped} more bytes)\n")

    def wrap(self, chunks: Iterable[Chunk]) -> Iterator[Chunk]:
        """Cap a whole stream and append the notice."""
        for chunk in chunks:
            kept = self.feed(chunk)
            if kept is not None:
                yield kept
        notice = self.notice()
        if notice is not None:
            yield notice


READ_SIZE = 65536


def read_until_eof(pipe: IO[bytes]) -> Iterator[bytes]:
    """The pipe's data as it comes, ending with ``b""`` at EOF (or a read error).

    The pipe is closed here, once reading is over, never under a running read.
    """
    fd = pipe.fileno()
    with pipe:
        while True:
            try:
                data = os.read(fd, READ_SIZE)
            except OSError:
                data = b""
            yield data
            if not data:
                return
