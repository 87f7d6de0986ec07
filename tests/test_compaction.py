"""Summaries of older messages, through chat() against the fake model server: when they
happen, what the model is sent afterwards, what is stored, and that a failed, refused or
cut summary request loses nothing."""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from helpers import make_interpreter
from interpreter import OpenInterpreter
from interpreter.core.compaction import INSTRUCTION, SUMMARY_HEADER, is_summary
from interpreter.llm.tokens import count_tokens
from interpreter.lmc import Message
from interpreter.store.conversations import load_conversation
from interpreter.testing.fake_server import FakeModelServer, Reply

WINDOW = 4_000  # 3,000 tokens of room after the reply's quarter
OI_PYTHON = Path("/tmp/oi/bin/python")


@pytest.fixture
def interp(server: FakeModelServer, config_dir: Path) -> Iterator[OpenInterpreter]:
    it = make_interpreter(server)
    it.llm.context_window = WINDOW
    yield it
    it.computer.terminate()


def history(turns: int, words: int = 100) -> list[Message]:
    """An earlier conversation of ``turns`` exchanges, about ``words`` tokens a message."""
    out: list[Message] = []
    for n in range(turns):
        text = "lorem " * words
        out.append({"role": "user", "type": "message", "content": f"question {n}: {text}"})
        out.append({"role": "assistant", "type": "message", "content": f"answer {n}: {text}"})
    return out


def summary_requests(server: FakeModelServer) -> list[dict[str, Any]]:
    return [r for r in server.requests if INSTRUCTION in str(r["messages"][-1]["content"])]


