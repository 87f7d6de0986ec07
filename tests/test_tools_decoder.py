"""The execute tool's schema, and ToolCallDecoder streaming code out of JSON arguments."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interpreter.llm.events import CodeDelta, CodeEnd, CodeStart, Event
from interpreter.llm.tools import ToolCallDecoder, execute_tool_schema

LANGUAGES = ["python", "Shell", "bash", "JavaScript"]


def decode(pieces: Iterable[str], languages: Sequence[str] = LANGUAGES) -> list[Event]:
    decoder = ToolCallDecoder(languages)
    events: list[Event] = []
    for piece in pieces:
        events += decoder.feed(piece)
    return events + decoder.close()


def chunked(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def summary(events: Sequence[Event]) -> tuple[str, str, CodeEnd]:
    """(language of the CodeStart, joined deltas, the CodeEnd), checking the event order."""
    assert isinstance(events[0], CodeStart)
    assert isinstance(events[-1], CodeEnd)
    assert all(isinstance(e, CodeDelta) and e.text for e in events[1:-1])
    deltas = "".join(e.text for e in events[1:-1] if isinstance(e, CodeDelta))
    return events[0].language, deltas, events[-1]


def test_schema_is_one_execute_function_with_required_language_enum_and_code() -> None:
    schema = execute_tool_schema(["Python", "shell", "python", "R"])
    assert schema["type"] == "function"
    function = schema["function"]
    assert function["name"] == "execute"
    assert function["description"]
    params = function["parameters"]
    assert params["required"] == ["language", "code"]
    assert params["properties"]["language"] == {
        "type": "string",
        "description": params["properties"]["language"]["description"],
        "enum": ["python", "shell", "r"],
    }
    assert params["properties"]["code"]["type"] == "string"
    json.dumps(schema)


CODES = [
    "print('hello')",
    "",
    'x = "quoted \\" and \\\\ backslash"\nprint(x)\n',
    "unicode é 漢字 🙂 \U0001f600 tab\there \x00\x1f control",
    "\ud83d lone surrogate",
    "/ slash \b\f\r\n",
]


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize("code_first", [False, True])
def test_code_streams_identically_for_every_chunking(
    code: str, ensure_ascii: bool, code_first: bool
) -> None:
    args = (
        {"code": code, "language": "python"} if code_first else {"language": "python", "code": code}
    )
    text = json.dumps(args, ensure_ascii=ensure_ascii)
    for size in (1, 2, 3, 4, 5, 7, 8, 16, len(text)):
        language, deltas, end = summary(decode(chunked(text, size)))
        assert (language, deltas, end) == ("python", code, CodeEnd("python", code))


def test_language_is_known_before_code_arrives_and_code_streams_as_it_comes() -> None:
    decoder = ToolCallDecoder(LANGUAGES)
    assert decoder.feed('{"language": "Sh') == []
    assert decoder.feed('ell", "code": "ec') == [CodeStart("shell"), CodeDelta("ec")]
    assert decoder.feed("ho \\") == [CodeDelta("ho ")]  # half an escape is held
    assert decoder.feed("u00e9\\ud83d") == [CodeDelta("é")]  # half a surrogate pair is held
    assert decoder.feed('\\ude00"}') == [CodeDelta("😀")]
    assert decoder.close() == [CodeEnd("shell", "echo é😀")]


def test_code_before_language_is_held_until_the_language_is_known() -> None:
    decoder = ToolCallDecoder(LANGUAGES)
    assert decoder.feed('{"code": "ls -la", ') == []
    assert decoder.feed('"language": "bash"}') == [CodeStart("bash"), CodeDelta("ls -la")]
    assert decoder.close() == [CodeEnd("bash", "ls -la")]


def test_other_keys_with_nested_values_are_skipped() -> None:
    text = json.dumps(
        {"x": [1, {"y": '}\\"]'}, None], "n": -1.5e3, "language": "javascript", "code": "1"},
        indent=2,
    )
    for size in (1, 3, len(text)):
        assert summary(decode(chunked(text, size))) == (
            "javascript",
            "1",
            CodeEnd("javascript", "1"),
        )


def test_missing_language_means_python() -> None:
    assert decode(['{"code": "x = 1"}']) == [
        CodeStart("python"),
        CodeDelta("x = 1"),
        CodeEnd("python", "x = 1"),
    ]


def test_bare_json_string_is_python_and_raw_code_is_an_error() -> None:
    assert summary(decode(chunked('"print(\\"hi\\")"', 2))) == (
        "python",
        'print("hi")',
        CodeEnd("python", 'print("hi")'),
    )
    for raw in ("  import os\nprint(os.getcwd())", "[1, 2]"):
        end = decode(chunked(raw, 3))[-1]
        assert isinstance(end, CodeEnd) and end.code == raw
        assert end.error is not None and "JSON object" in end.error


def test_unknown_language_is_an_error_naming_the_supported_ones() -> None:
    events = decode(['{"language": "Ruby", "code": "puts 1"}'])
    assert events[0] == CodeStart("ruby")
    assert events[-1] == CodeEnd(
        "ruby",
        "puts 1",
        error="language ruby is not supported; use one of: python, shell, bash, javascript",
    )


def test_aliases_passed_by_the_caller_are_accepted_case_insensitively() -> None:
    events = decode(['{"language": "PY", "code": "1"}'], ["python", "py"])
    assert events[-1] == CodeEnd("py", "1")


@pytest.mark.parametrize(
    ("args", "language", "code", "error_part"),
    [
        ('{"language": "python", "code": "print(1)', "python", "print(1)", "not valid JSON"),
        ('{"language": "python", "code": "a\\qb"}', "python", "a", "not valid JSON"),
        ('{"language": "python"}', "python", "", "'code' is missing"),
        ('{"language": "python", "code": 3}', "python", "", "'code' is not a string"),
        ('{"language": null, "code": "x"}', "", "x", "'language' must be a string"),
        ("", "python", "", "'code' is missing"),
        ('{"language": "bash", "code": "ls"} trailing', "bash", "ls", "not valid JSON"),
    ],
)
def test_unusable_arguments_end_with_a_one_line_error(
    args: str, language: str, code: str, error_part: str
) -> None:
    for size in (1, 4, max(1, len(args))):
        events = decode(chunked(args, size))
        end = events[-1]
        assert isinstance(events[0], CodeStart)
        assert isinstance(end, CodeEnd)
        assert (end.language, end.code) == (language, code)
        assert end.error is not None and error_part in end.error and "\n" not in end.error
        deltas = "".join(e.text for e in events if isinstance(e, CodeDelta))
        assert deltas == end.code


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    code=st.text(),
    language=st.sampled_from(["python", "SHELL", "Bash"]),
    ensure_ascii=st.booleans(),
    indent=st.sampled_from([None, 0, 2]),
    cuts=st.lists(st.integers(0, 10_000), max_size=30),
)
def test_property_any_code_any_chunking(
    code: str, language: str, ensure_ascii: bool, indent: int | None, cuts: list[int]
) -> None:
    text = json.dumps(
        {"language": language, "code": code}, ensure_ascii=ensure_ascii, indent=indent
    )
    bounds = [0, *sorted(c % (len(text) + 1) for c in cuts), len(text)]
    pieces = [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    assert summary(decode(pieces)) == (language.lower(), code, CodeEnd(language.lower(), code))


def test_linear_time_on_long_code() -> None:
    code = "print('\\u00e9 \"quoted\" 🙂')\n" * 8000
    text = json.dumps({"language": "python", "code": code})
    started = time.perf_counter()
    events = decode(chunked(text, 4))
    elapsed = time.perf_counter() - started
    print(f"ToolCallDecoder: {len(text) // 1000} KB in 4-character chunks took {elapsed:.3f} s")
    assert events[-1] == CodeEnd("python", code)
    assert elapsed < 2.0
