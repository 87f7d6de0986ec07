"""LMC messages: Open Interpreter's one message model, typed, as plain dicts.

A stored message is ``{"role", "type", "format"?, "content", "recipient"?}``: one of the
kinds below (``TextMessage``, ``CodeMessage``, ...), together ``Message``. Streamed
chunks (``Chunk``) carry the same keys, or only ``start``/``end`` flags. The types are
``TypedDict``s, so at run time every message is a plain dict and user code that edits
``interpreter.messages`` keeps working. A consumer of ``chat(stream=True)`` answers a
``confirmation`` chunk with a ``Decision``.

This module is the bottom layer: it imports nothing of the package, and every layer
(store, llm, execution, core, the front ends) may import it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import Any, Literal, NotRequired, TypeAlias, TypedDict, cast

__all__ = [
    "ROLES",
    "STREAM_ONLY_FORMATS",
    "Stream",
    "ApprovalCallback",
    "Approval",
    "ChatInput",
    "Chunk",
    "CodeMessage",
    "ConfirmationContent",
    "ConsoleMessage",
    "Decision",
    "FileMessage",
    "ImageMessage",
    "Message",
    "MessageError",
    "Recipient",
    "TextMessage",
    "ToolCallInfo",
    "normalize",
    "normalize_all",
    "same_block",
]

Recipient: TypeAlias = Literal["user", "assistant"]


class TextMessage(TypedDict):
    """Markdown text from the user or the model (or a system message). ``summary``: a
    summary of the messages before it (core/compaction.py), sent in their place."""

    role: Literal["user", "assistant", "system"]
    type: Literal["message"]
    content: str
    format: NotRequired[str]
    recipient: NotRequired[Recipient]
    summary: NotRequired[bool]


class ToolCallInfo(TypedDict):
    """A call of a tool other than ``execute`` (core/tools.py): its name and arguments."""

    name: str
    arguments: dict[str, Any]


class CodeMessage(TypedDict):
    """Code the model wrote (``format`` is the language), or rich output the computer
    shows (role ``computer``, format ``html`` / ``javascript``).

    Our own optional keys (Open Interpreter 0.4.3 ignores them): ``call_id``, the
    provider's id of the tool call; ``extra``, the provider's own fields of that call,
    sent back with it (Gemini's ``extra_content`` with its thought signature); ``tool``,
    set when the model called a tool other than ``execute`` (the content is then code
    doing what the call does)."""

    role: Literal["assistant", "computer"]
    type: Literal["code"]
    format: str
    content: str
    recipient: NotRequired[Recipient]
    call_id: NotRequired[str]
    extra: NotRequired[dict[str, Any]]
    tool: NotRequired[ToolCallInfo]


class ConsoleMessage(TypedDict):
    """What a program printed (errors included)."""

    role: Literal["computer"]
    type: Literal["console"]
    format: Literal["output"]
    content: str
    recipient: NotRequired[Recipient]


class ImageMessage(TypedDict):
    """An image: ``format`` is ``base64.png``, ``base64.jpeg``, ... or ``path``."""

    role: Literal["user", "computer"]
    type: Literal["image"]
    format: str
    content: str
    recipient: NotRequired[Recipient]


class FileMessage(TypedDict):
    """A file given to the model (``format`` ``path``)."""

    role: Literal["user"]
    type: Literal["file"]
    format: str
    content: str
    recipient: NotRequired[Recipient]


#: A message as stored in ``messages`` (and in conversation files).
Message: TypeAlias = TextMessage | CodeMessage | ConsoleMessage | ImageMessage | FileMessage


class Chunk(TypedDict, total=False):
    """One streamed piece: a message's keys with part of its content, or a ``start`` /
    ``end`` flag. Streamed-only kinds: console ``active_line`` (content an int, or None
    when the code ends) and ``confirmation`` (content a ``ConfirmationContent``)."""

    role: str
    type: str
    format: str
    content: Any
    recipient: str
    start: bool
    end: bool


class ConfirmationContent(TypedDict):
    """The content of a ``confirmation`` chunk: the code waiting for approval.

    ``hash`` identifies the code shown; with ``safe_mode`` on, ``findings`` and ``note``
    say what the scan found. For a tool call, ``tool`` names it, ``rule`` is the
    [language, command] an "always allow" answer allows, ``notes`` are lines to show before
    the question and ``diff`` (a unified diff) is shown with the code."""

    type: Literal["code"]
    format: str
    content: str
    hash: NotRequired[str]
    findings: NotRequired[list[str]]
    note: NotRequired[str | None]
    tool: NotRequired[ToolCallInfo]
    rule: NotRequired[list[str]]
    notes: NotRequired[list[str]]
    diff: NotRequired[str]


class Approval(TypedDict, total=False):
    """The long form of a decision: ``approve`` (default True), ``always`` (also allow
    this command from now on, for the session) and ``hash`` (the hash of the code the
    user saw; a different one declines: the code changed)."""

    approve: bool
    always: bool
    hash: str


#: The answer to a ``confirmation`` chunk (``gen.send(decision)``, ``approval_callback``):
#: True runs the code shown, False declines, a str runs that edited code instead.
Decision: TypeAlias = bool | str | Approval

#: What ``chat(stream=True)`` returns: chunks out, decisions in (``gen.send(decision)``
#: after a ``confirmation`` chunk; ``next()`` sends None).
Stream: TypeAlias = Generator[Chunk, "Decision | None", None]

#: ``approval_callback(language, code)``: asked when a stream consumer sent no decision.
ApprovalCallback: TypeAlias = Callable[[str, str], "Decision | None"]

#: What ``chat()`` accepts: a user message as text, one message (a mapping; ``role``
#: defaults to user), or a whole list of messages (it replaces ``messages``).
ChatInput: TypeAlias = str | Mapping[str, Any] | list[Any]

ROLES = frozenset({"user", "assistant", "computer", "system"})
STREAM_ONLY_FORMATS = frozenset({"active_line"})


class MessageError(ValueError):
    """An incoming message that cannot be understood."""


def normalize(message: object) -> Message:
    """Return a clean copy of an incoming message.

    Accepts a str (a user message), or a mapping where ``"message"`` is an alias of
    ``"content"`` (as the seed's two-agent example writes it); ``role`` defaults to
    ``"user"`` and ``type`` to ``"message"``.
    """
    if isinstance(message, str):
        return {"role": "user", "type": "message", "content": message}
    if not isinstance(message, Mapping):
        raise MessageError(f"a message must be a str or a dict, not {type(message).__name__}")
    out: dict[str, Any] = {k: v for k, v in message.items() if k not in ("start", "end")}
    if "content" not in out and "message" in out:
        out["content"] = out.pop("message")
    elif "message" in out and out.get("type") != "message":
        out.pop("message")
    out.setdefault("role", "user")
    out.setdefault("type", "message")
    if out["role"] not in ROLES:
        raise MessageError(f"unknown message role {out['role']!r}")
    if "content" not in out:
        raise MessageError("a message needs a 'content'")
    if out["type"] == "message" and not isinstance(out["content"], str):
        out["content"] = str(out["content"])
    return cast(Message, out)


def normalize_all(messages: object) -> list[Message]:
    if not isinstance(messages, list):
        raise MessageError("messages must be a list")
    return [normalize(m) for m in messages]


def same_block(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two chunks belong to the same framed block (console ignores format)."""
    if a.get("role") != b.get("role") or a.get("type") != b.get("type"):
        return False
    return a.get("type") == "console" or a.get("format") == b.get("format")
