"""Streamed Markdown to code-block events, for models that write fenced code instead of tools.

``FenceParser`` turns the text of a streamed reply into ``TextDelta`` / ``CodeStart`` /
``CodeDelta`` / ``CodeEnd`` events. Fences are ``` or ~~~ runs of three or more at the start
of a line (up to three spaces of indentation); a block closes on a run of the same character
at least as long, alone on its line. The language is the first word of the info string,
lower-cased ("python" when empty). Every block of the message is reported.

Only the part of the current line that could still turn out to be a fence is held back, so
the events, once consecutive deltas of one kind are merged, do not depend on how the text was
split into pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .events import CodeDelta, CodeEnd, CodeStart, Event, TextDelta

_FENCE_CHARS = "`~"
_MAX_INDENT = 3
_MIN_RUN = 3
_BLANK = " \t\r"


@dataclass
class _FenceProbe:
    """Incrementally decides whether the current line is a fence line.

    ``char`` is the fence character wanted (``None``: either, for an opening fence);
    ``min_run`` the shortest run that counts; ``closing`` whether only blanks may follow.
    """

    char: str | None
    min_run: int
    closing: bool
    indent: int = 0
    run: int = 0
    in_tail: bool = False
    dead: bool = False
    tail: list[str] = field(default_factory=list)

    def push(self, piece: str) -> None:
        """Take the next piece of the line (no newline in it)."""
        i = 0
        while not self.in_tail and not self.dead and i < len(piece):
            i = self._push_prefix(piece, i)
        if self.in_tail and not self.dead and i < len(piece):
            self._push_tail(piece[i:])

    def _push_prefix(self, piece: str, i: int) -> int:
        ch = piece[i]
        if self.run == 0 and ch == " ":
            self.indent += 1
            self.dead = self.indent > _MAX_INDENT
            return i + 1
        if self.run == 0 and self.char is None and ch in _FENCE_CHARS:
            self.char = ch
        if ch == self.char:
            rest = piece[i:]
            n = len(rest) - len(rest.lstrip(ch))
            self.run += n
            return i + n
        self.dead = self.run < self.min_run
        self.in_tail = True
        return i

    def _push_tail(self, text: str) -> None:
        if self.closing:
            self.dead = text.strip(_BLANK) != ""
        elif self.char == "`":
            self.dead = "`" in text
        if not self.dead:
            self.tail.append(text)

    def is_fence(self) -> bool:
        """Whether the line, were it to end now, is a fence line."""
        return not self.dead and self.run >= self.min_run

    def info(self) -> str:
        return "".join(self.tail).strip()


def _language(info: str) -> str:
    words = info.split()
    return words[0].lower() if words else "python"


class FenceParser:
    """Feed streamed Markdown with ``feed``; call ``close`` once at the end."""

    def __init__(self) -> None:
        self._in_code = False
        self._language = ""
        self._fence_char = ""
        self._fence_run = 0
        self._code: list[str] = []
        self._newline_pending = False
        self._held: list[str] = []
        self._probe: _FenceProbe | None = self._new_probe()

    def feed(self, text: str) -> list[Event]:
        """Take the next piece of the reply; return the events it completes."""
        events: list[Event] = []
        start = 0
        while start < len(text):
            end = text.find("\n", start)
            if end < 0:
                self._take_partial(text[start:], events)
                break
            self._take_partial(text[start:end], events)
            self._end_line(events)
            start = end + 1
        return events

    def close(self) -> list[Event]:
        """End of the reply: flush what was held and end an unterminated code block."""
        events: list[Event] = []
        probe, held = self._probe, "".join(self._held)
        if probe is not None and probe.is_fence():
            self._fence_line(probe, events)
        elif probe is not None and held:
            self._emit(held, events)
        if self._in_code:
            events.append(CodeEnd(self._language, "".join(self._code)))
            self._in_code = False
        self._held = []
        self._probe = self._new_probe()
        return events

    def _new_probe(self) -> _FenceProbe:
        if self._in_code:
            return _FenceProbe(self._fence_char, self._fence_run, closing=True)
        return _FenceProbe(None, _MIN_RUN, closing=False)

    def _take_partial(self, piece: str, events: list[Event]) -> None:
        """Part of the current line, without its newline."""
        probe = self._probe
        if probe is None:
            self._emit(piece, events)
            return
        probe.push(piece)
        self._held.append(piece)
        if probe.dead:
            self._emit("".join(self._held), events)
            self._held = []
            self._probe = None

    def _end_line(self, events: list[Event]) -> None:
        probe = self._probe
        if probe is not None and probe.is_fence():
            self._fence_line(probe, events)
        else:
            if probe is not None:
                self._emit("".join(self._held), events)
            if self._in_code:
                self._newline_pending = True
            else:
                events.append(TextDelta("\n"))
        self._held = []
        self._probe = self._new_probe()

    def _fence_line(self, probe: _FenceProbe, events: list[Event]) -> None:
        if self._in_code:
            events.append(CodeEnd(self._language, "".join(self._code)))
            self._in_code = False
            return
        self._in_code = True
        self._language = _language(probe.info())
        self._fence_char = probe.char or "`"
        self._fence_run = probe.run
        self._code = []
        self._newline_pending = False
        events.append(CodeStart(self._language))

    def _emit(self, text: str, events: list[Event]) -> None:
        """Text or code content of the current line, once it is known not to be a fence."""
        if not self._in_code:
            if text:
                events.append(TextDelta(text))
            return
        if self._newline_pending:
            text = "\n" + text
            self._newline_pending = False
        if text:
            self._code.append(text)
            events.append(CodeDelta(text))
