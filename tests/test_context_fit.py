"""The cache-friendly cut (``llm/context.py``): requests fit, the cut stays put until it
must move, it lands on a user message, tool calls keep their results, the latest user
message survives a cut past it, and a changed conversation starts uncut."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from interpreter.llm.context import ContextState, TokenCounts, fit_stable
from interpreter.llm.tokens import count_tokens

MODEL = "gpt-4o"
WINDOW, MAX_TOKENS = 2_000, 200
ROOM = WINDOW - MAX_TOKENS  # tokens of the request, the reply priming included
SYSTEM = {"role": "system", "content": "You run code."}


def user(n: int, words: int = 40) -> dict[str, Any]:
    return {"role": "user", "content": f"request {n} " + "please " * words}


def reply(n: int, words: int = 40) -> dict[str, Any]:
    return {"role": "assistant", "content": f"reply {n} " + "sure " * words}


def call(n: int, words: int = 60) -> list[dict[str, Any]]:
    tool_call = {"id": f"call_{n}", "type": "function"}
    tool_call["function"] = {"name": "execute", "arguments": '{"language": "python", "code": "1"}'}
    return [
        {"role": "assistant", "content": None, "tool_calls": [tool_call]},
        {"role": "tool", "tool_call_id": f"call_{n}", "content": "out " * words},
    ]


def fit(wire: list[dict[str, Any]], state: ContextState, counts: TokenCounts) -> list[Any]:
    return fit_stable(
        wire, model=MODEL, context_window=WINDOW, max_tokens=MAX_TOKENS, state=state, counts=counts
    )


def pairs_intact(messages: list[dict[str, Any]]) -> bool:
    waiting: list[str] = []
    for message in messages:
        if message["role"] == "tool":
            if message["tool_call_id"] not in waiting:
                return False
            waiting.remove(message["tool_call_id"])
        else:
            if waiting:
                return False
            waiting = [c["id"] for c in message.get("tool_calls") or ()]
    return not waiting


def test_a_request_that_fits_is_sent_whole() -> None:
    wire = [SYSTEM, user(1), reply(1), user(2)]
    assert fit(wire, ContextState(), TokenCounts()) == wire


def test_the_cut_moves_to_a_user_message_below_the_low_water_mark_and_stays() -> None:
    state, counts = ContextState(), TokenCounts()
    wire: list[dict[str, Any]] = [SYSTEM]
    sent: list[list[Any]] = []
    for n in range(1, 60):
        wire += [user(n)]
        sent.append(fit(wire, state, counts))
        wire += [reply(n)]
    for request in sent:
        assert count_tokens(request, MODEL) <= ROOM
    moves = [i for i in range(1, len(sent)) if sent[i][: len(sent[i - 1])] != sent[i - 1]]
    assert len(moves) == state.moves >= 2
    for i in moves:
        request = sent[i]
        assert count_tokens(request, MODEL) <= 0.7 * ROOM + 20
        assert request[1]["content"].startswith("[") and "\n\nrequest " in request[1]["content"]
    assert moves[1] - moves[0] > 5  # the cut stays put for several turns


def test_a_cut_past_the_latest_user_message_keeps_it() -> None:
    state, counts = ContextState(), TokenCounts()
    wire: list[dict[str, Any]] = [SYSTEM, user(1)]
    for n in range(40):
        wire += call(n)
    request = fit(wire, state, counts)
    assert count_tokens(request, MODEL) <= ROOM and pairs_intact(request[1:])
    assert (
        request[1]["content"].startswith("[") and "messages were omitted" in request[1]["content"]
    )
    assert request[1]["content"].endswith(user(1)["content"])  # the task, after the marker
    assert request[2]["role"] == "assistant"


def test_a_changed_conversation_starts_uncut() -> None:
    state, counts = ContextState(), TokenCounts()
    long = [SYSTEM] + [m for n in range(30) for m in (user(n), reply(n))] + [user(99)]
    fit(long, state, counts)
    assert state.cut > 0
    short = [SYSTEM, user(1), reply(1), user(2)]
    assert fit(short, state, counts) == short and state.cut == 0


def test_one_exchange_too_big_for_the_window_is_elided() -> None:
    wire = [SYSTEM, user(1), reply(1), user(2, words=5000)]
    request = fit(wire, ContextState(), TokenCounts())
    assert count_tokens(request, MODEL) <= ROOM
    assert "tokens elided to fit the context window" in request[-1]["content"]


@st.composite
def conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A growing conversation: user messages, replies and tool calls of random sizes."""
    wire: list[dict[str, Any]] = []
    for n in range(draw(st.integers(5, 60))):
        kind = draw(st.sampled_from(["user", "reply", "call"]))
        words = draw(st.integers(1, 150))
        wire += (
            [user(n, words)]
            if kind == "user"
            else ([reply(n, words)] if kind == "reply" else call(n, words))
        )
    return wire


@settings(max_examples=40, deadline=None)
@given(conversations())
def test_every_request_fits_and_keeps_tool_calls_with_their_results(
    body: list[dict[str, Any]],
) -> None:
    state, counts = ContextState(), TokenCounts()
    previous: list[Any] | None = None
    moves = 0
    for end in range(1, len(body) + 1):
        if end < len(body) and body[end]["role"] == "tool":
            continue  # requests are sent with every tool call answered
        before = state.moves
        request = fit([SYSTEM, *body[:end]], state, counts)
        assert request[0] == SYSTEM
        assert count_tokens(request, MODEL) <= ROOM
        assert pairs_intact(request[1:])
        if previous is not None and state.moves == before:
            assert request[: len(previous)] == previous  # an unmoved cut: the same prefix
        moves += state.moves - before
        previous = request
    assert moves == state.moves
