"""Replays the provider transcripts of ``tests/fixtures/wire/`` through the real client and
checks the follow-up request the way each provider would.

Each transcript is a provider's stream of one reply that calls ``execute`` twice (in
parallel). ``replay`` scripts it on a fake model server, lets an interpreter run both
calls (auto-run) and answer, and returns what went wrong: calls glued together or lost,
ids or provider fields (Gemini's thought signatures) not kept, outputs answered against
the wrong call, and whatever the provider itself would refuse in the follow-up (Mistral:
ids of nine letters and digits, no field it does not know; Gemini 3: the signature back on
its call; Anthropic: every ``tool_use`` answered by a ``tool_result`` first in the next
turn). A hosted provider is reached by its own host name (``http://api.mistral.ai/v1``),
through the fake server acting as an HTTP proxy; a local server at the fake server itself.

Run ``python tests/wire_drive.py`` for a report of every transcript; the tests are
``tests/test_wire_transcripts.py``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interpreter import OpenInterpreter
from interpreter.llm.wire import generated_call_id
from interpreter.lmc import Message
from interpreter.testing.fake_server import FakeModelServer, Reply

WIRE = Path(__file__).parent / "fixtures" / "wire"
Body = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One call of a transcript: its provider id (None: it sent none, ours is used), what
    it runs and prints, its own fields."""

    call_id: str | None
    code: str
    output: str
    language: str = "shell"
    extra: dict[str, Any] | None = None


#: A provider's check of the follow-up request: the problems it would refuse it for.
Check = Callable[[Body, "Transcript"], list[str]]


@dataclass(frozen=True)
class Transcript:
    """A transcript file (``WIRE/<name>.sse``) and what the client must make of it."""

    name: str
    provider: str
    model: str
    calls: tuple[Call, ...]
    base: str | None = None  # the provider's URL (reached through the proxy); None: local
    checks: tuple[Check, ...] = ()

    @property
    def path(self) -> Path:
        return WIRE / f"{self.name}.sse"

    @property
    def anthropic(self) -> bool:
        return self.base is not None and "anthropic" in self.base


@dataclass
class Outcome:
    """What one replay did."""

    messages: list[Message]
    requests: list[Body]
    problems: list[str] = field(default_factory=list)


# -- the answers, in the two wire formats ---------------------------------------------------


def _arguments(call: Call) -> dict[str, str]:
    return {"language": call.language, "code": call.code}


def openai_calls(body: Body) -> tuple[list[Body], list[Body]]:
    """The last assistant message's tool calls and the messages after it."""
    messages = body["messages"]
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "assistant" and messages[i].get("tool_calls"):
            return list(messages[i]["tool_calls"]), list(messages[i + 1 :])
    return [], []


def sent_ids(t: Transcript) -> list[str]:
    """The ids the calls go back under: the provider's, else ours (a new conversation)."""
    return [c.call_id or generated_call_id(i) for i, c in enumerate(t.calls)]


def answered_in_order(body: Body, t: Transcript, ids: list[str] | None = None) -> list[str]:
    """Each call sent back once, as it was made (under ``ids``: the provider's unless
    given), and answered right after, in order, by its own output."""
    calls, after = openai_calls(body)
    problems: list[str] = []
    want_ids = ids if ids is not None else sent_ids(t)
    got_ids = [c.get("id") for c in calls]
    if got_ids != want_ids:
        problems.append(f"the calls went back as {got_ids}, not {want_ids}")
    for call, expected in zip(calls, t.calls, strict=False):
        function = call.get("function") or {}
        try:
            arguments = json.loads(function.get("arguments") or "")
        except ValueError:
            arguments = None
        if function.get("name") != "execute" or arguments != _arguments(expected):
            problems.append(f"call {call.get('id')} went back as {function}")
    answers = after[: len(calls)]
    for call, answer, expected in zip(calls, answers, t.calls, strict=False):
        if answer.get("role") != "tool" or answer.get("tool_call_id") != call.get("id"):
            problems.append(f"call {call.get('id')} is not answered right after: {answer}")
        elif expected.output not in str(answer.get("content")):
            problems.append(f"call {call.get('id')} was answered with {answer.get('content')!r}")
    if len(answers) < len(calls):
        problems.append(f"{len(calls)} calls, {len(answers)} answers")
    return problems


def unique_ids(body: Body, t: Transcript) -> list[str]:
    """No two calls of the request share an id."""
    ids = [c.get("id") for m in body["messages"] for c in m.get("tool_calls") or ()]
    return [] if len(ids) == len(set(ids)) else [f"call ids repeat: {ids}"]


