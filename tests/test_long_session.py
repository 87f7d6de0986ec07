"""A long session in a small window: 200 turns, 50 outputs of 200 KB, a 16k-token window.

Every request the model is sent fits the window, keeps each tool call with its result,
and starts with exactly the messages the request before it started with, except where
older messages were summarised (the cache-friendly property); the summaries are there,
and every original message stays in the conversation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import make_interpreter
from interpreter import OpenInterpreter
from interpreter.core.compaction import INSTRUCTION, SUMMARY_HEADER
from interpreter.llm.tokens import count_tokens
from interpreter.testing.fake_server import FakeModelServer, Reply

WINDOW = 16_000
RESERVE = 4_000  # no max_tokens: a quarter of the window is kept for the reply
TURNS = 200
BIG_OUTPUT = "print('\\n'.join(f'line {i:06d} of a long listing, turn {n}' for i in range(5400)))"


def is_summary_request(request: dict[str, Any]) -> bool:
    return INSTRUCTION in str(request["messages"][-1].get("content"))


def scripted_model(request: dict[str, Any]) -> Reply:
    """Summaries when asked; a 200 KB Python output on every fourth turn; else text."""
    last = request["messages"][-1]
    if is_summary_request(request):
        turns = re.findall(r"turn (\d+)", str(request["messages"]))
        return Reply.text(f"The user asked for turns up to {max(map(int, turns), default=0)}.")
    if last["role"] == "tool":
        return Reply.text("That printed the listing.")
    n = int(re.findall(r"turn (\d+)", str(last["content"]))[-1])
    if n % 4 == 0:
        return Reply.tool_call("python", BIG_OUTPUT.replace("{n}", str(n)))
    return Reply.text(f"Noted turn {n}: " + " ".join(f"word{i}" for i in range(40)))


@pytest.fixture
def interp(config_dir: Path) -> Iterator[tuple[OpenInterpreter, FakeModelServer]]:
    with FakeModelServer(responder=scripted_model) as server:
        it = make_interpreter(server, auto_run=True)
        it.llm.context_window = WINDOW
        yield it, server
        it.computer.terminate()


def answered_in_place(messages: list[dict[str, Any]]) -> bool:
    """Every tool call is answered right after it, and every answer has its call."""
    waiting: list[str] = []
    for message in messages:
        if message["role"] == "tool":
            if message["tool_call_id"] not in waiting:
                return False
            waiting.remove(message["tool_call_id"])
            continue
        if waiting:
            return False
        waiting = [call["id"] for call in message.get("tool_calls") or ()]
    return not waiting


@pytest.mark.deadline(400)
def test_two_hundred_turns_in_a_16k_window(
    interp: tuple[OpenInterpreter, FakeModelServer],
) -> None:
    it, server = interp
    run_session(it)
    requests = server.requests
    check_requests(requests)
    summaries = [r for r in requests if is_summary_request(r)]
    main = [r["messages"] for r in requests if not is_summary_request(r)]
    assert len(main) == TURNS + TURNS // 4 and len(summaries) >= 3
    # cache-friendly: each request starts with the whole request before it (the same
    # bytes), except right after a summary was made
    previous: list[dict[str, Any]] | None = None
    summarised = False
    for request in requests:
        if is_summary_request(request):
            summarised = True
            continue
        messages = request["messages"]
        if previous is not None and not summarised:
            assert json.dumps(messages[: len(previous)]) == json.dumps(previous)
        previous, summarised = messages, False
    assert it.llm.context_state.moves == 0  # summaries made room: nothing was cut
    assert main[-1][1]["content"].startswith(SUMMARY_HEADER)
    check_conversation(it)


@pytest.mark.deadline(400)
def test_without_summaries_the_cut_moves_rarely(
    interp: tuple[OpenInterpreter, FakeModelServer],
) -> None:
    it, server = interp
    it.compaction = False
    run_session(it)
    check_requests(server.requests)
    main = [r["messages"] for r in server.requests]
    assert not any(is_summary_request(r) for r in server.requests)
    breaks = [i for i, (a, b) in enumerate(zip(main, main[1:], strict=False)) if b[: len(a)] != a]
    assert 3 <= len(breaks) == it.llm.context_state.moves <= len(main) // 10
    for i in breaks:  # cut at a user message, the marker at its start
        first = main[i + 1][1]
        assert first["role"] == "user" and "earlier messages were omitted" in first["content"]
        assert "]\n\nThis is turn " in first["content"]
    check_conversation(it)


def run_session(it: OpenInterpreter) -> None:
    """200 turns, each ending as the model finished."""
    for n in range(1, TURNS + 1):
        it.chat(f"This is turn {n}.", display=False)
        assert it.stop_reason == "done", n


def check_requests(requests: list[dict[str, Any]]) -> None:
    """Every request fits the window and keeps each tool call with its result."""
    for request in requests:
        assert count_tokens(request["messages"], "gpt-4o") + RESERVE <= WINDOW
        assert answered_in_place(request["messages"])


def check_conversation(it: OpenInterpreter) -> None:
    """Every original message is kept; every long output is in its file."""
    kept = [m for m in it.messages if m["role"] == "user" and not m.get("summary")]
    assert [m["content"] for m in kept] == [f"This is turn {n}." for n in range(1, TURNS + 1)]
    outputs = [m for m in it.messages if m["type"] == "console"]
    assert len(outputs) == TURNS // 4
    assert all("characters omitted; the whole output is in _out[" in m["content"] for m in outputs)
    files = sorted(it.conversation_data_dir().glob("out-*.txt"))
    assert len(files) == TURNS // 4 and all(f.stat().st_size > 200_000 for f in files)
