"""FenceParser: Markdown code fences from a streamed reply, independent of chunking."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interpreter.llm.events import CodeDelta, CodeEnd, CodeStart, Event, TextDelta
from interpreter.llm.fences import FenceParser


def merged(events: Iterable[Event]) -> list[Event]:
    """Join consecutive TextDelta / CodeDelta events."""
    out: list[Event] = []
    for event in events:
        last = out[-1] if out else None
        if isinstance(event, TextDelta) and isinstance(last, TextDelta):
            out[-1] = TextDelta(last.text + event.text)
        elif isinstance(event, CodeDelta) and isinstance(last, CodeDelta):
            out[-1] = CodeDelta(last.text + event.text)
        else:
            out.append(event)
    return out


def parse(pieces: Iterable[str]) -> list[Event]:
    parser = FenceParser()
    events: list[Event] = []
    for piece in pieces:
        events += parser.feed(piece)
    return events + parser.close()


def chunked(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def random_split(text: str, rng: random.Random) -> list[str]:
    cuts = sorted(rng.sample(range(1, len(text)), k=min(len(text) - 1, rng.randint(0, 12))))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def check_consistent(events: Sequence[Event]) -> None:
    """Deltas between CodeStart and CodeEnd add up to the CodeEnd's code."""
    code: list[str] | None = None
    for event in events:
        if isinstance(event, CodeStart):
            assert code is None
            code = []
        elif isinstance(event, CodeDelta):
            assert code is not None
            code.append(event.text)
        elif isinstance(event, CodeEnd):
            assert code is not None and "".join(code) == event.code
            code = None
        elif isinstance(event, TextDelta):
            assert code is None and event.text
    assert code is None


SAMPLES = [
    "",
    "Just text, no code.",
    "Let me list the files.\n```python\nimport os\nprint(os.listdir('.'))\n```\nDone.",
    "```\nprint('no language')\n```",
    "Two blocks:\n```bash\nls -la\n```\nthen\n```js\nconsole.log(1)\n```\n",
    "```shell\necho hi\n",  # unterminated
    "```python\nprint(1)\n\n\n",  # unterminated, trailing blank lines
    "~~~ruby\nputs 1\n```\nstill ruby\n~~~\nafter",
    "````markdown\n```python\nnested\n```\n````\nout",
    "Inline ```not a fence``` here\n```python\nx = '```'\n```",
    "   ```py\n  indented fence\n   ```\n",
    "    ```python\nfour spaces is not a fence\n",
    "``\n`` not fences\n~~\n",
    "```Python extra words\nprint(2)\n``` \t\nok",
    "```python\nx\n``\n````\n",  # shorter run stays code, longer closes
    "text\r\n```python\r\nprint(1)\r\n```\r\nend\r\n",
    "```python\n```",  # empty block
    "```python",  # fence at end of stream
    "a\n\n\n```\n\n\nb\n\n```\n\n",
    "~~~~\n~~~\n~~~~~\n",
    "unicode é 漢字 🙂\n```python\nprint('🙂')\n```\n",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_events_do_not_depend_on_chunking(text: str) -> None:
    whole = merged(parse([text]))
    check_consistent(whole)
    for size in (1, 2, 3, 4, 5, 7, 8, 16):
        assert merged(parse(chunked(text, size))) == whole, size
    rng = random.Random(text)
    for _ in range(30 if len(text) > 1 else 0):
        assert merged(parse(random_split(text, rng))) == whole


TOKENS = ["`", "~", " ", "\n", "a", "py", "thon", "\t", "é", "\r", "```", "\n```", "~~~", "    "]
MARKDOWNISH = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(text=MARKDOWNISH, data=st.data())
def test_property_any_chunking_same_events(text: str, data: st.DataObject) -> None:
    whole = merged(parse([text]))
    check_consistent(whole)
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=20).map(sorted))
    bounds = [0, *cuts, len(text)]
    pieces = [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    assert merged(parse(pieces)) == whole
    for size in (1, 3, 4):
        assert merged(parse(chunked(text, size))) == whole


def test_blocks_languages_and_text() -> None:
    text = SAMPLES[4]
    assert merged(parse([text])) == [
        TextDelta("Two blocks:\n"),
        CodeStart("bash"),
        CodeDelta("ls -la"),
        CodeEnd("bash", "ls -la"),
        TextDelta("then\n"),
        CodeStart("js"),
        CodeDelta("console.log(1)"),
        CodeEnd("js", "console.log(1)"),
    ]


def code_ends(text: str) -> list[CodeEnd]:
    return [e for e in parse([text]) if isinstance(e, CodeEnd)]


def test_empty_info_string_means_python_and_language_is_first_word_lowercased() -> None:
    assert code_ends(SAMPLES[3]) == [CodeEnd("python", "print('no language')")]
    assert code_ends(SAMPLES[13]) == [CodeEnd("python", "print(2)")]


def test_unterminated_block_ends_at_close() -> None:
    assert code_ends(SAMPLES[5]) == [CodeEnd("shell", "echo hi")]
    assert code_ends(SAMPLES[6]) == [CodeEnd("python", "print(1)\n\n")]
    assert code_ends("```python") == [CodeEnd("python", "")]


def test_fence_rules() -> None:
    assert code_ends(SAMPLES[7]) == [CodeEnd("ruby", "puts 1\n```\nstill ruby")]
    assert code_ends(SAMPLES[8]) == [CodeEnd("markdown", "```python\nnested\n```")]
    assert code_ends(SAMPLES[9]) == [CodeEnd("python", "x = '```'")]
    assert code_ends(SAMPLES[10]) == [CodeEnd("py", "  indented fence")]
    assert code_ends(SAMPLES[11]) == []
    assert code_ends(SAMPLES[12]) == []
    assert code_ends(SAMPLES[14]) == [CodeEnd("python", "x\n``")]
    assert code_ends(SAMPLES[16]) == [CodeEnd("python", "")]


def test_text_is_not_held_back_longer_than_needed() -> None:
    parser = FenceParser()
    assert parser.feed("Hello wor") == [TextDelta("Hello wor")]
    assert merged(parser.feed("ld\n``")) == [TextDelta("ld\n")]
    assert merged(parser.feed("`pyth")) == []
    assert parser.feed("on\nprint(") == [CodeStart("python"), CodeDelta("print(")]
    assert merged(parser.feed("1)\n")) == [CodeDelta("1)")]
    assert parser.feed("``") == []
    assert parser.feed("`\nBye") == [CodeEnd("python", "print(1)"), TextDelta("Bye")]
    assert parser.close() == []


def test_linear_time_on_a_long_reply() -> None:
    unit = (
        "Some prose line with `inline` code.\n```python\nfor i in range(10):\n    print(i)\n```\n"
    )
    text = (unit * (200_000 // len(unit) + 1))[:200_000]
    started = time.perf_counter()
    events = parse(chunked(text, 4))
    elapsed = time.perf_counter() - started
    print(f"FenceParser: 200 KB in 4-character chunks took {elapsed:.3f} s")
    assert elapsed < 2.0
    assert sum(isinstance(e, CodeEnd) for e in events) == text.count("```python")
    long_line = "```" + "x" * 100_000
    started = time.perf_counter()
    parse(chunked(long_line, 4))
    assert time.perf_counter() - started < 2.0
