"""Long program output kept whole, outside the context window.

Output longer than the threshold (``offload_threshold``, else ``max_output`` characters)
is written to ``out-<n>.txt`` in the conversation's data folder (``n``: the number of the
code block in the conversation), and a Python run's is also loaded into the kernel as
``_out[n]``. The model is sent its start and its end with one line between saying how
much was left out and where the whole output is; the user still sees all of it as it
streams.

:class:`OutputKeeper` takes one run's output as it comes, in bounded memory: below the
threshold in memory; past it, everything goes to the file as it comes (``.part`` until the
run ends, then renamed into place) and only the head and the tail stay in memory. A file
that cannot be written is given up quietly: the model then gets the output as before.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["KeptOutput", "OutputKeeper", "pointer_line"]

HEAD_SHARE = 4
"""The head is a quarter of what the model is shown; the rest is the tail."""


def pointer_line(omitted: int, path: Path, variable: str | None) -> str:
    """The line between head and tail: how much is left out and where it all is."""
    where = f"{variable} (Python) and {path}" if variable else str(path)
    return f"\n[... {omitted:,} characters omitted; the whole output is in {where}]\n"


@dataclass(frozen=True)
class KeptOutput:
    """An output kept in ``path``: ``total`` characters, of which ``head`` and ``tail``."""

    path: Path
    total: int
    head: str
    tail: str

    def for_model(self, limit: int, variable: str | None = None) -> str:
        """``limit`` characters of output, a quarter from the start and the rest from the
        end, with the pointer line between them."""
        head = self.head[: max(limit // HEAD_SHARE, 0)]
        tail_size = min(max(limit - len(head), 0), self.total - len(head))
        tail = self.tail[-tail_size:] if tail_size > 0 else ""
        return head + pointer_line(self.total - len(head) - len(tail), self.path, variable) + tail


class OutputKeeper:
    """One run's console output: kept in ``folder()/out-<index>.txt`` once it passes
    ``threshold`` characters; ``limit`` is how much the model will be shown."""

    def __init__(
        self, *, threshold: int, limit: int, folder: Callable[[], Path], index: int
    ) -> None:
        self.threshold = max(threshold, 0)
        self.limit = max(limit, 0)
        self.index = index
        self._folder = folder
        self._pending: list[str] = []
        self._file: IO[str] | None = None
        self._part: Path | None = None
        self._failed = False
        self.total = 0
        self._head = ""
        self._tail: list[str] = []
        self._tail_size = 0

    def add(self, text: str) -> None:
        if not text:
            return
        self.total += len(text)
        self._keep_head_and_tail(text)
        if self._failed:
            return
        if self._file is None:
            self._pending.append(text)
            if self.total > self.threshold:
                self._open()
            return
        self._write(text)

    def finish(self) -> KeptOutput | None:
        """Close the file; the output kept, or None when it was short (or not writable)."""
        file, part = self._file, self._part
        self._file, self._pending = None, []
        if file is None or part is None or self._failed:
            return None
        try:
            file.close()
            final = part.with_suffix("")  # out-3.txt.part -> out-3.txt
            os.replace(part, final)
        except OSError:
            self._give_up()
            return None
        return KeptOutput(final, self.total, self._head, "".join(self._tail))

    def abandon(self) -> None:
        """The run's output is not kept after all: remove the partial file."""
        self._give_up()

    # -- internals -------------------------------------------------------------------

    def _keep_head_and_tail(self, text: str) -> None:
        room = self.limit - len(self._head)
        if room > 0:
            self._head += text[:room]
        self._tail.append(text)
        self._tail_size += len(text)
        if self._tail_size > 2 * self.limit + 4096:
            joined = "".join(self._tail)[-self.limit :] if self.limit else ""
            self._tail, self._tail_size = [joined], len(joined)

    def _open(self) -> None:
        from ..store.paths import ensure_dir

        try:
            folder = ensure_dir(self._folder())
            self._part = folder / f"out-{self.index}.txt.part"
            fd = os.open(self._part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self._file = open(fd, "w", encoding="utf-8", errors="replace", newline="")  # noqa: SIM115
        except (OSError, ValueError):
            self._give_up()
            return
        pending, self._pending = self._pending, []
        for text in pending:
            self._write(text)

    def _write(self, text: str) -> None:
        if self._file is None:
            return
        try:
            self._file.write(text)
        except OSError:
            self._give_up()

    def _give_up(self) -> None:
        self._failed = True
        self._pending = []
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        if self._part is not None:
            with contextlib.suppress(OSError):
                self._part.unlink()
