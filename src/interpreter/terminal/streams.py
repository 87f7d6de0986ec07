"""Incremental text buffers for the renderer: each costs time linear in what it is fed.

:class:`SectionSplitter` cuts streamed Markdown into sections that can be printed once
and never again (paragraphs, closed code fences); :class:`Tail` keeps streamed text and
gives its end cheaply, for the live preview.
"""

from __future__ import annotations

__all__ = ["SectionSplitter", "Tail", "CrJoiner"]

MAX_SECTION_LINES = 200


class Tail:
    """Append-only text whose last ``keep`` characters are cheap to read."""

    def __init__(self, keep: int = 8192) -> None:
        self._all: list[str] = []
        self._recent: list[str] = []
        self._recent_len = 0
        self._keep = keep
        self.length = 0

    def append(self, text: str) -> None:
        if not text:
            return
        self._all.append(text)
        self.length += len(text)
        self._recent.append(text)
        self._recent_len += len(text)
        if self._recent_len > 2 * self._keep:
            kept = "".join(self._recent)[-self._keep :]
            self._recent, self._recent_len = [kept], len(kept)

    def tail(self, chars: int) -> str:
        """The last ``chars`` characters (``chars`` at most ``keep``)."""
        return "".join(self._recent)[-chars:]

    def text(self) -> str:
        joined = "".join(self._all)
        self._all = [joined] if joined else []
        return joined


class CrJoiner:
    """Keeps a trailing ``\\r`` back until the next piece, so a ``\\r\\n`` split across
    two chunks is still seen as one line end."""

    def __init__(self) -> None:
        self._held = False

    def feed(self, text: str) -> str:
        if self._held:
            text = "\r" + text
            self._held = False
        if text.endswith("\r"):
            self._held = True
            text = text[:-1]
        return text

    def flush(self) -> str:
        held, self._held = self._held, False
        return "\r" if held else ""


def _fence_of(line: str) -> str | None:
    stripped = line.lstrip()
    for mark in ("```", "~~~"):
        if stripped.startswith(mark):
            return mark[0] * (len(stripped) - len(stripped.lstrip(mark[0])))
    return None


class SectionSplitter:
    """Splits streamed Markdown into complete sections.

    A section ends at a blank line outside a code fence, or when a fence closes.
    Overlong sections are cut (a cut fence is closed and reopened) so that no section
    is rendered twice and none grows without bound.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.partial: list[str] = []
        self.fence: str | None = None
        self.fence_opener = ""

    def feed(self, text: str) -> list[str]:
        """Take more text; return the sections completed by it."""
        if "\n" not in text:
            if text:
                self.partial.append(text)
            return []
        pieces = text.split("\n")
        done: list[str] = []
        first = "".join(self.partial) + pieces[0]
        for line in [first, *pieces[1:-1]]:
            section = self._line(line)
            if section is not None:
                done.append(section)
        self.partial = [pieces[-1]] if pieces[-1] else []
        return done

    def finish(self) -> str:
        """Everything not yet returned, as a last section (may be empty)."""
        if self.partial:
            self.lines.append("".join(self.partial))
            self.partial = []
        rest = "\n".join(self.lines)
        self.lines = []
        self.fence = None
        return rest

    def current(self, max_lines: int, max_chars: int) -> str:
        """The end of the unfinished section, for a preview (fence reopened if cut)."""
        lines = self.lines[-max_lines:]
        partial = "".join(self.partial)[-max_chars:]
        text = "\n".join([*lines, partial])[-max_chars:]
        if self.fence is not None and len(self.lines) > len(lines):
            text = self.fence_opener + "\n" + text
        return text

    def _line(self, line: str) -> str | None:
        mark = _fence_of(line)
        if self.fence is not None:
            self.lines.append(line)
            if mark is not None and mark.startswith(self.fence) and not line.strip().strip(mark[0]):
                self.fence = None
                return self._take()
            if len(self.lines) >= MAX_SECTION_LINES:
                section = self._take() + "\n" + self.fence
                self.lines = [self.fence_opener]
                return section
            return None
        if mark is not None:
            self.fence, self.fence_opener = mark, line.strip()
            before = self._take() if self.lines else None
            self.lines = [line]
            return before
        if not line.strip():
            return self._take() if self.lines else None
        self.lines.append(line)
        if len(self.lines) >= MAX_SECTION_LINES:
            return self._take()
        return None

    def _take(self) -> str:
        section = "\n".join(self.lines)
        self.lines = []
        return section
