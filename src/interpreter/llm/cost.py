"""What a request costs in USD, from the price table shipped in ``data/prices.json``."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

_DATA = Path(__file__).parent / "data"
_LOCAL_PROVIDERS = frozenset(
    {"ollama", "ollama_chat", "lm_studio", "llamafile", "local", "huggingface", "jan", "vllm"}
)
_VERSION_SUFFIX = re.compile(
    r"-(?:(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest)(?:-preview)?|preview)\Z"
)


def canonical_model(model: str) -> str:
    """The model name without provider prefix, lower-cased: ``openai/GPT-4o`` -> ``gpt-4o``."""
    return model.rsplit("/", 1)[-1].strip().lower()


def is_local_model(model: str) -> bool:
    """Whether the model string names a local provider (``ollama/...``), which costs nothing."""
    provider = model.split("/", 1)[0].strip().lower() if "/" in model else ""
    return provider in _LOCAL_PROVIDERS


@functools.cache
def _prices() -> dict[str, tuple[float, float]]:
    raw = json.loads((_DATA / "prices.json").read_text(encoding="utf-8"))
    return {
        name: (float(pair[0]) / 1e6, float(pair[1]) / 1e6)
        for name, pair in raw.items()
        if not name.startswith("_")
    }


def _price(model: str) -> tuple[float, float] | None:
    """USD per (prompt, completion) token, or None when the model's price is unknown."""
    if is_local_model(model):
        return None
    name = canonical_model(model)
    prices = _prices()
    if name in prices:
        return prices[name]
    return prices.get(_VERSION_SUFFIX.sub("", name))


def price_known(model: str) -> bool:
    """Whether ``cost_of`` can price this model."""
    return _price(model) is not None


def cost_of(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """The cost in USD of one request, or None for unknown and local models."""
    if prompt_tokens < 0 or completion_tokens < 0:
        raise ValueError("token counts cannot be negative")
    price = _price(model)
    if price is None:
        return None
    return prompt_tokens * price[0] + completion_tokens * price[1]
