"""Token counts of OpenAI-format requests, and fitting a conversation to a context window.

Counting uses tiktoken's ``o200k_base`` (gpt-4o, gpt-4.1, gpt-5, o-series) or ``cl100k_base``
(everything else, an approximation for non-OpenAI models). The encodings ship with the package
in ``data/`` (gzip-compressed, checked against their published sha256), so counting works
offline. When no tokenizer can be loaded, counting fails with ``ContextOverflow`` rather than
guessing.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .cost import canonical_model
from .errors import ContextOverflow

_DATA = Path(__file__).parent / "data"

PER_MESSAGE = 3
"""Tokens every message costs beyond its content (role and separators)."""
PER_NAME = 1
REPLY_PRIMING = 3
"""Tokens that start the assistant's reply."""
PER_TOOL_CALL = 4
IMAGE_TOKENS = 1000
"""Fixed estimate for one image part (a high-detail 1024x1024 image costs 765)."""
DEFAULT_CONTEXT_WINDOW = 8000
MIN_KEPT_TOKENS = 64
"""A truncated message keeps at least this many tokens of its content."""

_O200K_PREFIXES = ("gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4")
#: Context windows by model-name prefix (the longest matching prefix wins): the one table
#: used wherever a window is assumed. gpt-5's is what it reads (272k of its 400k total;
#: the rest is kept for its reply), so a request fitted to it is never refused.
_CONTEXT_WINDOWS = {
    "gpt-4o": 128_000,
    "chatgpt-4o": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.5": 128_000,
    "gpt-5": 272_000,
    "gpt-4-turbo": 128_000,
    "gpt-4-1106": 128_000,
    "gpt-4-0125": 128_000,
    "gpt-4-32k": 32_768,
    "gpt-4": 8_192,
    "gpt-3.5-turbo": 16_385,
    "o1-mini": 128_000,
    "o1-preview": 128_000,
    "o1": 200_000,
    "o3": 200_000,
    "o4": 200_000,
    "claude": 200_000,
}

Message = dict[str, Any]


def encoding_name(model: str) -> str:
    """The tiktoken encoding used to count tokens for ``model``."""
    return "o200k_base" if canonical_model(model).startswith(_O200K_PREFIXES) else "cl100k_base"


def known_context_window(model: str) -> int | None:
    """The model's context window from the table (the longest matching prefix), or None."""
    name = canonical_model(model)
    matches = [prefix for prefix in _CONTEXT_WINDOWS if name.startswith(prefix)]
    return _CONTEXT_WINDOWS[max(matches, key=len)] if matches else None


def default_context_window(model: str) -> int:
    """The context window assumed when none is configured."""
    return known_context_window(model) or DEFAULT_CONTEXT_WINDOW


