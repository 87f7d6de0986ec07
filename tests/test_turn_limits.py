"""How a turn ends (stop_reason), max_turns, the usage ledger and the conversation data
folder, through chat() against the fake model server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from helpers import make_interpreter
from interpreter import OpenInterpreter
from interpreter.llm.errors import BudgetExceeded
from interpreter.testing.fake_server import FakeModelServer, Reply


@pytest.fixture
def interp(server: FakeModelServer, config_dir: Path) -> Iterator[OpenInterpreter]:
    it = make_interpreter(server)
    yield it
    it.computer.terminate()


def test_max_turns_stops_after_that_many_model_replies(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(*[Reply.tool_call("shell", f"echo step{i}") for i in range(5)])
    interp.auto_run, interp.max_turns = True, 2
    chunks = list(interp.chat("go on forever", display=False, stream=True))
    assert len(server.requests) == 2
    assert interp.stop_reason == "max_turns"
    notices = [c for c in chunks if c.get("recipient") == "user" and "content" in c]
    assert len(notices) == 1 and "max_turns" in notices[0]["content"]
    stored = [m for m in interp.messages if "max_turns" in str(m.get("content"))]
    assert stored == []  # the notice is for the user, never stored or sent


def test_max_turns_off_by_default_and_each_chat_counts_afresh(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    assert interp.max_turns is None
    server.script(Reply.tool_call("shell", "echo a"), Reply.text("done"), Reply.text("again"))
    interp.auto_run = True
    interp.chat("first", display=False)
    assert interp.stop_reason == "done"
    interp.max_turns = 1
    interp.chat("second", display=False)
    assert interp.stop_reason == "done" and len(server.requests) == 3


def test_stop_reason_declined_and_budget(server: FakeModelServer, interp: OpenInterpreter) -> None:
    server.script(Reply.tool_call("shell", "echo no"))
    interp.chat("run it", display=False)  # no callback, no auto_run: declined
    assert interp.stop_reason == "declined"
    interp.llm.model = "gpt-4o"  # priced, so the budget applies
    interp.llm.max_budget = 0.0
    with pytest.raises(BudgetExceeded):
        interp.chat("more", display=False)
    assert interp.stop_reason == "budget"


def test_usage_is_kept_per_turn_and_in_total(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(
        replace(Reply.tool_call("shell", "echo 1"), prompt_tokens=100, completion_tokens=10),
        replace(Reply.text("one"), prompt_tokens=120, completion_tokens=5),
        replace(Reply.text("two"), prompt_tokens=130, completion_tokens=7),
    )
    interp.auto_run = True
    interp.chat("first", display=False)
    assert (interp.usage.turn.requests, interp.usage.turn.prompt_tokens) == (2, 220)
    interp.chat("second", display=False)
    assert [t.completion_tokens for t in interp.usage.turns] == [15, 7]
    total = interp.usage.total
    assert (total.requests, total.prompt_tokens, total.completion_tokens) == (3, 350, 22)
    assert interp.llm.total_prompt_tokens == 350  # 0.4.3's names read the same ledger
    assert total.as_dict()["requests"] == 3
    interp.reset()
    assert interp.usage.total.requests == 0 and interp.usage.turns == []


def test_conversation_data_dir_follows_the_conversation(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(Reply.text("hi"), Reply.text("hello again"))
    interp.chat("Hello there my friend", display=False)
    assert interp.conversation_filename is not None
    folder = interp.conversation_data_dir()
    assert folder.name == Path(interp.conversation_filename).stem
    assert not folder.exists()  # not created until something is kept there
    interp.reset()
    interp.conversation_history = False
    interp.chat("Hello", display=False)
    unsaved = interp.conversation_data_dir()
    assert unsaved != folder and unsaved.name.startswith("session-")
    assert unsaved == interp.conversation_data_dir()  # stable within the conversation
