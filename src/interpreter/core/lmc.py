"""LMC messages: Open Interpreter's one message model, as plain dicts.

A message is ``{"role", "type", "format"?, "content"}``; streamed chunks carry
``start``/``end`` flags. Plain dicts keep user code that edits ``messages`` working.
"""

from __future__ import annotations

from typing import Any

Message = dict[str, Any]
Chunk = dict[str, Any]

ROLES = frozenset({"user", "assistant", "computer", "system"})
STREAM_ONLY_FORMATS = frozenset({"active_line"})


class MessageError(ValueError):
    """An incoming message that cannot be understood."""


def normalize(message: Any) -> Message:
    """Return a clean copy of an incoming message.

    Accepts a str (a user message), or a dict where ``"message"`` is an alias of
    ``"content"`` (as the seed's two-agent example writes it); ``role`` defaults to
    ``"user"`` and ``type`` to ``"message"``.
    """
    if isinstance(message, str):
        return {"role": "user", "type": "message", "content": message}
    if not isinstance(message, dict):
        raise MessageError(f"a message must be a str or a dict, not {type(message).__name__}")
    out: Message = {k: v for k, v in message.items() if k not in ("start", "end")}
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
    return out


def normalize_all(messages: Any) -> list[Message]:
    if not isinstance(messages, list):
        raise MessageError("messages must be a list")
    return [normalize(m) for m in messages]


def same_block(a: Chunk, b: Chunk) -> bool:
    """Whether two chunks belong to the same framed block (console ignores format)."""
    if a.get("role") != b.get("role") or a.get("type") != b.get("type"):
        return False
    return a.get("type") == "console" or a.get("format") == b.get("format")
