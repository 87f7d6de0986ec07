"""The typed events every Model yields, whatever its wire format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TextDelta:
    """A piece of the assistant's Markdown message."""

    text: str


@dataclass(frozen=True)
class CodeStart:
    """The model starts writing code in ``language`` (lower-cased, as the model named it)."""

    language: str


@dataclass(frozen=True)
class CodeDelta:
    """A piece of the code being written (after a CodeStart)."""

    text: str


@dataclass(frozen=True)
class CodeEnd:
    """The code block is complete.

    ``code`` is the whole, final code (authoritative: what runs). ``error`` is set when
    the block must not run (tool-call JSON that does not parse, a missing argument);
    the core then reports ``error`` back to the model instead of running anything.
    ``call_id`` is the provider's tool-call id, when there was one; ``extra`` the
    provider's own fields of the call (kept on the code message, sent back with it).
    """

    language: str
    code: str
    error: str | None = None
    call_id: str | None = None
    extra: dict[str, Any] | None = None


@dataclass(frozen=True)
class ToolStart:
    """The model starts calling ``name``, a tool other than ``execute``."""

    name: str
    call_id: str | None = None


@dataclass(frozen=True)
class ToolEnd:
    """A complete call of a tool other than ``execute``.

    ``arguments`` is the parsed JSON object (None when it is not one); ``raw`` is what the
    model sent. ``error`` is set when the call must not run (arguments that are not a JSON
    object, a tool that was never offered); the core then reports it to the model.
    ``call_id`` and ``extra`` as for ``CodeEnd``.
    """

    name: str
    arguments: dict[str, Any] | None
    raw: str
    error: str | None = None
    call_id: str | None = None
    extra: dict[str, Any] | None = None


@dataclass(frozen=True)
class Usage:
    """Tokens used by one request, and its cost in USD where known. ``cached_tokens``: the
    prompt tokens the provider read from its cache (part of ``prompt_tokens``)."""

    prompt_tokens: int
    completion_tokens: int
    cost: float | None = None
    cached_tokens: int = 0


@dataclass(frozen=True)
class Notice:
    """A one-line note for the user about the request (an assumed context window, ...);
    it comes before the reply and is never sent to the model."""

    text: str


Event = TextDelta | CodeStart | CodeDelta | CodeEnd | ToolStart | ToolEnd | Usage | Notice
