"""The live region: the bottom lines of the terminal, redrawn while a turn streams.

It shows what its ``content`` callback returns (the unfinished end of the block being
streamed, or a spinner while the model is awaited). Finished output is written above
it once (``commit``) and never redrawn. Drawing (finished output and the region, in one
write) happens at once when the region was not drawn for ``interval`` seconds, else a
ticker thread draws the latest content at the next tick, so a fast stream costs a
bounded number of writes and redraws a second; the ticker also animates a spinner while
the caller's thread is blocked (a request, a retry's wait).

All screen writes go through one lock, which callers also hold while they change what
``content`` reads (``with region.lock:``). Only plain cursor movement and erase
sequences are written; the cursor is hidden while the region is up. With
``guard_stderr``, what is written to ``sys.stderr`` meanwhile (verbose lines, warnings,
on the same terminal) is shown above the region instead of across it.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO, cast

__all__ = ["LiveRegion"]

HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"


class LiveRegion:
    """Redrawn lines at the bottom of the screen (see the module docstring)."""

    def __init__(
        self,
        write: Callable[[str], None],
        content: Callable[[], list[str]],
        *,
        interval: float = 0.08,
        guard_stderr: bool = False,
    ) -> None:
        self.write = write
        self.content = content
        self.interval = interval
        self.guard_stderr = guard_stderr
        self._stderr: _Above | None = None
        self.lock = threading.RLock()
        self.animated = False  # redraw at every tick even when nothing changed
        self._shown = 0  # lines of the region on screen now
        self._committed: list[str] = []  # finished output not written yet
        self._dirty = False
        self._drawn_at = 0.0
        self._active = False
        self._generation = 0  # a ticker ends when the region it was started for is gone
        self._wake = threading.Condition(self.lock)

    @property
    def active(self) -> bool:
        return self._active

    def touch(self) -> None:
        """The content changed: draw it now, or at the next tick (at most one redraw per
        ``interval``)."""
        with self.lock:
            self._start()
            self._dirty = True
            if time.monotonic() - self._drawn_at >= self.interval:
                self._draw()

    def mark(self) -> None:
        """The content changed; draw it at the next tick."""
        with self.lock:
            self._dirty = self._active

    def draw_now(self) -> None:
        """Draw the content at once (the first text of a reply)."""
        with self.lock:
            self._start()
            self._draw()

    def commit(self, text: str) -> None:
        """Write finished output (ending with a newline) above the region: with the next
        drawing, so that a fast stream makes few, large writes."""
        with self.lock:
            self._committed.append(text)
            self.touch()

    def write_above(self, write: Callable[[str], None], text: str) -> None:
        """Show another stream's ``text`` (written with ``write``) above the region."""
        with self.lock:
            if self._active:
                self.write(self._erase() + self._take_committed())
                self._shown = 0
                self._dirty = True
            write(text)

    def stop(self) -> None:
        """Erase the region, show the cursor again and end the ticker."""
        with self.lock:
            self._unguard()
            if not self._active:
                return
            self._active = False
            self.animated = False
            self.write(self._erase() + self._take_committed() + SHOW_CURSOR)
            self._shown = 0
            self._dirty = False
            self._generation += 1
            self._wake.notify_all()

    # -- drawing -----------------------------------------------------------------------

    def _start(self) -> None:
        if self._active:
            return
        self._active = True
        if self.guard_stderr and self._stderr is None and sys.stderr is not None:
            self._stderr = _Above(self, sys.stderr)
            sys.stderr = cast(TextIO, self._stderr)
        self.write(HIDE_CURSOR)
        ticker = threading.Thread(
            target=self._tick, args=(self._generation,), name="interpreter-live", daemon=True
        )
        ticker.start()

    def _draw(self) -> None:
        lines = self.content() if self._active else []
        data = self._erase() + self._take_committed() + "\n".join(lines)
        if data:
            self.write(data)
        self._shown = len(lines)
        self._dirty = False
        self._drawn_at = time.monotonic()

    def _unguard(self) -> None:
        guard, self._stderr = self._stderr, None
        if guard is not None and sys.stderr is guard:
            sys.stderr = guard.stream

    def _take_committed(self) -> str:
        text = "".join(self._committed)
        self._committed.clear()
        return text

    def _erase(self) -> str:
        """Back to the first line of the region, and erase from there down."""
        if self._shown == 0:
            return ""
        up = f"\x1b[{self._shown - 1}A" if self._shown > 1 else ""
        return "\r" + up + "\x1b[J"

    def _tick(self, generation: int) -> None:
        with self.lock:
            while self._active and self._generation == generation:
                self._wake.wait(max(self.interval, 0.02))
                if self._generation != generation:
                    return
                if self._active and (self._dirty or self.animated):
                    try:
                        self._draw()
                    except Exception:  # a broken pipe, a closed file: nothing to draw on
                        self._active = False


class _Above:
    """``sys.stderr`` while the region is up: each write goes above the region."""

    def __init__(self, region: LiveRegion, stream: TextIO) -> None:
        self.region = region
        self.stream = stream

    def write(self, text: str) -> int:
        self.region.write_above(self._write, text)
        return len(text)

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
