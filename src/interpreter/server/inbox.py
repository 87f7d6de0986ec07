"""Assembles incoming LMC chunks (Open Interpreter 0.4.3's websocket framing) into messages.

``{"role": "user", "start": true}`` opens a message, content chunks fill it (a chunk of
another type or format starts a new message), ``{"role": "user", "end": true}`` closes
the batch: ``Inbox.feed`` then returns the messages received since the first start. A
chunk with content that arrives outside any start/end framing is a batch of its own.
"""

from __future__ import annotations

from typing import Any

#: A message as the client sent it (the route checks for commands; ``chat()`` normalizes).
Received = dict[str, Any]

FIELDS = ("role", "type", "format")
COMMAND_FIELDS = ("hash", "code", "conversation", "settings")  # a command's arguments


class InboxError(ValueError):
    """A chunk that cannot be part of a message."""


class Inbox:
    """Collects one batch of incoming messages at a time."""

    def __init__(self) -> None:
        self.open = False
        self.messages: list[Received] = []

    def feed(self, chunk: dict[str, Any]) -> list[Received] | None:
        """Adds a chunk; returns the finished batch on an ``end`` flag (or an unframed chunk)."""
        if chunk.get("start"):
            self.open = True
            self._new(chunk)
            return None
        if "content" in chunk:
            if not self.open:
                return [_clean(chunk)]
            self._add(chunk)
        if chunk.get("end"):
            return self._close()
        return None

    def _new(self, chunk: dict[str, Any]) -> None:
        message: Received = {k: chunk[k] for k in FIELDS if k in chunk}
        message.setdefault("role", "user")
        if "content" in chunk:
            message["content"] = chunk["content"]
        _add_arguments(message, chunk)
        self.messages.append(message)

    def _add(self, chunk: dict[str, Any]) -> None:
        last = self.messages[-1] if self.messages else None
        if last is None or _differs(last, chunk) or _is_final(last):
            self._new(chunk)
            return
        for key in FIELDS:
            if key in chunk:
                last.setdefault(key, chunk[key])
        _add_arguments(last, chunk)
        content = chunk["content"]
        if "content" not in last:
            last["content"] = content
        elif isinstance(last["content"], str) and isinstance(content, str):
            last["content"] += content
        else:
            raise InboxError("only text content can be streamed in pieces")

    def _close(self) -> list[Received]:
        batch = [_clean(m) for m in self.messages if "content" in m]
        self.open = False
        self.messages = []
        return batch


def _add_arguments(message: Received, chunk: dict[str, Any]) -> None:
    if message.get("type") == "command" or chunk.get("type") == "command":
        message.update({k: chunk[k] for k in COMMAND_FIELDS if k in chunk})


def _differs(message: Received, chunk: dict[str, Any]) -> bool:
    return any(key in message and key in chunk and message[key] != chunk[key] for key in FIELDS)


def _is_final(message: Received) -> bool:
    return "content" in message and not isinstance(message["content"], str)


def _clean(chunk: dict[str, Any]) -> Received:
    message: Received = {k: v for k, v in chunk.items() if k not in ("start", "end")}
    message.setdefault("role", "user")
    message.setdefault("type", "message")
    return message
