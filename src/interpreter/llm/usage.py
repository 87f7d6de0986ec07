"""What the model calls used and cost: per request, per turn (one ``chat()``), and in all.

``Llm.usage`` is a :class:`UsageLedger` (also ``interpreter.usage``). Every request the
client sends, replies and summaries alike, is recorded once it has been answered (or cut
off: what was streamed still counts). ``cost`` is in USD; a request the price table does
not know leaves ``cost`` unchanged and sets ``unpriced``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["TokenUsage", "UsageLedger"]


@dataclass
class TokenUsage:
    """Tokens and cost of some requests. ``cached_tokens`` are prompt tokens the provider
    read from its prompt cache (part of ``prompt_tokens``)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost: float = 0.0
    requests: int = 0
    unpriced: bool = False

    def add(
        self, prompt: int, completion: int, *, cached: int = 0, cost: float | None = None
    ) -> None:
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self.cached_tokens += cached
        self.requests += 1
        if cost is None:
            self.unpriced = True
        else:
            self.cost += cost

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (the shape of usage in server replies and JSON output)."""
        return asdict(self)


@dataclass
class UsageLedger:
    """``total`` since the session started (or ``reset()``); ``turns``: one entry per
    ``chat()`` call, the last one being the current or latest turn."""

    total: TokenUsage = field(default_factory=TokenUsage)
    turns: list[TokenUsage] = field(default_factory=list)

    def start_turn(self) -> TokenUsage:
        """Opens the entry of a new turn and returns it."""
        self.turns.append(TokenUsage())
        return self.turns[-1]

    @property
    def turn(self) -> TokenUsage:
        """The current (or latest) turn's usage; an empty one before the first turn."""
        return self.turns[-1] if self.turns else TokenUsage()

    def record(
        self, prompt: int, completion: int, *, cached: int = 0, cost: float | None = None
    ) -> None:
        """Counts one answered request in the total and in the current turn."""
        if not self.turns:
            self.start_turn()
        for usage in (self.total, self.turns[-1]):
            usage.add(prompt, completion, cached=cached, cost=cost)

    def reset(self) -> None:
        self.total = TokenUsage()
        self.turns.clear()
