"""cost_of / price_known against the shipped price table."""

from __future__ import annotations

import pytest

from interpreter.llm.cost import Price, canonical_model, cost_of, price_known, price_of


@pytest.mark.parametrize(
    ("model", "per_million_in", "per_million_out"),
    [
        ("gpt-4o", 2.5, 10.0),
        ("openai/gpt-4o", 2.5, 10.0),
        ("GPT-4o-2024-08-06", 2.5, 10.0),
        ("gpt-4o-mini", 0.15, 0.6),
        ("gpt-4o-mini-2024-07-18", 0.15, 0.6),
        ("gpt-4.1", 2.0, 8.0),
        ("gpt-4-0613", 30.0, 60.0),
        ("gpt-4-1106-preview", 10.0, 30.0),
        ("o1-preview", 15.0, 60.0),
        ("o3-mini", 1.1, 4.4),
        ("gpt-5", 1.25, 10.0),
        ("azure/gpt-3.5-turbo-0125", 0.5, 1.5),
        ("claude-3-5-sonnet-20241022", 3.0, 15.0),
        ("anthropic/claude-3-5-sonnet-latest", 3.0, 15.0),
        ("claude-3-opus-20240229", 15.0, 75.0),
        ("claude-opus-4-1-20250805", 15.0, 75.0),
        ("claude-haiku-4-5", 1.0, 5.0),
    ],
)
def test_known_models(model: str, per_million_in: float, per_million_out: float) -> None:
    assert price_known(model)
    cost = cost_of(model, 1_000_000, 2_000_000)
    assert cost == pytest.approx(per_million_in + 2 * per_million_out)
    assert cost_of(model, 0, 0) == 0.0


@pytest.mark.parametrize("model", ["my-finetune", "o3-pro", "gpt-4o-audio"])
def test_unknown_models_have_no_price(model: str) -> None:
    assert not price_known(model)
    assert cost_of(model, 1000, 1000) is None


@pytest.mark.parametrize("model", ["ollama/llama3", "ollama/gpt-4o", "lm_studio/qwen"])
def test_local_models_cost_nothing(model: str) -> None:
    assert price_known(model)
    assert cost_of(model, 1000, 1000) == 0.0


def test_cached_prompt_tokens_cost_the_cached_price() -> None:
    # gpt-4o: $2.50 per million prompt tokens, $1.25 cached; claude: a tenth of the input
    assert cost_of("gpt-4o", 1_000_000, 0, 400_000) == pytest.approx(0.6 * 2.5 + 0.4 * 1.25)
    assert cost_of("claude-sonnet-4", 1_000_000, 0, 1_000_000) == pytest.approx(0.3)
    assert cost_of("gpt-4", 1_000_000, 0, 500_000) == pytest.approx(30.0)  # no cache price


def test_a_given_price_is_used_for_any_model() -> None:
    price = Price(1e-6, 2e-6)
    assert cost_of("my-finetune", 1000, 500, price=price) == pytest.approx(0.002)
    assert cost_of("gpt-4o", 1000, 500, price=price) == pytest.approx(0.002)


def test_small_counts_and_rejects_negative() -> None:
    assert cost_of("gpt-4o", 1000, 100) == pytest.approx(0.0025 + 0.001)
    with pytest.raises(ValueError):
        cost_of("gpt-4o", -1, 0)


def test_canonical_model() -> None:
    assert canonical_model("openrouter/openai/GPT-4o ") == "gpt-4o"


def test_anthropic_cache_writes_cost_a_quarter_more() -> None:
    price = price_of("claude-sonnet-4")
    assert price is not None
    assert price.cost(1_000_000, 0, 0, 1_000_000) == pytest.approx(3.75)
    assert price.cost(1_000_000, 0, 500_000, 500_000) == pytest.approx(0.15 + 1.875)
    gpt = price_of("gpt-4o")
    assert gpt is not None and gpt.cost(1_000_000, 0, 0, 1_000_000) == pytest.approx(2.5)
