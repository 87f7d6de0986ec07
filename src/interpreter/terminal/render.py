"""Render the LMC chunk stream in the terminal.

Finished parts (Markdown sections, code blocks, program output) are printed once, as
they complete (``blocks.py``); only the unfinished end of the current block is redrawn,
in a small live region (``live.py``) that draws the first text of a block at once and
then at most ``1 / refresh`` times a second. Rendering time is therefore linear in the
length of a reply. While the model is awaited (or a request is retried) the region shows
a spinner with the time waited; it goes as soon as text arrives. Every piece of
untrusted text goes through :mod:`.sanitize`; nothing of it is ever read as markup.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .blocks import Block, CodeBlock, ConsoleBlock, MessageBlock, Painter
from .blocks import code_panel as code_panel
from .blocks import output_panel as output_panel
from .media import describe
from .sanitize import escape_controls, escape_output

if TYPE_CHECKING:
    from rich.console import Console

    from ..llm.progress import Progress, Retrying

__all__ = [
    "ChunkRenderer",
    "PlainRenderer",
    "RichRenderer",
    "code_panel",
    "make_console",
    "output_panel",
    "retry_note",
]

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
#: How long a wait stays silent before the spinner shows (a fast reply never flickers).
SPINNER_DELAY = 0.25


class ChunkRenderer(Protocol):
    """Anything that shows a chunk stream."""

    def feed(self, chunk: Mapping[str, Any]) -> None: ...

    def progress(self, event: Progress) -> None: ...

    def pause(self) -> None: ...

    def close(self) -> None: ...


def make_console(*, plain: bool = False, **kwargs: Any) -> Console:
    """A rich Console that never interprets markup, emoji or highlighting in strings."""
    from rich.console import Console

    if plain:
        kwargs.setdefault("no_color", True)
    return Console(markup=False, emoji=False, highlight=False, **kwargs)


def retry_note(event: Retrying) -> str:
    """``retrying (2/5) after HTTP 500 in 0.6 s``."""
    return f"retrying ({event.attempt}/{event.tries}) after {event.reason} in {event.wait:.1f} s"


class _Waiting:
    """The model is awaited since ``since``; the last retry, if any."""

    def __init__(self) -> None:
        self.since = time.monotonic()
        self.retry: Retrying | None = None
        self.retry_at = 0.0  # when the retry's request goes out

    def line(self, now: float) -> str | None:
        """The spinner line (None while the wait is still too short to mention)."""
        waited = now - self.since
        frame = SPINNER[int(waited * 12.5) % len(SPINNER)]
        retry = self.retry
        if retry is None:
            if waited < SPINNER_DELAY:
                return None
            return f"{frame} waiting for the model · {waited:.1f} s"
        head = f"{frame} retrying ({retry.attempt}/{retry.tries}) after {retry.reason}"
        left = self.retry_at - now
        return f"{head}, next try in {left:.1f} s" if left > 0 else f"{head} · {waited:.1f} s"


class RichRenderer:
    """Renders chunks with colours: Markdown, highlighted code and a small live region."""

    def __init__(
        self, console: Console, *, highlight_active_line: bool = True, refresh: float = 0.08
    ) -> None:
        from .live import LiveRegion

        self.console = console
        self.painter = Painter(console)
        self.highlight = highlight_active_line
        self.block: Block | None = None
        self.last_code: CodeBlock | None = None
        self.waiting: _Waiting | None = None
        self._fresh = False  # the current block has shown nothing yet
        self._terminal = console.is_terminal
        stderr_tty = sys.stderr is not None and sys.stderr.isatty()
        guard = self._terminal and console.file is sys.stdout and stderr_tty
        self.live = LiveRegion(
            self._write, self._region, interval=max(refresh, 0.0), guard_stderr=guard
        )

    # -- the stream ----------------------------------------------------------------------

    def feed(self, chunk: Mapping[str, Any]) -> None:
        """Show one chunk (framing flags start/end included)."""
        with self.live.lock:
            self._feed(chunk)

    def progress(self, event: Progress) -> None:
        """A model request started, or will be retried: the spinner says so."""
        from ..llm.progress import Retrying

        if not self._terminal:
            return
        with self.live.lock:
            if self.waiting is None or not isinstance(event, Retrying):
                self.waiting = _Waiting()
            if isinstance(event, Retrying):
                self.waiting.retry = event
                self.waiting.retry_at = time.monotonic() + event.wait
            self.live.animated = True
            self.live.draw_now()

    def pause(self) -> None:
        """Finish what is on screen and take the live region down (before asking something)."""
        with self.live.lock:
            self._finish_block()
            self._stop_waiting()
            self.live.stop()

    def close(self) -> None:
        self.pause()
        self.last_code = None

    # -- blocks ------------------------------------------------------------------------

    def _feed(self, chunk: Mapping[str, Any]) -> None:
        self._stop_waiting()
        kind = chunk.get("type")
        if kind == "confirmation":
            self._finish_block()
            self.live.stop()
            return
        if kind not in ("message", "code", "console"):
            self._other(chunk)
            return
        if chunk.get("start") or self.block is None or self.block.kind != kind:
            self._finish_block()
            self.block = self._new_block(chunk)
            self._fresh = True
        if chunk.get("end"):
            self._finish_block()
            return
        if "content" in chunk:
            for text in self.block.feed(chunk):
                self._print(text)
            self._touch()

    def _new_block(self, chunk: Mapping[str, Any]) -> Block:
        kind = chunk.get("type")
        if kind == "code":
            self.last_code = CodeBlock(self.painter, str(chunk.get("format") or "python"))
            return self.last_code
        if kind == "console":
            return ConsoleBlock(self.painter, self.last_code, self.highlight)
        return MessageBlock(self.painter, str(chunk.get("role", "assistant")))

    def _finish_block(self) -> None:
        block, self.block = self.block, None
        if block is None:
            return
        for text in block.finish():
            self._print(text)
        if isinstance(block, ConsoleBlock):
            self.last_code = None

    def _other(self, chunk: Mapping[str, Any]) -> None:
        self._finish_block()
        if "content" in chunk and not chunk.get("start") and not chunk.get("end"):
            theme = self.painter.theme
            label = escape_controls(describe(chunk))
            self._print(theme.sgr(("dim",)) + label + theme.reset + "\n")

    # -- the screen --------------------------------------------------------------------

    def _stop_waiting(self) -> None:
        if self.waiting is not None:
            self.waiting = None
            self.live.animated = False
            self.live.mark()

    def _touch(self) -> None:
        """The block changed: its first text is drawn at once, later changes as due."""
        if not self._terminal:
            return
        if self._fresh:
            self._fresh = False
            self.live.draw_now()
        else:
            self.live.touch()

    def _print(self, text: str) -> None:
        if self._terminal and self.live.active:
            self.live.commit(text)
        else:
            self._write(text)

    def _write(self, text: str) -> None:
        file = self.console.file
        file.write(text)
        file.flush()

    def _region(self) -> list[str]:
        """What the live region shows: the current block's unfinished end, a spinner."""
        width = max(self.painter.width - 1, 8)
        height = max(self.console.size.height // 2, 6)
        lines = self.block.preview(width, height) if self.block is not None else []
        if self.waiting is not None:
            line = self.waiting.line(time.monotonic())
            if line is not None:
                theme = self.painter.theme
                lines = [*lines[-(height - 1) :], theme.sgr(("dim",)) + line[:width] + theme.reset]
        return lines


class PlainRenderer:
    """Writes the stream as plain text as it arrives (for --plain and pipes); a retry is
    one line on stderr."""

    def __init__(self, write: Any, note: Callable[[str], None] | None = None) -> None:
        self.write = write
        self.note = note or _stderr_line
        self.kind: str | None = None

    def feed(self, chunk: Mapping[str, Any]) -> None:
        kind = chunk.get("type")
        if chunk.get("start"):
            self._start(chunk)
        elif chunk.get("end"):
            self._end(kind)
        elif kind in ("message", "code"):
            self.write(escape_controls(str(chunk.get("content", ""))))
        elif kind == "console" and chunk.get("format") == "output":
            self.write(escape_output(str(chunk.get("content", ""))))
        elif kind == "image" and "content" in chunk:
            self.write(escape_controls(describe(chunk)) + "\n")

    def progress(self, event: Progress) -> None:
        from ..llm.progress import Retrying

        if isinstance(event, Retrying):
            self.note(f"interpreter: {retry_note(event)}")

    def _start(self, chunk: Mapping[str, Any]) -> None:
        kind = chunk.get("type")
        if kind == "code":
            self.write("\n```" + escape_controls(str(chunk.get("format") or "")) + "\n")
        elif kind == "message" and chunk.get("role") == "user":
            self.write("> ")
        self.kind = kind

    def _end(self, kind: Any) -> None:
        self.write("\n```\n" if kind == "code" else "\n")
        self.kind = None

    def pause(self) -> None:
        pass

    def close(self) -> None:
        pass


def _stderr_line(text: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
