"""Console output helpers shared by the languages: chunk builders, ANSI stripping, capping
(head and tail), reading pipes."""

from __future__ import annotations

import os
import re
from collections import deque
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


def _last_bytes(text: str, limit: int) -> str:
    """The longest suffix of ``text`` whose UTF-8 form fits in ``limit`` bytes."""
    if limit <= 0:
        return ""
    if text.isascii():
        return text[-limit:]
    return text.encode("utf-8", "replace")[-limit:].decode("utf-8", "ignore")


def omitted_line(count: int) -> str:
    """The line that stands for the ``count`` bytes left out between head and tail."""
    return f"\n... {count} bytes omitted ...\n"


class OutputCap:
    """Keeps the head and the tail of each run's console output, ``limit`` bytes in all.

    The first half streams as it comes. After that the last half is held (memory stays
    bounded whatever the program prints) and sent when the run ends, after one line
    saying how many bytes were left out between (:func:`omitted_line`): the final lines,
    where results and errors are, always arrive. Other chunks (images, HTML, active
    lines) pass through untouched.
    """

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.head_limit = 0 if limit is None else limit - limit // 2
        self.tail_limit = 0 if limit is None else limit // 2
        self.sent = 0
        self.omitted = 0
        self.holding = False  # the head is full: output goes to the tail
        self._tail: deque[str] = deque()
        self._tail_size = 0

    def feed(self, chunk: Chunk) -> Chunk | None:
        """The chunk to forward now (maybe cut short), or None when it is held or left out."""
        if self.limit is None or not is_output(chunk):
            return chunk
        text = str(chunk["content"])
        if self.holding:
            self._hold(text)
            return None
        size = _utf8_len(text)
        room = self.head_limit - self.sent
        if size <= room:
            self.sent += size
            return chunk
        kept = _cut_to_bytes(text, room)
        self.sent += _utf8_len(kept)
        self.holding = True
        self._hold(text[len(kept) :])
        return output(kept) if kept else None

    def _hold(self, text: str) -> None:
        size = _utf8_len(text)
        if size >= self.tail_limit:
            kept = _last_bytes(text, self.tail_limit)
            self.omitted += self._tail_size + size - _utf8_len(kept)
            self._tail.clear()
            self._tail.append(kept)
            self._tail_size = _utf8_len(kept)
            return
        self._tail.append(text)
        self._tail_size += size
        while self._tail_size > self.tail_limit:
            excess = self._tail_size - self.tail_limit
            first = self._tail.popleft()
            first_size = _utf8_len(first)
            if first_size <= excess:
                dropped = first_size
            else:
                rest = _last_bytes(first, first_size - excess)
                self._tail.appendleft(rest)
                dropped = first_size - _utf8_len(rest)
            self.omitted += dropped
            self._tail_size -= dropped

    def add_dropped(self, count: int) -> None:
        """Record ``count`` bytes left out here, before they reached us (e.g. in a kernel)."""
        self.holding = True
        self.omitted += count

    def finish(self) -> Iterator[Chunk]:
        """The end of the run: the omitted line (if anything was) and the held tail."""
        if self.omitted:
            yield output(omitted_line(self.omitted))
        if self._tail:
            yield output("".join(self._tail))
        self._tail.clear()
        self._tail_size = 0

    def wrap(self, chunks: Iterable[Chunk]) -> Iterator[Chunk]:
        """Cap a whole stream: head as it comes, then the omitted line and the tail."""
        for chunk in chunks:
            kept = self.feed(chunk)
            if kept is not None:
                yield kept
        yield from self.finish()


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
