"""Tools beside execute (core/tools.py) through chat(), against the fake model server:
offered, approved, run, answered under the provider's call id, saved; unknown tools and
broken arguments are reported and never run."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from helpers import blocks, make_interpreter, tool_messages
from interpreter import OpenInterpreter
from interpreter.core.tools import ToolError, ToolView
from interpreter.lmc import Chunk
from interpreter.store.conversations import load_conversation
from interpreter.testing.fake_server import FakeModelServer, Reply


class Shout:
    """A tool for the tests: upper-cases text (or refuses an empty one)."""

    name = "shout"

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def schema(self) -> dict[str, Any]:
        parameters = {"type": "object", "properties": {"text": {"type": "string"}}}
        function = {"name": self.name, "description": "Shout text.", "parameters": parameters}
        return {"type": "function", "function": function}

    def view(self, arguments: Mapping[str, Any]) -> ToolView:
        text = arguments.get("text")
        if not isinstance(text, str) or not text:
            raise ToolError("shout needs a non-empty 'text'")
        code = f"print({text.upper()!r})"
        return ToolView("python", code, ("shout", text), notes=("shouts at nobody",))

    def run(self, arguments: Mapping[str, Any]) -> Iterator[Chunk]:
        self.calls.append(dict(arguments))
        text = str(arguments["text"]).upper()
        yield {"role": "computer", "type": "console", "format": "output", "content": text + "\n"}


@pytest.fixture
def interp(server: FakeModelServer, config_dir: Path) -> Iterator[OpenInterpreter]:
    it = make_interpreter(server)
    it.tools.add(Shout())
    yield it
    it.computer.terminate()


def shout(interp: OpenInterpreter) -> Shout:
    tool = interp.tools.get("shout")
    assert isinstance(tool, Shout)
    return tool


def test_a_tool_is_offered_approved_run_and_answered_under_its_call_id(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(
        Reply.raw_arguments('{"text": "hi"}', name="shout", call_id="c9"), Reply.text("ok")
    )
    asked: list[tuple[str, str]] = []
    interp.approval_callback = lambda language, code: asked.append((language, code)) or True
    new = interp.chat("shout hi", display=False)
    assert shout(interp).calls == [{"text": "hi"}]
    assert asked == [("python", "print('HI')")]  # the call, shown as code
    offered = [t["function"]["name"] for t in server.requests[0]["tools"]]
    assert offered == ["execute", "shout"]
    call = new[1]
    assert call["type"] == "code" and call.get("tool") == {
        "name": "shout",
        "arguments": {"text": "hi"},
    }
    second = server.requests[1]
    assert second["messages"][-2]["tool_calls"][0]["function"]["name"] == "shout"
    assert tool_messages(second) == [{"role": "tool", "tool_call_id": "c9", "content": "HI"}]
    assert interp.conversation_filename is not None
    saved = load_conversation(Path(interp.conversation_history_path) / interp.conversation_filename)
    assert saved[1].get("tool") == call["tool"] and saved[1].get("call_id") == "c9"


def test_the_confirmation_names_the_tool_and_its_notes(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(Reply.raw_arguments('{"text": "hey"}', name="shout"))
    chunks = list(interp.chat("shout", display=False, stream=True))
    confirmation = next(c for c in chunks if c.get("type") == "confirmation")
    content = confirmation["content"]
    assert content["tool"] == {"name": "shout", "arguments": {"text": "hey"}}
    assert content["notes"] == ["shouts at nobody"] and content["content"] == "print('HEY')"
    assert shout(interp).calls == [] and interp.stop_reason == "declined"


def test_an_allow_rule_on_the_tool_runs_it_without_asking(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(Reply.raw_arguments('{"text": "go"}', name="shout"), Reply.text("done"))
    interp.permissions = {"allow": [{"language": "shout"}]}
    interp.chat("shout", display=False)  # no callback: it would be declined if asked
    assert shout(interp).calls == [{"text": "go"}]


def test_code_edited_at_the_prompt_runs_as_code_instead_of_the_call(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(Reply.raw_arguments('{"text": "a"}', name="shout"), Reply.text("done"))
    interp.approval_callback = lambda language, code: "print('edited ' + 'run')"
    new = interp.chat("shout", display=False)
    assert shout(interp).calls == []
    assert "tool" not in new[1] and new[1]["content"] == "print('edited ' + 'run')"
    assert new[2]["content"] == "edited run\n"
    assert server.requests[1]["messages"][-2]["tool_calls"][0]["function"]["name"] == "execute"


@pytest.mark.parametrize(
    ("reply", "told"),
    [
        (Reply.raw_arguments('{"text": "x"}', name="rm_rf"), "there is no tool named 'rm_rf'"),
        (Reply.raw_arguments('{"text": "x"', name="shout"), "not valid JSON"),
        (Reply.raw_arguments('["x"]', name="shout"), "must be a JSON object"),
        (Reply.raw_arguments('{"text": ""}', name="shout"), "shout needs a non-empty 'text'"),
        (Reply.raw_arguments("open('pwned', 'w')"), "must be a JSON object"),
    ],
)
def test_unknown_tools_and_bad_arguments_are_reported_never_run(
    server: FakeModelServer, interp: OpenInterpreter, here: Path, reply: Reply, told: str
) -> None:
    server.script(reply, Reply.text("sorry"))
    interp.auto_run = True
    new = interp.chat("do it", display=False)
    assert shout(interp).calls == [] and not (here / "pwned").exists()
    outputs = [m["content"] for m in new if m["role"] == "computer"]
    assert len(outputs) == 1 and told in outputs[0]
    answer = tool_messages(server.requests[1])
    assert len(answer) == 1 and told in answer[0]["content"]  # the model is told, once


def test_parallel_calls_are_answered_against_their_own_ids(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(
        Reply.tool_call("shell", "echo one", call_id="id_1")
        + Reply.raw_arguments('{"text": "two"}', name="shout", call_id="id_2")
        + Reply.tool_call("shell", "echo three", call_id="id_3"),
        Reply.text("done"),
    )
    interp.auto_run = True
    interp.chat("three things", display=False)
    second = server.requests[1]
    pairs = []  # (call id, tool name, the answer that follows it)
    for i, message in enumerate(second["messages"]):
        for call in message.get("tool_calls") or []:
            answer = next(
                m for m in second["messages"][i + 1 :] if m.get("tool_call_id") == call["id"]
            )
            pairs.append((call["id"], call["function"]["name"], answer["content"]))
    assert pairs == [
        ("id_1", "execute", "one"),
        ("id_2", "shout", "TWO"),
        ("id_3", "execute", "three"),
    ]


def test_two_code_blocks_in_one_reply_are_two_blocks(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(
        Reply.tool_call("shell", "echo first") + Reply.tool_call("shell", "echo second"),
        Reply.text("done"),
    )
    interp.auto_run = True
    chunks = list(interp.chat("two", display=False, stream=True))
    code = [b for b in blocks(chunks) if b[1] == "assistant/code"]
    assert code == [("start", "assistant/code", "shell"), ("end", "assistant/code", "shell")] * 2
    texts = [c["content"] for c in chunks if c.get("type") == "code" and "content" in c]
    assert "".join(texts) == "echo firstecho second" and len(texts) >= 2
    starts = [i for i, c in enumerate(chunks) if c.get("type") == "code" and c.get("start")]
    first_block = "".join(
        c.get("content", "") for c in chunks[starts[0] : starts[1]] if c.get("type") == "code"
    )
    assert first_block == "echo first"


def test_a_saved_tool_call_with_a_broken_tool_field_is_a_one_line_error(tmp_path: Path) -> None:
    from interpreter.store.conversations import ConversationError

    path = tmp_path / "x.json"
    bad = [{"role": "assistant", "type": "code", "format": "python", "content": "1", "tool": 3}]
    path.write_text(json.dumps(bad))
    with pytest.raises(ConversationError, match="'tool' is not"):
        load_conversation(path)


def test_parallel_calls_reach_anthropic_as_one_turn_with_its_results(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.llm.model, interp.llm.api_key = "claude-3-5-sonnet-20241022", "sk-ant-test-key"
    server.script(
        Reply.tool_call("shell", "echo one", call_id="toolu_1")
        + Reply.raw_arguments('{"text": "two"}', name="shout", call_id="toolu_2"),
        Reply.text("done"),
    )
    interp.auto_run = True
    interp.chat("two things", display=False)
    turns = server.requests[1]["messages"]
    uses = [b for b in turns[-2]["content"] if b["type"] == "tool_use"]
    assert [(b["id"], b["name"]) for b in uses] == [("toolu_1", "execute"), ("toolu_2", "shout")]
    results = [b for b in turns[-1]["content"] if b["type"] == "tool_result"]
    assert [b["tool_use_id"] for b in results] == ["toolu_1", "toolu_2"]
    assert "one" in str(results[0]["content"]) and "TWO" in str(results[1]["content"])