def anthropic_answered(body: Body, t: Transcript) -> list[str]:
    """Anthropic: the ``tool_use`` blocks as made, each answered by a ``tool_result`` at the
    start of the next user turn, in order."""
    turns = body["messages"]
    last = max(
        (i for i, m in enumerate(turns) if m["role"] == "assistant"
         and any(b.get("type") == "tool_use" for b in m["content"])),
        default=None,
    )  # fmt: skip
    if last is None or last + 1 >= len(turns):
        return ["no tool_use turn followed by a user turn"]
    uses = [b for b in turns[last]["content"] if b.get("type") == "tool_use"]
    problems: list[str] = []
    if [(b["id"], b["name"], b["input"]) for b in uses] != [
        (call_id, "execute", _arguments(c)) for call_id, c in zip(sent_ids(t), t.calls, strict=True)
    ]:
        problems.append(f"the tool_use blocks went back as {uses}")
    reply = turns[last + 1]
    results = reply["content"][: len(uses)]
    if reply["role"] != "user" or [b.get("type") for b in results] != ["tool_result"] * len(uses):
        problems.append(f"the next turn does not start with the tool results: {reply}")
        return problems
    for use, result, expected in zip(uses, results, t.calls, strict=False):
        if result.get("tool_use_id") != use["id"] or expected.output not in str(result["content"]):
            problems.append(f"tool_use {use['id']} answered by {result}")
    return problems


# -- what each provider refuses ---------------------------------------------------------------

NINE = re.compile(r"[a-zA-Z0-9]{9}")
OPENAI_MESSAGE_KEYS = frozenset({"role", "content", "tool_calls", "tool_call_id", "name"})
OPENAI_CALL_KEYS = frozenset({"id", "type", "function"})
MISTRAL_BODY_KEYS = frozenset(
    {"model", "messages", "stream", "temperature", "top_p", "max_tokens", "stop",
     "random_seed", "response_format", "tools", "tool_choice", "presence_penalty",
     "frequency_penalty", "n", "prediction", "parallel_tool_calls", "safe_prompt",
     "prompt_mode"}
)  # fmt: skip
MISTRAL_MESSAGE_KEYS = frozenset(
    {"role", "content", "tool_calls", "tool_call_id", "name", "prefix"}
)
MISTRAL_CALL_KEYS = frozenset({"id", "type", "function", "index"})


def _unknown_keys(body: Body, messages: frozenset[str], calls: frozenset[str]) -> list[str]:
    problems = []
    for i, message in enumerate(body["messages"]):
        if set(message) - messages:
            problems.append(f"messages[{i}] has unknown fields {sorted(set(message) - messages)}")
        for call in message.get("tool_calls") or ():
            if set(call) - calls:
                problems.append(f"messages[{i}] has a call with {sorted(set(call) - calls)}")
    return problems


def openai_strict(body: Body, t: Transcript) -> list[str]:
    """OpenAI: no field it does not know on messages and calls."""
    return _unknown_keys(body, OPENAI_MESSAGE_KEYS, OPENAI_CALL_KEYS)


def mistral_ids(body: Body, t: Transcript) -> list[str]:
    """Mistral's chat template (its API, vLLM or llama.cpp serving its models): every call
    id nine letters and digits, as many answers as calls."""
    problems = []
    calls = [c["id"] for m in body["messages"] for c in m.get("tool_calls") or ()]
    answers = [m["tool_call_id"] for m in body["messages"] if m.get("role") == "tool"]
    for call_id in calls + answers:
        if not NINE.fullmatch(str(call_id)):
            problems.append(
                f"Tool call id was {call_id} but must be a-z, A-Z, 0-9, with a length of 9."
            )
    if sorted(calls) != sorted(answers):
        problems.append("Not the same number of function calls and responses")
    return problems


def mistral_api(body: Body, t: Transcript) -> list[str]:
    """Mistral's API: its ids, and it refuses every field it does not know (422)."""
    problems = mistral_ids(body, t)
    extra = sorted(set(body) - MISTRAL_BODY_KEYS)
    if extra:
        problems.append(f"Extra inputs are not permitted: {extra}")
    return problems + _unknown_keys(body, MISTRAL_MESSAGE_KEYS, MISTRAL_CALL_KEYS)


def gemini_signatures(body: Body, t: Transcript) -> list[str]:
    """Gemini 3: each call's ``extra_content`` back exactly as it came (the first call of a
    step must carry its thought signature, else 400)."""
    calls, _ = openai_calls(body)
    problems = []
    for call, expected in zip(calls, t.calls, strict=False):
        if call.get("extra_content") != (expected.extra or {}).get("extra_content"):
            problems.append(f"call {call.get('id')} went back with {call.get('extra_content')}")
    first = (calls[0].get("extra_content") or {}) if calls else {}
    if not (first.get("google") or {}).get("thought_signature"):
        problems.append("Function call is missing a thought_signature in functionCall parts")
    return problems


