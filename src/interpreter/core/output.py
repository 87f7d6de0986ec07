"""A bounded buffer for code output: what the model sees of it (head and tail)."""

from __future__ import annotations

from .prompts import TRUNCATED


def omitted_line(count: int) -> str:
    """The line between head and tail saying how many characters the model does not see."""
    return f"\n... {count} characters omitted ...\n"


class HeadTailBuffer:
    """Collects streamed text for the model within ``limit`` characters, memory-bounded.

    Output that fits is kept whole. Longer output keeps its first quarter and its end
    (where results and errors are), with one line saying how much was left out between;
    as in Open Interpreter 0.4.3, a notice line comes first.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(0, limit)
        self.head_limit = self.limit // 4
        self._head = ""
        self._parts: list[str] = []
        self._size = 0
        self.total = 0

    def add(self, text: str) -> None:
        self.total += len(text)
        if len(self._head) < self.head_limit:
            self._head += text[: self.head_limit - len(self._head)]
        self._parts.append(text)
        self._size += len(text)
        if self._size > 2 * self.limit + 4096:
            self._compact()

    def _compact(self) -> None:
        joined = "".join(self._parts)[-self.limit :] if self.limit else ""
        self._parts, self._size = [joined], len(joined)

    def text(self) -> str:
        """The output as the model sees it: whole, or notice, head, omitted line and tail."""
        joined = "".join(self._parts)
        if self.total <= self.limit:
            return joined
        widest = omitted_line(self.total - self.head_limit)  # no shorter than the real one
        tail_size = max(self.limit - self.head_limit - len(widest), 0)
        line = omitted_line(self.total - self.head_limit - tail_size)
        tail = joined[-tail_size:] if tail_size else ""
        notice = TRUNCATED.format(head=self.head_limit, tail=tail_size, total=self.total)
        return notice + self._head + line + tail
