"""chat() through the real model client and the real computer, against the fake server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import blocks, make_interpreter, tool_messages
from interpreter import OpenInterpreter
from interpreter.llm.errors import BudgetExceeded, StreamCut
from interpreter.testing.fake_server import FakeModelServer, Reply


@pytest.fixture
def interp(server: FakeModelServer, config_dir: Path) -> Iterator[OpenInterpreter]:
    it = make_interpreter(server)
    yield it
    it.computer.terminate()


def test_auto_run_returns_new_messages_and_output_reaches_model(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(
        Reply.tool_call("shell", "echo hello-from-shell", call_id="call_Ab3x9"),
        Reply.text("All done."),
    )
    interp.auto_run = True
    new = interp.chat("say hello", display=False)
    assert new == [
        {"role": "user", "type": "message", "content": "say hello"},
        {
            "role": "assistant",
            "type": "code",
            "format": "shell",
            "content": "echo hello-from-shell",
            "call_id": "call_Ab3x9",  # the provider's id, sent back with the output
        },
        {
            "role": "computer",
            "type": "console",
            "format": "output",
            "content": "hello-from-shell\n",
        },
        {"role": "assistant", "type": "message", "content": "All done."},
    ]
    assert interp.messages[0] == {"role": "user", "type": "message", "content": "say hello"}
    second = server.requests[1]
    assert second["messages"][0]["role"] == "system"
    tools = tool_messages(second)
    assert tools and "hello-from-shell" in tools[0]["content"]
    assert tools[0]["tool_call_id"] == "call_Ab3x9"
    assert second["messages"][-2]["tool_calls"][0]["id"] == "call_Ab3x9"
    assert second["tools"][0]["function"]["name"] == "execute"


def test_python_state_persists_across_turns(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(
        Reply.tool_call("python", "x = 41"),
        Reply.text("set"),
        Reply.tool_call("python", "print(x + 1)"),
        Reply.text("printed"),
    )
    interp.auto_run = True
    interp.chat("set x", display=False)
    new = interp.chat("print x+1", display=False)
    outputs = [m["content"] for m in new if m["type"] == "console"]
    assert outputs == ["42\n"]


def test_without_approval_nothing_runs_and_model_is_told(
    server: FakeModelServer, interp: OpenInterpreter, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    server.script(Reply.tool_call("shell", f"touch {marker}"), Reply.text("ok"))
    new = interp.chat("make a file", display=False)
    assert not marker.exists()
    assert new[-1]["type"] == "console" and "declined" in new[-1]["content"]
    interp.chat("why?", display=False)
    assert "declined" in tool_messages(server.requests[-1])[0]["content"]


def test_approval_callback_decides(
    server: FakeModelServer, interp: OpenInterpreter, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    seen: list[tuple[str, str]] = []

    def approve(language: str, code: str) -> bool:
        seen.append((language, code))
        return True

    interp.approval_callback = approve
    server.script(Reply.tool_call("shell", f"touch {marker}"), Reply.text("ok"))
    interp.chat("make a file", display=False)
    assert seen == [("shell", f"touch {marker}")]
    assert marker.exists()


def test_stream_frames_and_confirmation(
    server: FakeModelServer, interp: OpenInterpreter, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    server.script(
        Reply.text("I will run it.") + Reply.tool_call("shell", f"touch {marker} && echo made"),
        Reply.text("Done."),
    )
    gen = interp.chat("go", display=False, stream=True)
    chunks, decision = [], None
    while True:
        try:
            chunk = gen.send(decision)
        except StopIteration:
            break
        decision = None
        chunks.append(chunk)
        if chunk["type"] == "confirmation":
            assert not marker.exists()
            assert chunk["content"]["content"] == f"touch {marker} && echo made"
            decision = True
    assert marker.exists()
    assert blocks(chunks) == [
        ("start", "assistant/message", None),
        ("end", "assistant/message", None),
        ("start", "assistant/code", "shell"),
        ("end", "assistant/code", "shell"),
        ("start", "computer/console", None),
        ("end", "computer/console", None),
        ("start", "assistant/message", None),
        ("end", "assistant/message", None),
    ]
    confirmation_at = next(i for i, c in enumerate(chunks) if c["type"] == "confirmation")
    assert chunks[confirmation_at - 1] == {
        "role": "assistant",
        "type": "code",
        "format": "shell",
        "end": True,
    }
    assert all(c.get("content") != "" for c in chunks)


def test_plain_iteration_of_stream_declines(
    server: FakeModelServer, interp: OpenInterpreter, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    server.script(Reply.tool_call("shell", f"touch {marker}"))
    chunks = list(interp.chat("go", display=False, stream=True))
    assert any(c["type"] == "confirmation" for c in chunks)
    assert not marker.exists()


def test_edited_code_runs_instead(
    server: FakeModelServer, interp: OpenInterpreter, tmp_path: Path
) -> None:
    marker = tmp_path / "edited"
    server.script(Reply.tool_call("shell", "echo original"), Reply.text("ok"))
    gen = interp.chat("go", display=False, stream=True)
    out = []
    chunk = next(gen)
    while True:
        out.append(chunk)
        try:
            chunk = gen.send(f"touch {marker}" if chunk["type"] == "confirmation" else None)
        except StopIteration:
            break
    assert marker.exists()
    assert interp.messages[1]["content"] == f"touch {marker}"


def test_message_alias_and_list_input(server: FakeModelServer, interp: OpenInterpreter) -> None:
    server.script(Reply.text("Hi there"))
    new = interp.chat([{"role": "user", "message": "Hello!"}], display=False)
    assert new == [
        {"role": "user", "type": "message", "content": "Hello!"},
        {"role": "assistant", "type": "message", "content": "Hi there"},
    ]
    assert interp.messages[0] == {"role": "user", "type": "message", "content": "Hello!"}
    assert server.requests[0]["messages"][-1]["content"] == "Hello!"


def test_messages_reset_and_restore(server: FakeModelServer, interp: OpenInterpreter) -> None:
    server.script(Reply.text("Nice to meet you, Killian."), Reply.text("a"), Reply.text("b"))
    messages = interp.chat("My name is Killian.", display=False)
    interp.messages = []
    interp.chat("Who am I?", display=False)
    assert "Killian" not in str(server.requests[1]["messages"])
    interp.messages = messages
    interp.chat("Who am I?", display=False)
    assert "Killian" in str(server.requests[2]["messages"])


def test_restored_messages_carry_the_users_message(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(Reply.text("Hello."), Reply.text("You are Killian."))
    messages = interp.chat("My name is Killian.", display=False)
    assert messages == [
        {"role": "user", "type": "message", "content": "My name is Killian."},
        {"role": "assistant", "type": "message", "content": "Hello."},
    ]
    interp.messages = []
    interp.messages = messages
    interp.chat("Who am I?", display=False)
    sent = [(m["role"], m["content"]) for m in server.requests[1]["messages"][1:]]
    assert sent == [
        ("user", "My name is Killian."),
        ("assistant", "Hello."),
        ("user", "Who am I?"),
    ]


def test_a_dict_message_is_returned_with_the_replies(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(Reply.text("Noted."))
    new = interp.chat({"role": "user", "message": "remember 7"}, display=False)
    assert [m["content"] for m in new] == ["remember 7", "Noted."]


def test_chat_with_lists_returns_each_whole_conversation(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    """Three list chats in a row on one instance (issue 18): each returns the list it was
    given and the reply, so ``messages = returned`` round-trips, and the next request
    carries the list given."""
    server.script(Reply.text("R1"), Reply.text("R2"), Reply.text("R3"))
    inputs = [
        [{"role": "user", "content": "first"}],
        [
            {"role": "user", "content": "z"},
            {"role": "assistant", "content": "w"},
            {"role": "user", "content": "second"},
        ],
        [{"role": "user", "content": "third"}],
    ]
    returned = [[m["content"] for m in interp.chat(given, display=False)] for given in inputs]
    assert returned == [["first", "R1"], ["z", "w", "second", "R2"], ["third", "R3"]]
    sent = [[m["content"] for m in r["messages"][1:]] for r in server.requests]
    assert sent == [["first"], ["z", "w", "second"], ["third"]]
    assert [m["content"] for m in interp.messages] == ["third", "R3"]


def test_chat_without_a_message_returns_only_the_replies(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(Reply.text("one"), Reply.text("two"))
    interp.chat("go on", display=False)
    assert [m["content"] for m in interp.chat(display=False)] == ["two"]


def test_returned_messages_are_copies(server: FakeModelServer, interp: OpenInterpreter) -> None:
    server.script(Reply.text("Hi."))
    new = interp.chat("hello", display=False)
    for message in new:  # what the seed's swap_roles does
        message["role"] = "assistant" if message["role"] == "user" else "user"
    assert [m["role"] for m in interp.messages] == ["user", "assistant"]


def test_instances_share_nothing(server: FakeModelServer) -> None:
    a, b = make_interpreter(server), make_interpreter(server)
    a.system_message = "This is a seperate instance."
    server.script(Reply.text("one"))
    a.chat("hi", display=False)
    assert b.messages == [] and b.system_message != a.system_message
    assert a.computer is not b.computer and a.llm is not b.llm


def test_system_message_extension_reaches_model(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.system_message += (
        "\nRun shell commands with -y so the user doesn't have to confirm them.\n"
    )
    interp.custom_instructions = "Answer in French."
    server.script(Reply.text("ok"))
    interp.chat("hi", display=False)
    system = server.requests[0]["messages"][0]["content"]
    assert "with -y so the user" in system and system.endswith("Answer in French.")


def test_cut_stream_is_never_stored(server: FakeModelServer, interp: OpenInterpreter) -> None:
    server.script(Reply.cut(Reply.text("partial answer " * 20, chunk_size=5), after_events=4))
    with pytest.raises(StreamCut):
        interp.chat("hi", display=False)
    assert interp.messages == [{"role": "user", "type": "message", "content": "hi"}]


def test_broken_tool_json_is_reported_not_run(
    server: FakeModelServer, interp: OpenInterpreter, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    interp.auto_run = True
    server.script(
        Reply.raw_arguments('{"language": "shell", "code": "touch ' + str(marker) + '"'),
        Reply.text("sorry"),
    )
    interp.chat("go", display=False)
    assert not marker.exists()
    assert "Error" in tool_messages(server.requests[1])[0]["content"]


def test_unknown_language_is_reported(server: FakeModelServer, interp: OpenInterpreter) -> None:
    interp.auto_run = True
    interp.llm.supports_functions = False
    server.script(Reply.text("```cobol\nDISPLAY 'HI'.\n```\n"), Reply.text("ok"))
    interp.chat("go", display=False)
    console = [m for m in interp.messages if m["type"] == "console"]
    assert "not supported" in console[0]["content"]
    assert "not supported" in server.requests[1]["messages"][-1]["content"]


def test_output_is_capped_to_max_output(server: FakeModelServer, interp: OpenInterpreter) -> None:
    interp.auto_run, interp.max_output = True, 100
    interp.offload_output = False  # kept in a file otherwise: tests/test_offload.py
    server.script(Reply.tool_call("shell", "seq 1 5000"), Reply.text("ok"))
    interp.chat("count", display=False)
    sent = tool_messages(server.requests[1])[0]["content"]
    assert sent.startswith("Output truncated") and sent.rstrip().endswith("5000")
    assert len(sent) < 200


def test_text_model_runs_fenced_code(server: FakeModelServer, interp: OpenInterpreter) -> None:
    interp.auto_run = True
    interp.llm.supports_functions = False
    server.script(
        Reply.text("Here:\n```bash\necho fenced\n```\n", chunk_size=2), Reply.text("done")
    )
    new = interp.chat("go", display=False)
    assert new[2] == {
        "role": "assistant",
        "type": "code",
        "format": "bash",
        "content": "echo fenced",
    }
    assert new[3]["content"] == "fenced\n"
    follow_up = server.requests[1]["messages"][-1]
    assert follow_up["role"] == "user" and "fenced" in follow_up["content"]
    assert "tools" not in server.requests[0]


def test_loop_continues_until_a_breaker(server: FakeModelServer, interp: OpenInterpreter) -> None:
    interp.loop = True
    server.script(Reply.text("Working on it."), Reply.text("The task is done."))
    interp.chat("do it", display=False)
    assert len(server.requests) == 2
    assert server.requests[1]["messages"][-1]["content"] == interp.loop_message


def test_background_chat_and_wait(server: FakeModelServer, interp: OpenInterpreter) -> None:
    server.script(Reply.text("background reply"))
    assert interp.chat("hi", display=False, blocking=False) is None
    new = interp.wait()
    assert new == [
        {"role": "user", "type": "message", "content": "hi"},
        {"role": "assistant", "type": "message", "content": "background reply"},
    ]


def test_stop_ends_a_running_background_chat(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    import time

    interp.auto_run = True
    server.script(Reply.tool_call("shell", "sleep 30"), Reply.text("never"))
    interp.chat("wait", display=False, blocking=False)
    time.sleep(1.0)
    started = time.monotonic()
    interp.stop()
    interp.wait()
    assert time.monotonic() - started < 5
    assert len(server.requests) == 1


def test_budget_stops_before_the_request(server: FakeModelServer, interp: OpenInterpreter) -> None:
    interp.llm.model = "gpt-4o"
    interp.llm.max_budget = 0.0000001
    server.script(Reply.text("x"))
    with pytest.raises(BudgetExceeded):
        interp.chat("hi " * 1000, display=False)
    assert server.requests == []


def test_conversation_saved_without_secrets(
    server: FakeModelServer, interp: OpenInterpreter, config_dir: Path
) -> None:
    interp.auto_run = True
    server.script(Reply.tool_call("shell", "echo sk-test-secret"), Reply.text("done"))
    interp.chat("print my key", display=False)
    files = list((config_dir / "conversations").glob("*.json"))
    assert len(files) == 1 and files[0].name.startswith("print_my")
    text = files[0].read_text()
    assert "sk-test-secret" not in text and '"done"' in text
    assert files[0].stat().st_mode & 0o777 == 0o600


def test_registered_language_reaches_schema_and_system_message(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    from collections.abc import Iterator as It

    from interpreter.execution.base import Language

    class Upper(Language):
        name = "upper"
        aliases = ("up",)

        def run(self, code: str) -> It[dict[str, object]]:
            yield {"type": "console", "format": "output", "content": code.upper()}

        def interrupt(self) -> None:
            pass

        def terminate(self) -> None:
            pass

    interp.computer.languages.append(Upper)
    interp.auto_run = True
    server.script(Reply.tool_call("upper", "shout"), Reply.text("ok"))
    interp.chat("go", display=False)
    first = server.requests[0]
    assert "upper" in first["tools"][0]["function"]["parameters"]["properties"]["language"]["enum"]
    assert "upper" in first["messages"][0]["content"]
    assert "SHOUT" in tool_messages(server.requests[1])[0]["content"]


def test_tool_call_with_an_alias_runs(server: FakeModelServer, interp: OpenInterpreter) -> None:
    interp.auto_run = True
    server.script(Reply.tool_call("bash", "echo via-alias"), Reply.text("ok"))
    new = interp.chat("go", display=False)
    assert new[2]["content"] == "via-alias\n"


def test_tool_call_with_an_unknown_language_is_reported(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.auto_run = True
    server.script(Reply.tool_call("cobol", "DISPLAY 'HI'."), Reply.text("ok"))
    interp.chat("go", display=False)
    reported = tool_messages(server.requests[1])[0]["content"]
    assert "not supported" in reported and "python" in reported
