"""Usage and cost you can see: cached tokens from OpenAI and Anthropic, cut streams counted,
prices from the table or given, unpriced models refused under a budget, the context
window a request is fitted to (and a one-line notice when it is assumed), and the usage
line in the terminal and in %tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from helpers import make_interpreter
from interpreter import OpenInterpreter
from interpreter.llm.errors import StreamCut, UnpricedBudget
from interpreter.llm.usage import TokenUsage
from interpreter.terminal.magic import MagicContext, run_magic
from interpreter.terminal.render import PlainRenderer
from interpreter.terminal.session import TerminalUI, run_turn
from interpreter.testing.fake_server import FakeModelServer, Reply


@pytest.fixture
def interp(server: FakeModelServer, config_dir: Path) -> Iterator[OpenInterpreter]:
    it = make_interpreter(server)
    yield it
    it.computer.terminate()


def notices(chunks: list[Any]) -> list[str]:
    return [str(c["content"]) for c in chunks if c.get("recipient") == "user" and "content" in c]


def test_openai_cached_tokens_are_counted_and_priced(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(
        replace(Reply.text("hi"), prompt_tokens=1000, completion_tokens=10, cached_tokens=600)
    )
    interp.chat("hello", display=False)
    turn = interp.usage.turn
    assert (turn.prompt_tokens, turn.cached_tokens, turn.completion_tokens) == (1000, 600, 10)
    assert turn.cost == pytest.approx((400 * 2.5 + 600 * 1.25 + 10 * 10) / 1e6)


def test_anthropic_cache_reads_are_prompt_tokens_too(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.llm.model = "claude-sonnet-4-20250514"
    server.script(
        replace(Reply.text("hi"), prompt_tokens=1000, completion_tokens=10, cached_tokens=600)
    )
    interp.chat("hello", display=False)
    assert server.request_paths == ["/v1/messages"]
    last = server.requests[0]["messages"][-1]["content"][-1]
    assert last["cache_control"] == {"type": "ephemeral"}  # the prompt is cached to here
    turn = interp.usage.turn
    assert (turn.prompt_tokens, turn.cached_tokens, turn.completion_tokens) == (1000, 600, 10)
    assert turn.cost == pytest.approx((400 * 3.0 + 600 * 0.3 + 10 * 15.0) / 1e6)


def test_a_cut_stream_costs_what_it_streamed(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.llm.max_retries = 0
    server.script(Reply.cut(Reply.text("word " * 400, chunk_size=20), after_events=30))
    with pytest.raises(StreamCut):
        interp.chat("write a lot", display=False)
    turn = interp.usage.turn
    assert turn.requests == 1 and not turn.unpriced
    assert turn.prompt_tokens > 100 and turn.completion_tokens >= 100
    assert turn.cost == pytest.approx(
        (turn.prompt_tokens * 2.5 + turn.completion_tokens * 10) / 1e6
    )


def test_an_unpriced_model_under_a_budget_is_refused_until_priced(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.llm.model, interp.llm.context_window = "my-finetune", 32_000
    interp.llm.max_budget = 1.0
    with pytest.raises(UnpricedBudget) as caught:
        interp.chat("hello", display=False)
    message = str(caught.value)
    assert "\n" not in message and "--input_cost_per_token" in message
    assert server.requests == [] and interp.stop_reason == "budget"

    interp.llm.input_cost_per_token, interp.llm.output_cost_per_token = 1e-6, 2e-6
    server.script(replace(Reply.text("hi"), prompt_tokens=1000, completion_tokens=100))
    interp.chat("hello again", display=False)
    assert interp.usage.turn.cost == pytest.approx(0.0012)


def test_local_models_cost_nothing_and_may_have_a_budget(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.llm.model, interp.llm.context_window = "ollama/llama3", 8_000
    interp.llm.max_budget = 0.0
    server.script(Reply.text("hi"))
    interp.chat("hello", display=False)
    assert interp.usage.total.cost == 0.0 and not interp.usage.total.unpriced


def test_usage_shape_is_stable() -> None:
    usage = TokenUsage()
    usage.add(1200, 34, cached=1000, cost=0.0021)
    assert usage.as_dict() == {
        "prompt_tokens": 1200,
        "completion_tokens": 34,
        "cached_tokens": 1000,
        "cost": 0.0021,
        "requests": 1,
        "unpriced": False,
    }
    assert usage.describe() == "1,200 tokens in (1,000 cached), 34 out, $0.0021"
    usage.add(5, 5)
    assert usage.describe().endswith("over $0.0021")


def test_an_assumed_context_window_is_said_once(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.llm.model = "fake-model"  # not in the table; the fake server does not say
    server.script(Reply.text("one"), Reply.text("two"))
    first = notices(list(interp.chat("hello", display=False, stream=True)))
    second = notices(list(interp.chat("again", display=False, stream=True)))
    assert first == [
        "The context window of fake-model is not known; assuming 8000 tokens. "
        "Set --context_window (llm.context_window)."
    ]
    assert second == []
    assert not any("context window" in str(m["content"]) for m in interp.messages)


@pytest.mark.parametrize(
    ("route", "length", "window", "noted"),
    [("ps", 8192, 8192, False), ("show_num_ctx", 16384, 16384, False), ("show", 131072, 4096, True),
     ("lmstudio", 12000, 12000, False), ("lmstudio_unloaded", 32768, 4096, True),
     ("lmstudio_v1", 6000, 6000, False)],
)  # fmt: skip
def test_the_window_a_local_server_runs_the_model_with(
    config_dir: Path, route: str, length: int, window: int, noted: bool
) -> None:
    with FakeModelServer(context_length=length, context_route=route, models=(route,)) as server:
        interp = make_interpreter(server)
        interp.llm.model = route  # a model name per case: answers are kept per model
        server.script(Reply.text("one"), Reply.text("two"))
        chunks = list(interp.chat("hello", display=False, stream=True))
        interp.chat("again", display=False)
        assert interp.llm.context_use([], system_message="").window == window
    assert bool(notices(chunks)) == noted
    if noted:
        assert notices(chunks)[0].endswith("Set --context_window to use more.")
        assert server.get_paths.count("/api/show" if route == "show" else "/api/v0/models") == 2


def test_the_terminal_shows_a_usage_line_after_each_turn(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    lines: list[str] = []
    ui = TerminalUI(renderer=PlainRenderer(lambda text: None), say=print, status=lines.append)
    server.script(
        replace(Reply.text("hi"), prompt_tokens=1200, completion_tokens=34, cached_tokens=1000)
    )
    run_turn(interp, "hello", ui)
    assert lines == ["1 request: 1,200 tokens in (1,000 cached), 34 out, $0.0021 · session $0.0021"]


def test_percent_tokens_says_what_was_spent(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    said: list[str] = []
    ctx = MagicContext(interp, said.append, lambda chunk: None)
    server.script(replace(Reply.text("hi"), prompt_tokens=500, completion_tokens=20))
    interp.chat("hello", display=False)
    run_magic(ctx, "%tokens")
    assert "of the 128000-token context window" in said[0]
    assert said[1] == "Last turn: 500 tokens in, 20 out, $0.0015."
    assert said[2] == "This session: 500 tokens in, 20 out, $0.0015 in 1 request."
