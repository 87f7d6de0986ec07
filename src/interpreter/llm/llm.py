"""``interpreter.llm``: the model settings (Open Interpreter's names) and the one entry point.

SKELETON written by the core; the llm helper owns this file and fills it in, keeping
the attribute names and the ``stream`` / ``count_tokens`` signatures.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..core.lmc import Message
from .events import Event


class Llm:
    def __init__(self) -> None:
        self.model: str = "gpt-4o"
        self.temperature: float = 0.0
        self.supports_functions: bool | None = None
        self.supports_vision: bool | None = None
        self.context_window: int | None = None
        self.max_tokens: int | None = None
        self.api_base: str | None = None
        self.api_key: str | None = None
        self.api_version: str | None = None
        self.max_budget: float | None = None
        self.offline: bool = False
        self.max_retries: int = 4
        self.request_timeout: float = 600.0

    def stream(
        self, messages: list[Message], *, system_message: str, languages: Sequence[str]
    ) -> Iterator[Event]:
        """Send ``messages`` (LMC, no system message) and yield the reply as events."""
        raise NotImplementedError

    def count_tokens(self, messages: list[Message], *, system_message: str) -> int:
        raise NotImplementedError
