"""Token counting with the shipped encodings, and fitting conversations to a context window."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from interpreter.llm import tokens
from interpreter.llm.errors import ContextOverflow
from interpreter.llm.tokens import (
    IMAGE_TOKENS,
    PER_MESSAGE,
    REPLY_PRIMING,
    count_tokens,
    default_context_window,
    encoding_name,
    fit_to_context,
    get_encoding,
)

SAMPLE = "Hello, World! 漢字 🙂\n\n  def f(x):\n\treturn x**2  # it's <|endoftext|>"
# Reference ids from tiktoken's published encodings.
CL100K_IDS = [9906, 11, 4435, 0, 6704, 120, 95, 19113, 40124, 220, 711, 282, 2120, 997]
CL100K_IDS += [862, 865, 334, 17, 220, 674, 433, 596, 83739, 8862, 728, 428, 91, 29]
O200K_IDS = [13225, 11, 5922, 0, 82867, 95, 8134, 41937, 220, 1056, 285, 4061, 1883, 1393]
O200K_IDS += [1215, 410, 17, 220, 1069, 4275, 464, 91, 419, 1440, 919, 91, 29]

Message = dict[str, Any]


@pytest.mark.parametrize(
    ("model", "name", "ids"),
    [("gpt-4o", "o200k_base", O200K_IDS), ("claude-3-5-sonnet", "cl100k_base", CL100K_IDS)],
)
def test_shipped_encodings_match_tiktoken_reference_ids(
    model: str, name: str, ids: list[int]
) -> None:
    assert encoding_name(model) == name
    encoding = get_encoding(model)
    assert encoding.encode_ordinary(SAMPLE) == ids
    assert encoding.decode(ids) == SAMPLE
    assert get_encoding(model) is encoding  # cached


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("openai/gpt-4o-mini", "o200k_base"),
        ("gpt-4.1", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("o1-preview", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("ollama/llama3", "cl100k_base"),
    ],
)
def test_encoding_choice(model: str, name: str) -> None:
    assert encoding_name(model) == name


def test_count_tokens_of_a_request() -> None:
    encoding = get_encoding("gpt-4o")

    def n(text: str) -> int:
        return len(encoding.encode_ordinary(text))

    arguments = '{"language": "python", "code": "print(1)"}'
    messages: list[Message] = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": SAMPLE},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "execute", "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "1"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
    ]
    expected = REPLY_PRIMING + 5 * PER_MESSAGE
    expected += n("system") + n("You are helpful.") + n("user") + len(O200K_IDS)
    expected += n("assistant") + tokens.PER_TOOL_CALL + n("call_1") + n("execute") + n(arguments)
    expected += n("tool") + n("call_1") + n("1")
    expected += n("user") + n("What is this?") + IMAGE_TOKENS
    assert count_tokens(messages, "gpt-4o") == expected
    assert count_tokens([], "gpt-4o") == REPLY_PRIMING


def test_cannot_count_fails_closed(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setattr(tokens, "_DATA", tmp_path)  # a data folder without encodings
    tokens._load_encoding.cache_clear()
    try:
        with pytest.raises(ContextOverflow, match="cannot count tokens"):
            count_tokens([{"role": "user", "content": "hi"}], "gpt-4")
        with pytest.raises(ContextOverflow, match="cannot count tokens"):
            big = [{"role": "user", "content": "hi " * 100}]  # over the byte bound: must count
            fit_to_context(big, model="gpt-4", context_window=100, max_tokens=10)
    finally:
        tokens._load_encoding.cache_clear()


def test_default_context_windows() -> None:
    assert default_context_window("gpt-4o") == 128_000
    assert default_context_window("openai/gpt-4o-2024-08-06") == 128_000
    assert default_context_window("claude-3-5-sonnet-20241022") == 200_000
    assert default_context_window("gpt-4-0613") == 8_192
    assert default_context_window("some-local-model") == 8_000


# -- fitting --------------------------------------------------------------------------------

MODEL = "gpt-4o"
WORDS = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "


def text_of(n_tokens: int) -> str:
    """A text of exactly ``n_tokens`` tokens."""
    encoding = get_encoding(MODEL)
    ids = encoding.encode_ordinary(WORDS * (n_tokens // 8 + 2))[:n_tokens]
    text = str(encoding.decode(ids))
    assert len(encoding.encode_ordinary(text)) == n_tokens
    return text


def exchange(i: int, size: int) -> list[Message]:
    """A user turn, a tool call and its result, and an answer."""
    call = {"id": f"c{i}", "type": "function", "function": {"name": "execute", "arguments": "{}"}}
    return [
        {"role": "user", "content": f"question {i} " + text_of(size)},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": f"c{i}", "content": f"output {i} " + text_of(size)},
        {"role": "assistant", "content": f"answer {i}"},
    ]


def conversation(turns: int, size: int) -> list[Message]:
    messages: list[Message] = [{"role": "system", "content": "system prompt"}]
    for i in range(turns):
        messages += exchange(i, size)
    messages.append({"role": "user", "content": "latest question"})
    return messages


def check_structure(messages: list[Message]) -> None:
    """Every tool result follows its call, and every call is answered."""
    pending: set[str] = set()
    for message in messages:
        if message["role"] == "tool":
            assert message["tool_call_id"] in pending
            pending.discard(message["tool_call_id"])
        else:
            assert not pending, "a tool call without its result"
            pending = {c["id"] for c in message.get("tool_calls") or []}
    assert not pending


def test_fitting_keeps_everything_that_fits() -> None:
    messages = conversation(3, 50)
    before = copy.deepcopy(messages)
    assert fit_to_context(messages, model=MODEL, context_window=100_000, max_tokens=1000) == before
    assert messages == before


@pytest.mark.parametrize("window", [1500, 2500, 4000])
def test_drops_oldest_exchanges_first_keeping_tool_pairs(window: int) -> None:
    messages = conversation(20, 100)
    assert count_tokens(messages, MODEL) + 500 > window
    before = copy.deepcopy(messages)
    fitted = fit_to_context(messages, model=MODEL, context_window=window, max_tokens=500)
    assert messages == before  # the input is not changed
    assert count_tokens(fitted, MODEL) + 500 <= window
    assert fitted[0] == messages[0]
    assert fitted[-1] == messages[-1]
    check_structure(fitted)
    kept = [m for m in messages if m in fitted]
    assert kept == fitted  # nothing rewritten: whole messages dropped
    assert fitted[1:] == messages[len(messages) - len(fitted) + 1 :]  # the newest are kept
    assert count_tokens(fitted, MODEL) + 500 > window - 400  # and not much more than needed


def test_tool_results_are_never_separated_from_their_call() -> None:
    messages = conversation(10, 60)
    for window in range(900, 4000, 37):
        fitted = fit_to_context(messages, model=MODEL, context_window=window, max_tokens=200)
        check_structure(fitted)
        assert count_tokens(fitted, MODEL) + 200 <= window


def test_long_old_messages_are_elided_in_the_middle() -> None:
    big = text_of(5000)
    messages: list[Message] = [
        {"role": "system", "content": "system prompt"},
        {"role": "user", "content": "run it"},
        {"role": "assistant", "content": "ok", "tool_calls": exchange(0, 1)[1]["tool_calls"]},
        {"role": "tool", "tool_call_id": "c0", "content": "START " + big + " END"},
        {"role": "assistant", "content": "done"},
    ]
    fitted = fit_to_context(messages, model=MODEL, context_window=3000, max_tokens=500)
    assert count_tokens(fitted, MODEL) + 500 <= 3000
    check_structure(fitted)
    assert [m["role"] for m in fitted] == ["system", "user", "assistant", "tool", "assistant"]
    output = fitted[3]["content"]
    assert output.startswith("START ") and output.endswith(" END")
    assert "tokens elided to fit the context window" in output
    assert count_tokens(fitted, MODEL) + 500 > 3000 - 100  # elided just enough


def test_latest_user_message_is_kept_and_truncated_only_when_alone_too_big() -> None:
    messages: list[Message] = [
        {"role": "system", "content": "system prompt"},
        *exchange(0, 100),
        {"role": "user", "content": "BEGIN " + text_of(4000) + " FINISH"},
    ]
    fitted = fit_to_context(messages, model=MODEL, context_window=2000, max_tokens=300)
    assert [m["role"] for m in fitted] == ["system", "user"]
    assert fitted[1]["content"].startswith("BEGIN ") and fitted[1]["content"].endswith(" FINISH")
    assert count_tokens(fitted, MODEL) + 300 <= 2000


def test_image_content_lists_are_elided_in_their_text_part() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    messages: list[Message] = [
        {"role": "user", "content": [{"type": "text", "text": text_of(3000)}, image]},
    ]
    fitted = fit_to_context(messages, model=MODEL, context_window=2500, max_tokens=200)
    assert fitted[0]["content"][1] == image
    assert count_tokens(fitted, MODEL) + 200 <= 2500


def test_steps_after_the_latest_user_message_are_dropped_last_but_the_newest_kept() -> None:
    messages: list[Message] = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "go"},
    ]
    for i in range(30):
        messages += exchange(i, 60)[1:3]
    fitted = fit_to_context(messages, model=MODEL, context_window=1200, max_tokens=200)
    check_structure(fitted)
    assert fitted[:2] == messages[:2]
    assert fitted[-2:] == messages[-2:]
    assert count_tokens(fitted, MODEL) + 200 <= 1200


def test_cannot_fit_raises_one_line_context_overflow() -> None:
    messages: list[Message] = [
        {"role": "system", "content": text_of(3000)},
        {"role": "user", "content": "hi"},
    ]
    with pytest.raises(ContextOverflow) as info:
        fit_to_context(messages, model=MODEL, context_window=2000, max_tokens=100)
    assert "\n" not in str(info.value) and "context window is 2000" in str(info.value)
    with pytest.raises(ContextOverflow):
        fit_to_context([], model=MODEL, context_window=100, max_tokens=200)


def test_reserve_without_max_tokens_and_default_window() -> None:
    messages = conversation(40, 100)
    fitted = fit_to_context(messages, model="unknown-local", context_window=None, max_tokens=None)
    assert count_tokens(fitted, "unknown-local") + 2000 <= 8000
    assert fitted[-1] == messages[-1]


def test_fitting_a_long_conversation_is_fast() -> None:
    messages = conversation(500, 200)
    get_encoding(MODEL)
    started = time.perf_counter()
    fitted = fit_to_context(messages, model=MODEL, context_window=8000, max_tokens=1000)
    elapsed = time.perf_counter() - started
    print(f"fit_to_context: {len(messages)} messages in {elapsed:.3f} s")
    check_structure(fitted)
    assert elapsed < 2.0


def test_small_requests_fit_without_loading_the_tokenizer() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from interpreter.llm.tokens import fit_to_context; "
        "msgs = [{'role': 'system', 'content': 's'}, {'role': 'user', 'content': 'hi ' * 500}]; "
        "assert fit_to_context(msgs, model='gpt-4o', context_window=8000, max_tokens=None) == msgs; "
        "print('tiktoken' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_byte_bound_never_skips_needed_fitting() -> None:
    from interpreter.llm.tokens import count_tokens, fit_to_context

    msgs = [{"role": "user", "content": "word " * 3000}]  # ~3000 tokens, 15000 bytes
    fitted = fit_to_context(msgs, model="gpt-4o", context_window=2000, max_tokens=100)
    assert count_tokens(fitted, "gpt-4o") + 100 <= 2000
