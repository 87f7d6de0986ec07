"""Fitting a conversation to the context window without defeating prompt caching.

Providers cache the longest prefix a request shares with an earlier one (OpenAI and
Anthropic bill cached prompt tokens at a fraction of the price, local servers reuse their
KV cache). Dropping the oldest exchange on every request moves the start of the prompt each
time, so nothing is ever reused. :func:`fit_stable` instead cuts rarely and keeps the cut:

- While the request fits, it is sent whole (after the cut, if there is one).
- When it would not fit, the cut moves forward to a user message (a tool call is never
  split from its results) so that what is left fills at most :data:`LOW_WATER` of the
  room; one marker says how many earlier messages were left out (at the start of the
  first user message kept, so that roles still alternate). The messages
  after the cut, and so the prompt's prefix, stay the same on the following requests
  until the cut has to move again.
- A cut past the latest user message keeps that message (the task) right after the marker.
- Only when even the newest exchange does not fit are long messages elided in the middle
  (``tokens.fit_to_context``); that part is not stable.

The cut lives in a :class:`ContextState`, one per conversation (``Llm`` keeps it; a new
conversation, or a changed one such as after a summary, starts uncut). Token counts are
kept per message content in :class:`TokenCounts`, so a long conversation is counted once,
not on every request.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from .tokens import (
    BYTE_BOUND,
    REPLY_PRIMING,
    Message,
    budget_of,
    fit_to_context,
    get_encoding,
    message_tokens,
)

__all__ = ["LOW_WATER", "ContextState", "TokenCounts", "fit_stable", "omitted_marker"]

LOW_WATER = 0.7
"""After a cut, the messages fill at most this share of the room (window minus reply)."""


def omitted_marker(count: int) -> Message:
    """The one message that stands for the ``count`` messages before the cut."""
    return {
        "role": "user",
        "content": f"[{count} earlier messages were omitted here to fit the context window.]",
    }


def message_key(message: Message) -> Hashable:
    """What a message's token count depends on, as a dict key (cheap: no JSON)."""
    content = message.get("content")
    if isinstance(content, list):
        content = tuple(_part_key(part) for part in content)
    calls = message.get("tool_calls")
    call_key = tuple(_call_key(call) for call in calls) if calls else None
    return (
        message.get("role"),
        content,
        call_key,
        message.get("tool_call_id"),
        message.get("name"),
    )


def _part_key(part: Any) -> Hashable:
    if not isinstance(part, dict):
        return str(part)
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    return (part.get("type"), part.get("text"), str(url) if url is not None else None)


def _call_key(call: Any) -> Hashable:
    function = call.get("function") or {} if isinstance(call, dict) else {}
    return (call.get("id"), function.get("name"), function.get("arguments"))


class TokenCounts:
    """Token counts of messages, remembered by content and encoding (bounded)."""

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._counts: dict[tuple[str, Hashable], int] = {}

    def count(self, message: Message, encoding: Any) -> int:
        key = (str(getattr(encoding, "name", "")), message_key(message))
        found = self._counts.get(key)
        if found is None:
            if len(self._counts) >= self.limit:
                self._counts.clear()
            found = self._counts[key] = message_tokens(message, encoding)
        return found

    def total(self, messages: Sequence[Message], encoding: Any) -> int:
        """Tokens of a request with these messages (the reply priming included)."""
        return REPLY_PRIMING + sum(self.count(m, encoding) for m in messages)