def test_a_full_window_is_summarised_before_the_request(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.messages = history(12)  # about 3,000 tokens: past 80% of the room
    originals = [dict(m) for m in interp.messages]
    server.script(Reply.text("The user asked twelve questions."), Reply.text("An answer."))
    chunks = list(interp.chat("And now?", display=False, stream=True))

    summary_request, request = server.requests
    assert INSTRUCTION in summary_request["messages"][-1]["content"]
    assert "question 0" in json.dumps(summary_request["messages"])  # the older part
    sent = request["messages"]
    assert sent[0]["role"] == "system"
    assert sent[1]["content"].startswith(SUMMARY_HEADER + "The user asked twelve questions.")
    assert sent[-1]["content"].endswith("And now?")
    assert "question 0:" not in json.dumps(sent)  # summarised, not sent
    assert count_tokens(sent, "gpt-4o") < count_tokens(summary_request["messages"], "gpt-4o")

    stored = [m for m in interp.messages if not is_summary(m)]
    assert stored[: len(originals)] == originals  # every original is kept
    (summary,) = [m for m in interp.messages if is_summary(m)]
    assert summary["role"] == "user" and summary["recipient"] == "assistant"
    notices = [c["content"] for c in chunks if c.get("recipient") == "user" and "content" in c]
    assert any("Summarised" in n and "earlier messages" in n for n in notices)
    assert interp.usage.turn.requests == 2  # the summary is a request of its own

    saved = load_conversation(Path(interp.conversation_history_path) / interp.conversation_filename)
    assert saved == interp.messages


def test_the_next_requests_start_the_same_way(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.messages = history(12)
    server.script(Reply.text("summary"), Reply.text("one"), Reply.text("two"), Reply.text("three"))
    for text in ("first", "second", "third"):
        interp.chat(text, display=False)
    requests = [r["messages"] for r in server.requests[1:]]
    for before, after in zip(requests, requests[1:], strict=False):
        assert after[: len(before)] == before


def test_chat_returns_only_its_own_messages_after_a_summary(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.messages = history(12)
    server.script(Reply.text("summary"), Reply.text("An answer."))
    returned = interp.chat("And now?", display=False)
    assert [m["content"] for m in returned] == ["And now?", "An answer."]  # no summary


def test_percent_compact_summarises_all_but_the_latest_exchange(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.llm.context_window = 100_000  # nowhere near full: only asked
    interp.messages = history(3)
    server.script(Reply.text("Three questions were asked."))
    result = interp.compact()
    assert result.done and result.summarized == 4
    assert [m["content"][:10] for m in interp.messages][4:6] == [
        SUMMARY_HEADER[:10],
        "question 2",
    ]
    server.script(Reply.text("ok"))
    interp.chat("next", display=False)
    sent = server.requests[-1]["messages"]
    assert len(sent) == 4  # system, summary + question 2 (one user message), answer, next
    assert sent[1]["content"].startswith(SUMMARY_HEADER + "Three questions were asked.\n\n")
    assert sent[1]["content"].endswith("question 2: " + "lorem " * 100)
    assert [m["content"][:10] for m in sent[2:]] == ["answer 2: ", "next"]


@pytest.mark.parametrize(
    "failure",
    [
        Reply.status(500, body="overloaded"),
        Reply.cut(Reply.text("The user asked a great many things " * 20), after_events=5),
    ],
    ids=["error", "cut"],
)
def test_a_failed_or_cut_summary_loses_nothing(
    server: FakeModelServer, interp: OpenInterpreter, failure: Reply
) -> None:
    interp.llm.max_retries = 0
    interp.messages = history(14)  # more than the room: trimmed when not summarised
    before = [dict(m) for m in interp.messages]
    server.script(failure, Reply.text("An answer anyway."))
    chunks = list(interp.chat("And now?", display=False, stream=True))

    assert interp.stop_reason == "done"
    assert interp.messages[:-2] == before  # unchanged: no summary, nothing lost
    assert interp.messages[-1]["content"] == "An answer anyway."
    sent = server.requests[-1]["messages"]
    assert count_tokens(sent, "gpt-4o") <= 3000  # the turn went on, trimmed instead
    assert sent[1]["content"].startswith("[") and "messages were omitted" in sent[1]["content"]
    notices = " ".join(c["content"] for c in chunks if c.get("recipient") == "user")
    assert "Could not summarise" in notices and "unchanged" in notices
    if failure.cut_after is not None:
        assert interp.usage.turn.requests == 2  # the cut request still counts its tokens
        assert interp.usage.turn.completion_tokens > 0


def test_a_summary_past_the_budget_is_not_sent(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    from interpreter.llm.errors import BudgetExceeded

    interp.messages = history(12)
    interp.llm.max_budget = 0.0001  # less than one request of 3,000 prompt tokens
    with pytest.raises(BudgetExceeded):
        interp.chat("And now?", display=False)
    assert server.requests == []  # neither the summary nor the request went out
    assert not any(is_summary(m) for m in interp.messages)
    assert interp.stop_reason == "budget"


def test_compaction_off_only_leaves_older_messages_out(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.compaction = False
    interp.messages = history(14)
    server.script(Reply.text("ok"))
    interp.chat("And now?", display=False)
    (request,) = server.requests
    assert "earlier messages were omitted" in request["messages"][1]["content"]
    assert count_tokens(request["messages"], "gpt-4o") <= int(0.7 * 3000) + 50


def test_the_summary_costs_and_usage_are_recorded(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.messages = history(12)
    server.script(
        replace(Reply.text("summary"), prompt_tokens=3000, completion_tokens=40),
        replace(Reply.text("answer"), prompt_tokens=1200, completion_tokens=10),
    )
    interp.chat("And now?", display=False)
    turn = interp.usage.turn
    assert (turn.requests, turn.prompt_tokens, turn.completion_tokens) == (2, 4200, 50)
    assert turn.cost == pytest.approx((4200 * 2.5 + 50 * 10) / 1e6)


OI_LOADS = textwrap.dedent(
    """
    import json, sys
    from interpreter import interpreter
    from interpreter.core.llm.utils.convert_to_openai_messages import convert_to_openai_messages
    from interpreter.terminal_interface.render_past_conversation import render_past_conversation
    messages = json.load(open(sys.argv[1]))
    sent = convert_to_openai_messages(messages, function_calling=True, interpreter=interpreter)
    render_past_conversation(messages)
    print("RESULT " + json.dumps(sent))
    """
)


@pytest.mark.skipif(not OI_PYTHON.exists(), reason="Open Interpreter 0.4.3 is not in /tmp/oi")
def test_a_conversation_with_a_summary_loads_in_open_interpreter_043(
    server: FakeModelServer, interp: OpenInterpreter, tmp_path: Path
) -> None:
    interp.messages = history(12)
    server.script(Reply.text("The user asked twelve questions."), Reply.text("An answer."))
    interp.chat("And now?", display=False)
    path = Path(interp.conversation_history_path) / str(interp.conversation_filename)
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run(
        [str(OI_PYTHON), "-c", OI_LOADS, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    sent = json.loads(done.stdout.split("RESULT ", 1)[1])
    summary = {"role": "user", "content": SUMMARY_HEADER + "The user asked twelve questions."}
    assert summary in sent and len(sent) == len(interp.messages)


def test_percent_compact_and_undo_in_the_terminal(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    from interpreter.terminal.magic import MagicContext, run_magic

    said: list[str] = []
    ctx = MagicContext(interp, said.append, lambda chunk: None)
    interp.messages = history(3)
    server.script(Reply.text("Three questions."))
    run_magic(ctx, "%compact")
    assert said[-1].startswith("Summarised 4 earlier messages")
    run_magic(ctx, "%compact")  # only the latest exchange is left after the summary
    assert said[-1] == "Nothing to summarise yet."
    run_magic(ctx, "%undo")  # removes the user's last message, not the summary
    assert is_summary(interp.messages[-1]) and len(interp.messages) == 5


@pytest.mark.deadline(60)
def test_stop_during_a_summary_ends_the_turn_and_changes_nothing(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    import threading
    import time

    interp.messages = history(12)
    before = [dict(m) for m in interp.messages]
    slow = Reply.delay(0.05, Reply.text("a summary that takes its time " * 40, chunk_size=4))
    server.script(slow, Reply.text("never asked for"))

    def stop_once_asked() -> None:
        while not server.requests:
            time.sleep(0.01)
        interp.stop()

    threading.Thread(target=stop_once_asked, daemon=True).start()
    interp.chat("And now?", display=False)
    assert interp.stop_reason == "interrupted"
    assert len(server.requests) == 1  # the turn's own request was never sent
    assert interp.messages == [*before, {"role": "user", "type": "message", "content": "And now?"}]
