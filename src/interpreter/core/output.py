"""A bounded buffer for code output: keeps the last characters the model will see."""

from __future__ import annotations

from .prompts import TRUNCATED


class TailBuffer:
    """Collects streamed text, keeping only the last ``limit`` characters (memory-bounded)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(0, limit)
        self._parts: list[str] = []
        self._size = 0
        self.total = 0

    def add(self, text: str) -> None:
        self.total += len(text)
        self._parts.append(text)
        self._size += len(text)
        if self._size > 2 * self.limit + 4096:
            self._compact()

    def _compact(self) -> None:
        joined = "".join(self._parts)[-self.limit :] if self.limit else ""
        self._parts, self._size = [joined], len(joined)

    def text(self) -> str:
        """The output as the model sees it: the tail, after a notice when it was cut."""
        joined = "".join(self._parts)
        if self.total <= self.limit:
            return joined
        tail = joined[-self.limit :] if self.limit else ""
        return TRUNCATED.format(n=self.limit) + tail
