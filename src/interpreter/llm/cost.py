"""What a request costs in USD, from the price table shipped in ``data/prices.json``.

A :class:`Price` is USD per token: prompt, completion, and cached prompt tokens (read from
the provider's prompt cache; the prompt price when the table does not say). Models of a
local provider (``ollama/...``, ``lm_studio/...``) cost nothing. A price the user gives
(``llm.input_cost_per_token`` / ``llm.output_cost_per_token``) overrides the table.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Price", "canonical_model", "cost_of", "is_local_model", "price_known", "price_of"]

_DATA = Path(__file__).parent / "data"
_LOCAL_PROVIDERS = frozenset(
    {"ollama", "ollama_chat", "lm_studio", "llamafile", "local", "huggingface", "jan", "vllm"}
)
_VERSION_SUFFIX = re.compile(
    r"-(?:(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest)(?:-preview)?|preview)\Z"
)


@dataclass(frozen=True)
class Price:
    """USD per token. ``cached``: per prompt token read from the provider's cache;
    ``written``: per prompt token written to it (None: the same as ``prompt``)."""

    prompt: float
    completion: float
    cached: float | None = None
    written: float | None = None

    def cost(
        self,
        prompt_tokens: int,
        completion_tokens: int,
        cached_tokens: int = 0,
        written_tokens: int = 0,
    ) -> float:
        """The cost of one request; cached and written tokens are part of ``prompt_tokens``."""
        cached = min(max(cached_tokens, 0), prompt_tokens)
        written = min(max(written_tokens, 0), prompt_tokens - cached)
        plain = prompt_tokens - cached - written
        return (
            plain * self.prompt
            + cached * (self.prompt if self.cached is None else self.cached)
            + written * (self.prompt if self.written is None else self.written)
            + completion_tokens * self.completion
        )


FREE = Price(0.0, 0.0, 0.0, 0.0)
_CACHE_WRITE = 1.25
"""Anthropic bills prompt tokens written to its cache (5-minute entries) at 1.25 times."""


def canonical_model(model: str) -> str:
    """The model name without provider prefix, lower-cased: ``openai/GPT-4o`` -> ``gpt-4o``."""
    return model.rsplit("/", 1)[-1].strip().lower()


def is_local_model(model: str) -> bool:
    """Whether the model string names a local provider (``ollama/...``), which costs nothing."""
    provider = model.split("/", 1)[0].strip().lower() if "/" in model else ""
    return provider in _LOCAL_PROVIDERS


@functools.cache
def _prices() -> dict[str, Price]:
    raw = json.loads((_DATA / "prices.json").read_text(encoding="utf-8"))
    table: dict[str, Price] = {}
    for name, row in raw.items():
        if name.startswith("_"):
            continue
        cached = float(row[2]) / 1e6 if len(row) > 2 else None
        prompt = float(row[0]) / 1e6
        written = prompt * _CACHE_WRITE if name.startswith("claude") else None
        table[name] = Price(prompt, float(row[1]) / 1e6, cached, written)
    return table


def price_of(model: str) -> Price | None:
    """The model's price per token, or None when the table does not know it."""
    if is_local_model(model):
        return FREE
    name = canonical_model(model)
    prices = _prices()
    if name in prices:
        return prices[name]
    return prices.get(_VERSION_SUFFIX.sub("", name))


def price_known(model: str) -> bool:
    """Whether ``cost_of`` can price this model."""
    return price_of(model) is not None


def cost_of(
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    cached_tokens: int = 0,
    *,
    price: Price | None = None,
) -> float | None:
    """The cost in USD of one request (``price``, else the table's), or None when the
    model's price is unknown. Local models cost 0."""
    if prompt_tokens < 0 or completion_tokens < 0 or cached_tokens < 0:
        raise ValueError("token counts cannot be negative")
    price = price or price_of(model)
    if price is None:
        return None
    return price.cost(prompt_tokens, completion_tokens, cached_tokens)