def budget_of(model: str, context_window: int | None, max_tokens: int | None) -> int:
    """Tokens the messages of a request may take: the window less the reply's tokens
    (``max_tokens``, else a quarter of the window up to 4096) and the reply priming."""
    window = context_window or default_context_window(model)
    reserve = max_tokens if max_tokens is not None else min(4096, window // 4)
    return window - reserve - REPLY_PRIMING


@functools.cache
def _load_encoding(name: str) -> Any:
    import binascii
    import gzip

    import tiktoken

    spec = json.loads((_DATA / "encodings.json").read_text(encoding="utf-8"))[name]
    data = gzip.decompress((_DATA / f"{name}.tiktoken.gz").read_bytes())
    if hashlib.sha256(data).hexdigest() != spec["sha256"]:
        raise ValueError(f"{name}.tiktoken does not match its sha256")
    fields = data.split()
    ranks = dict(zip(map(binascii.a2b_base64, fields[0::2]), map(int, fields[1::2]), strict=True))
    return tiktoken.Encoding(
        name, pat_str=spec["pat_str"], mergeable_ranks=ranks, special_tokens=spec["special_tokens"]
    )


def get_encoding(model: str) -> Any:
    """The (cached) tiktoken ``Encoding`` for ``model``; ``ContextOverflow`` if unavailable."""
    name = encoding_name(model)
    try:
        return _load_encoding(name)
    except Exception as err:  # any failure to load means we cannot count
        raise ContextOverflow(f"cannot count tokens: {name} unavailable ({err})") from err


def count_tokens(wire_messages: list[Message], model: str) -> int:
    """Tokens of an OpenAI-format request's messages, including the reply priming."""
    encoding = get_encoding(model)
    return REPLY_PRIMING + sum(_message_tokens(m, encoding) for m in wire_messages)


def message_tokens(message: Message, encoding: Any) -> int:
    """Tokens of one OpenAI-format message (its content, tool calls and other fields)."""
    return _message_tokens(message, encoding)


def _text_tokens(text: str, encoding: Any) -> int:
    return len(encoding.encode_ordinary(text))


def _message_tokens(message: Message, encoding: Any) -> int:
    total = PER_MESSAGE
    for key, value in message.items():
        if key == "content":
            total += _content_tokens(value, encoding)
        elif key == "tool_calls":
            total += sum(_tool_call_tokens(call, encoding) for call in value or [])
        elif isinstance(value, str):
            total += _text_tokens(value, encoding) + (PER_NAME if key == "name" else 0)
    return total


def _content_tokens(content: Any, encoding: Any) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        return _text_tokens(content, encoding)
    return sum(_part_tokens(part, encoding) for part in content)


def _part_tokens(part: Any, encoding: Any) -> int:
    if isinstance(part, dict) and part.get("type") == "text":
        return _text_tokens(str(part.get("text", "")), encoding)
    if isinstance(part, dict) and part.get("type") in ("image_url", "image", "input_image"):
        return IMAGE_TOKENS
    return _text_tokens(json.dumps(part), encoding)


def _tool_call_tokens(call: Any, encoding: Any) -> int:
    function = call.get("function", {}) if isinstance(call, dict) else {}
    texts = [str(call.get("id", "")), str(function.get("name", ""))]
    texts.append(str(function.get("arguments", "")))
    return PER_TOOL_CALL + sum(_text_tokens(text, encoding) for text in texts)


# -- fitting --------------------------------------------------------------------------------


class _ByteBound:
    """An "encoding" counting UTF-8 bytes: an upper bound of any BPE token count.

    Every BPE token stands for at least one byte, so a request whose byte bound fits the
    window fits for sure, and the ~100 MB tokenizer need not be loaded for it.
    """

    name = "bytes"

    @staticmethod
    def encode_ordinary(text: str) -> _ByteLength:
        return _ByteLength(text)

    def total(self, messages: Iterable[Message]) -> int:
        """The byte bound of a request's messages (the reply priming included)."""
        return REPLY_PRIMING + sum(_message_tokens(m, self) for m in messages)


class _ByteLength:
    """``len()`` of a text's UTF-8 form, without building it for ASCII text."""

    __slots__ = ("size",)

    def __init__(self, text: str) -> None:
        ascii_only = text.isascii()
        self.size = len(text) if ascii_only else len(text.encode("utf-8", "surrogatepass"))

    def __len__(self) -> int:
        return self.size


BYTE_BOUND = _ByteBound()
_BYTES = BYTE_BOUND


def fit_to_context(
    wire_messages: list[Message],
    *,
    model: str,
    context_window: int | None,
    max_tokens: int | None,
) -> list[Message]:
    """The messages, shortened so that their count plus the reply's tokens fits the window.

    Keeps the system message (first, if any) and the latest user message. Drops the oldest
    exchanges first (an assistant tool call always with its tool results), then elides the
    middle of the oldest long messages, then drops exchanges after the latest user message
    but the last one, and finally elides the latest user message. Raises ``ContextOverflow``
    if that is still not enough. The input list and its dicts are left unchanged.
    """
    window = context_window or default_context_window(model)
    reserve = max_tokens if max_tokens is not None else min(4096, window // 4)
    budget = budget_of(model, context_window, max_tokens)
    if sum(_message_tokens(m, _BYTES) for m in wire_messages) <= budget:
        return list(wire_messages)  # fits even if every byte were a token: no tokenizer needed
    fitter = _Fitter(wire_messages, get_encoding(model), budget)
    if fitter.over() > 0:
        fitter.shrink()
    if fitter.over() > 0:
        raise ContextOverflow(
            f"the conversation needs {fitter.total + REPLY_PRIMING + reserve} tokens with the "
            f"reply but the context window is {window}; shorten the message or raise "
            "context_window"
        )
    return fitter.result()


class _Fitter:
    """The bookkeeping of ``fit_to_context``: per-message counts, computed once."""

    def __init__(self, messages: list[Message], encoding: Any, budget: int) -> None:
        self.messages = list(messages)
        self.encoding = encoding
        self.budget = budget
        self.counts = [_message_tokens(m, encoding) for m in self.messages]
        self.kept = [True] * len(self.messages)
        self.total = sum(self.counts)
        self.first = 1 if self.messages and self.messages[0].get("role") == "system" else 0
        self.units = _units(self.messages, self.first)
        self.user = _latest_user(self.messages, self.first)

    def over(self) -> int:
        return self.total - self.budget

    def result(self) -> list[Message]:
        return [m for m, kept in zip(self.messages, self.kept, strict=True) if kept]

    def shrink(self) -> None:
        user = -1 if self.user is None else self.user
        user_unit = next((u for u in self.units if user in u), None)
        last = self.units[-1] if self.units else None
        before = [u for u in self.units if user_unit is None or u.stop <= user_unit.start]
        after = [u for u in self.units if user_unit is not None and u.start > user_unit.start]
        self._drop(u for u in before if u is not last)
        self._elide(i for i in range(self.first, len(self.messages)) if i != self.user)
        self._drop(u for u in after if u is not last)
        if self.user is not None:
            self._elide([self.user] * 3)

    def _drop(self, units: Iterable[range]) -> None:
        for unit in units:
            if self.over() <= 0:
                return
            for i in unit:
                if self.kept[i]:
                    self.kept[i] = False
                    self.total -= self.counts[i]

    def _elide(self, indexes: Iterable[int]) -> None:
        for i in indexes:
            if self.over() <= 0:
                return
            if not self.kept[i]:
                continue
            shorter = _elided(self.messages[i], self.over(), self.encoding)
            if shorter is not None:
                count = _message_tokens(shorter, self.encoding)
                self.messages[i], self.total = shorter, self.total - self.counts[i] + count
                self.counts[i] = count


def _units(messages: Sequence[Message], first: int) -> list[range]:
    """Index ranges that are dropped together: a message and the tool results after it."""
    starts = [i for i in range(first, len(messages)) if messages[i].get("role") != "tool"]
    if first < len(messages) and (not starts or starts[0] != first):
        starts.insert(0, first)
    bounds = [*starts, len(messages)]
    return [range(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]


def _latest_user(messages: Sequence[Message], first: int) -> int | None:
    for i in range(len(messages) - 1, first - 1, -1):
        if messages[i].get("role") == "user":
            return i
    return None


def _elided(message: Message, excess: int, encoding: Any) -> Message | None:
    """A copy of ``message`` with about ``excess`` fewer tokens of content, or None."""
    content = message.get("content")
    if isinstance(content, str):
        text = _elide_text(content, excess, encoding)
        return None if text is None else {**message, "content": text}
    if not isinstance(content, list):
        return None
    texts = [
        (len(p["text"]), n)
        for n, p in enumerate(content)
        if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
    ]
    if not texts:
        return None
    _, n = max(texts)
    text = _elide_text(content[n]["text"], excess, encoding)
    if text is None:
        return None
    parts = list(content)
    parts[n] = {**content[n], "text": text}
    return {**message, "content": parts}


def _elide_text(text: str, excess: int, encoding: Any) -> str | None:
    """``text`` with its middle replaced by a notice, about ``excess`` tokens shorter."""
    tokens = encoding.encode_ordinary(text)
    notice_cost = 16
    keep = max(MIN_KEPT_TOKENS, len(tokens) - excess - notice_cost)
    if keep + notice_cost >= len(tokens):
        return None
    head, tail = tokens[: (keep + 1) // 2], tokens[len(tokens) - keep // 2 :]
    notice = f"\n[... {len(tokens) - keep} tokens elided to fit the context window ...]\n"
    return str(encoding.decode(head)) + notice + str(encoding.decode(tail))
