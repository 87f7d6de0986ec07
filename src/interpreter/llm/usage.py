"""What the model calls used and cost: per request, per turn (one ``chat()``), and in all.

``Llm.usage`` is a :class:`UsageLedger` (also ``interpreter.usage``). Every request the
client sends, replies and summaries alike, is recorded once it has been answered (or cut
off: what was streamed still counts, by the provider's count when it came, else by ours).
``cost`` is in USD, cached prompt tokens at the cached price; a request whose price is
unknown leaves ``cost`` unchanged and sets ``unpriced``.

The shape front ends read (server replies, JSON output) is ``TokenUsage.as_dict()``:
``{"prompt_tokens", "completion_tokens", "cached_tokens", "cost", "requests",
"unpriced"}``, and ``UsageLedger.as_dict()``: ``{"turn": {...}, "total": {...}}``.
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

    def describe(self) -> str:
        """``12,345 tokens in (8,192 cached), 321 out, $0.0123`` (cost unknown: say so)."""
        cached = f" ({self.cached_tokens:,} cached)" if self.cached_tokens else ""
        return (
            f"{self.prompt_tokens:,} tokens in{cached}, {self.completion_tokens:,} out, "
            f"{self.cost_text()}"
        )

    def cost_text(self) -> str:
        """``$0.0123``; ``cost unknown`` (or ``over $0.0100``) when a request was unpriced."""
        if not self.unpriced:
            return f"${self.cost:.4f}"
        return f"over ${self.cost:.4f}" if self.cost else "cost unknown"


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

    def as_dict(self) -> dict[str, Any]:
        """``{"turn": ..., "total": ...}``, each a ``TokenUsage.as_dict()``."""
        return {"turn": self.turn.as_dict(), "total": self.total.as_dict()}

    def status_line(self) -> str:
        """One line after a turn: what it used, and the session's cost so far."""
        turn = self.turn
        requests = f"{turn.requests} request{'' if turn.requests == 1 else 's'}"
        return f"{requests}: {turn.describe()} · session {self.total.cost_text()}"