# -- the transcripts --------------------------------------------------------------------------

SIG_A = (
    "Vx5YrW6uEgtG8+/Ii6c55S9FPYUScOUewB7xgqlBEjMSsL5kjA7gWARlL/+vlHmHLtITSmVMr5WCWvQl1eRRmKoL1"
    "kJ4HpAbDAOsQpEVcGkOU85TbFrP9xHOlUTIYqLVjY2OG6j/9sVh81NTdf6u5fX1oU+TMdoFora5kf1DG56xFZ4zy6"
    "0P4d4kHxLxW5/rJ3PaM6P/Jx2bhN2Kq6iidHfJeGPKYLjdULrEu/sb3hJGT5XN"
)
SIG_C = (
    "rrw2GQWVGGrJLE0Eho1vGTW4P5Rj3126KYRVbKUjc8H031DaAmhkZd2Wt3CypYWojAI9/YKXjkwkyxuSZHU26ofLl"
    "oD0XXTV77eUKKcWvsrDMxejRcYz9EJgCWijfJs7+0RSxn+hlYvb/puT/ok7u0Vlkxt+ai3N41cTNbZl6WP0BQcxXJZ"
    "3I6O1eCLMVFagwRdJfska"
)


def _signed(signature: str) -> dict[str, Any]:
    return {"extra_content": {"google": {"thought_signature": signature}}}


def _two(first: str | None, second: str | None, **more: Any) -> tuple[Call, Call]:
    return Call(first, "echo one", "one", **more), Call(second, "echo two", "two")


OPENAI_FORMAT: tuple[Check, ...] = (answered_in_order, unique_ids)