@dataclass
class ContextState:
    """Where one conversation is cut: ``cut`` messages after the system message are left
    out (``pin``: the user message kept after the marker, an index before the cut).
    ``anchor`` / ``pin_key`` recognise those messages on the next request; when they
    differ the conversation changed and the state starts over. ``moves`` counts cuts."""

    cut: int = 0
    pin: int | None = None
    anchor: Hashable = None
    pin_key: Hashable = None
    moves: int = 0

    def reset(self) -> None:
        self.cut, self.pin, self.anchor, self.pin_key = 0, None, None, None

    def check(self, body: Sequence[Message]) -> None:
        """Start over when the messages at the cut are not the ones cut at."""
        if self.cut == 0:
            return
        moved = self.cut >= len(body) or message_key(body[self.cut]) != self.anchor
        if moved or (self.pin is not None and message_key(body[self.pin]) != self.pin_key):
            self.reset()

    def move(self, body: Sequence[Message], cut: int) -> None:
        self.cut = cut
        self.anchor = message_key(body[cut])
        self.pin = _pin_for(body, cut)
        self.pin_key = message_key(body[self.pin]) if self.pin is not None else None
        self.moves += 1

    def view(self, system: list[Message], body: Sequence[Message]) -> list[Message]:
        """The request: system message, marker, pinned message, messages after the cut
        (the marker joined to a user message that follows it: roles keep alternating)."""
        if self.cut == 0:
            return [*system, *body]
        kept = ([body[self.pin]] if self.pin is not None else []) + list(body[self.cut :])
        omitted = self.cut - (1 if self.pin is not None else 0)
        return [*system, *_with_marker(omitted, kept)]


def _with_marker(omitted: int, kept: list[Message]) -> list[Message]:
    marker = omitted_marker(omitted)
    first = kept[0] if kept else None
    if first is None or first.get("role") != "user":
        return [marker, *kept]
    content = first.get("content")
    if isinstance(content, str):
        return [{**first, "content": f"{marker['content']}\n\n{content}"}, *kept[1:]]
    if isinstance(content, list):
        part = {"type": "text", "text": marker["content"]}
        return [{**first, "content": [part, *content]}, *kept[1:]]
    return [marker, *kept]


def _pin_for(body: Sequence[Message], cut: int) -> int | None:
    """The latest user message, when the cut is past it (no user message after the cut)."""
    if any(m.get("role") == "user" for m in body[cut:]):
        return None
    for i in range(cut - 1, -1, -1):
        if body[i].get("role") == "user":
            return i
    return None


def fit_stable(
    wire: list[Message],
    *,
    model: str,
    context_window: int | None,
    max_tokens: int | None,
    state: ContextState,
    counts: TokenCounts,
) -> list[Message]:
    """The request to send for ``wire`` (system message first): cut as ``state`` says, the
    cut moved forward when the request would not fit (see the module docstring)."""
    budget = budget_of(model, context_window, max_tokens) + REPLY_PRIMING  # totals count it
    system, body = (wire[:1], wire[1:]) if wire and wire[0].get("role") == "system" else ([], wire)
    state.check(body)
    request = state.view(system, body)
    if BYTE_BOUND.total(request) <= budget:
        return request  # fits even if every byte were a token: no tokenizer needed
    encoding = get_encoding(model)
    if counts.total(request, encoding) <= budget:
        return request
    fixed = counts.total([*system, omitted_marker(len(body))], encoding)
    sizes = [counts.count(m, encoding) for m in body]
    cut = choose_cut(body, sizes, state.cut, target=int(LOW_WATER * budget) - fixed)
    if cut is not None:
        state.move(body, cut)
        request = state.view(system, body)
    if counts.total(request, encoding) <= budget:
        return request
    return fit_to_context(
        request, model=model, context_window=context_window, max_tokens=max_tokens
    )


def choose_cut(
    body: Sequence[Message], sizes: Sequence[int], start: int, *, target: int
) -> int | None:
    """The first cut after ``start`` leaving at most ``target`` tokens: at a user message
    if one does, else at the start of an exchange (never a tool result), else the last
    possible one. None when there is nowhere to cut."""
    left = [0] * (len(body) + 1)  # left[i]: tokens of body[i:]
    for i in range(len(body) - 1, -1, -1):
        left[i] = left[i + 1] + sizes[i]
    users = [i for i in range(start + 1, len(body)) if body[i].get("role") == "user"]
    for i in users:
        if left[i] <= target:
            return i
    # past the latest user message, which is then kept (pinned) and counts too
    last_user = max((i for i in range(len(body)) if body[i].get("role") == "user"), default=-1)
    pinned = sizes[last_user] if last_user >= 0 else 0
    first = max(start, last_user) + 1
    steps = [i for i in range(first, len(body)) if body[i].get("role") != "tool"]
    for i in steps:
        if left[i] + pinned <= target:
            return i
    return users[-1] if users else (steps[-1] if steps else None)