TRANSCRIPTS: tuple[Transcript, ...] = (
    Transcript(
        "openai_parallel", "OpenAI chat completions, parallel calls (gpt-4o)", "gpt-4o",
        (Call("call_q3JmTdZ8fWcUo2hVb7XkRy1N", "echo one", "one"),
         Call("call_Lp0sV4nXcE9gHrQa6tYw2KbM", "print('two')", "two", "python")),
        "http://api.openai.com/v1", (*OPENAI_FORMAT, openai_strict),
    ),
    Transcript(
        "openrouter_parallel", "OpenRouter (Claude behind it; keep-alive comments)",
        "openrouter/anthropic/claude-sonnet-4",
        _two("toolu_vrtx_01Xb4cKj2TzE8qWn5RmYpD3a", "toolu_vrtx_01Hs9LfQ7vBn3GkT2wXcAe6J"),
        "http://openrouter.ai/api/v1", OPENAI_FORMAT,
    ),
    Transcript(
        "ollama_index0", "Ollama's OpenAI endpoint: every call at index 0, each with its id",
        "qwen2.5-coder:7b", _two("call_3dkq8a1b", "call_x9w2mz7e"), None, OPENAI_FORMAT,
    ),
    Transcript(
        "gemini3_parallel",
        "Gemini's OpenAI endpoint: both calls in one delta, no index, a signature on the first",
        "gemini-3-pro-preview", _two("jm4owj31", "k2p9xq7d", extra=_signed(SIG_A)),
        "http://generativelanguage.googleapis.com/v1beta/openai",
        (*OPENAI_FORMAT, gemini_signatures),
    ),
    Transcript(
        "gemini3_split",
        "Gemini's OpenAI endpoint: arguments over index-less deltas, the signature alone, CRLF",
        "gemini-3-flash-preview",
        _two("function-call-1309287313441812306", "function-call-8145093371150726743",
             extra=_signed(SIG_C)),
        "http://generativelanguage.googleapis.com/v1beta/openai",
        (*OPENAI_FORMAT, gemini_signatures),
    ),
    Transcript(
        "proxy_noid_noindex",
        "an OpenAI-compatible proxy before Gemini: no index, empty ids, one call per delta",
        "gemini-2.5-flash", _two(None, None), "http://llm-proxy.example/v1", OPENAI_FORMAT,
    ),
    Transcript(
        "mistral_parallel", "Mistral's API: both calls whole in one chunk, 9-character ids",
        "mistral-large-latest", _two("D681PevKs", "kT3xQ9mZa"), "http://api.mistral.ai/v1",
        (*OPENAI_FORMAT, mistral_api),
    ),
    Transcript(
        "llamacpp_parallel", "llama.cpp server (--jinja): usage and timings in the last chunk",
        "qwen2.5-7b-instruct",
        _two("Xp0q3aqJcHc4UzYxbL4IWoAgVfdMN6Ey", "gR7tK2mWv9sLq4ZbN1cXe8YhJ3uDf6Pa"),
        None, OPENAI_FORMAT,
    ),
    Transcript(
        "vllm_parallel", "vLLM (hermes parser): the name first, then the arguments",
        "Qwen/Qwen2.5-7B-Instruct",
        _two("chatcmpl-tool-9d2e3f4a5b6c4d7e8f9a0b1c2d3e4f5a",
             "chatcmpl-tool-1a2b3c4d5e6f4a7b8c9d0e1f2a3b4c5d"),
        None, OPENAI_FORMAT,
    ),
    Transcript(
        "vllm_mistral_parallel", "vLLM serving a Mistral model (its template checks ids)",
        "mistralai/Mistral-Small-3.1-24B-Instruct-2503", _two("Xq3bZ9kLm", "p7RtW2vNc"),
        None, (*OPENAI_FORMAT, mistral_ids),
    ),
    Transcript(
        "anthropic_parallel", "Anthropic Messages API: text, then two tool_use blocks",
        "claude-sonnet-4-5-20250929",
        _two("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "toolu_01EjKvu8gH6BdzjP3sZmcMqY"),
        "http://api.anthropic.com/v1", (anthropic_answered,),
    ),
)  # fmt: skip


def transcript(name: str) -> Transcript:
    return next(t for t in TRANSCRIPTS if t.name == name)


# -- replaying --------------------------------------------------------------------------------

_PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


@contextmanager
def through(server: FakeModelServer) -> Iterator[None]:
    """Plain-HTTP requests go through ``server`` (an HTTP proxy) while this lasts."""
    saved = {name: os.environ.get(name) for name in _PROXY_VARIABLES}
    for name in _PROXY_VARIABLES:
        os.environ.pop(name, None)
    os.environ["HTTP_PROXY"] = os.environ["http_proxy"] = f"http://127.0.0.1:{server.port}"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def interpreter_for(t: Transcript, server: FakeModelServer) -> OpenInterpreter:
    """An interpreter for ``t``'s model and server, running code without asking."""
    interp = OpenInterpreter(load_profile=False)
    interp.conversation_history = False
    interp.auto_run = True
    point_at(interp, t, server)
    return interp


def point_at(interp: OpenInterpreter, t: Transcript, server: FakeModelServer) -> None:
    """Switches ``interp`` to ``t``'s model, at its provider (or the fake server)."""
    interp.llm.model = t.model
    interp.llm.api_base = t.base or server.url
    interp.llm.api_key = "sk-wire-test-key"
    interp.llm.context_window = 100_000


def stored_calls(t: Transcript, messages: list[Message]) -> list[str]:
    """Two code messages, each with its own code, the provider's id and its fields."""
    got = [
        (m.get("format"), m.get("content"), m.get("call_id"), m.get("extra"))
        for m in messages
        if m["role"] == "assistant" and m["type"] == "code"
    ]
    want = [(c.language, c.code, c.call_id, c.extra) for c in t.calls]
    return [] if got == want else [f"the calls were kept as {got}, not {want}"]


def chat(interp: OpenInterpreter, server: FakeModelServer, text: str, hosted: bool) -> None:
    """One message, through the proxy when the model is hosted."""
    if hosted:
        with through(server):
            interp.chat(text, display=False)
    else:
        interp.chat(text, display=False)


def replay(
    t: Transcript,
    server: FakeModelServer,
    configure: Callable[[OpenInterpreter], None] | None = None,
) -> Outcome:
    """Replays ``t`` on ``server`` (then a plain text reply) and checks the follow-up."""
    server.script(Reply.transcript(t.path), Reply.text("Both ran."))
    interp = interpreter_for(t, server)
    if configure is not None:
        configure(interp)
    try:
        chat(interp, server, "Run both commands.", hosted=t.base is not None)
    finally:
        interp.computer.terminate()
        interp.llm.close()
    outcome = Outcome(list(interp.messages), list(server.requests))
    if len(server.requests) != 2:
        outcome.problems.append(f"{len(server.requests)} requests, not 2")
        return outcome
    outcome.problems += stored_calls(t, interp.messages)
    for check in t.checks:
        outcome.problems += check(server.requests[1], t)
    return outcome


def main() -> int:
    """Replays every transcript; prints one line each (and the problems); 1 if any."""
    failed = 0
    for t in TRANSCRIPTS:
        with FakeModelServer() as server:
            problems = replay(t, server).problems
        failed += bool(problems)
        print(f"{'FAIL' if problems else 'ok  '} {t.name}: {t.provider}")
        for problem in problems:
            print(f"     {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
