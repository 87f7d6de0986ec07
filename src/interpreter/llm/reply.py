"""A streamed reply, from provider pieces to events.

Text of a text-only model goes through ``FenceParser`` (code in Markdown fences); text of
a function-calling model is passed on. Tool calls: each call is kept apart by its index
and its id, and keeps its own id and the provider's fields (``extra``). Another index
starts a new call; so does another id, even at the same index (Ollama numbers every call
0); without an index (Gemini), a piece naming a function while the call has its name
starts one too. A piece with neither id nor name continues the call (more arguments, or
Gemini's ``extra_content`` alone).
``execute`` calls stream their code through ``ToolCallDecoder``; calls of the other tools
offered (``tool_names``) are collected and end as one ``ToolEnd``; a call of a tool that
was never offered ends as a ``ToolEnd`` with an error, so it is reported, never run.
Nothing is closed unless the stream completed (``close``).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .events import CodeEnd, Event, TextDelta, ToolEnd, ToolStart
from .wire import Piece, TextPiece, ToolPiece, UsagePiece

if TYPE_CHECKING:
    from .fences import FenceParser
    from .tools import ToolCallDecoder

__all__ = ["EXECUTE", "ReplyDecoder"]

EXECUTE = "execute"


class _Call:
    """One tool call as it streams in."""

    def __init__(self, piece: ToolPiece, tool_names: Collection[str]) -> None:
        self.index = piece.index
        self.call_id: str | None = None
        self.name: str | None = None
        self.extra: dict[str, Any] = {}
        self.tool_names = tool_names
        self.parts: list[str] = []
        self.decoder: ToolCallDecoder | None = None
        self.announced = False

    def continues(self, piece: ToolPiece) -> bool:
        """Whether ``piece`` belongs to this call (see the module docstring)."""
        if piece.index is not None and self.index is not None and piece.index != self.index:
            return False
        if piece.call_id and self.call_id and piece.call_id != self.call_id:
            return False
        if piece.index is None and piece.name and self.name:
            # no index: a function named again is the next call, unless the id says otherwise
            return bool(piece.call_id) and piece.call_id == self.call_id
        return True

    def feed(self, piece: ToolPiece) -> list[Event]:
        self.index = self.index if piece.index is None else piece.index
        self.call_id = self.call_id or piece.call_id or None
        self.name = self.name or piece.name or None
        if piece.extra:
            self.extra.update(piece.extra)
        self.parts.append(piece.arguments)
        if self.name in (None, EXECUTE):
            return self._code_decoder().feed(piece.arguments)
        if self.announced:
            return []
        self.announced = True
        return [ToolStart(self.name, self.call_id)]

    def close(self) -> list[Event]:
        extra = self.extra or None
        if self.name in (None, EXECUTE):
            events = self._code_decoder().close()
            return [
                replace(e, call_id=self.call_id, extra=extra) if isinstance(e, CodeEnd) else e
                for e in events
            ]
        assert self.name is not None
        start: list[Event] = [] if self.announced else [ToolStart(self.name, self.call_id)]
        return [*start, self._end(self.name, "".join(self.parts))]

    def _end(self, name: str, raw: str) -> ToolEnd:
        if name not in self.tool_names:
            offered = ", ".join([EXECUTE, *sorted(self.tool_names)])
            error = f"there is no tool named {name!r}; the tools are: {offered}"
            return ToolEnd(name, None, raw, error, self.call_id, self.extra or None)
        try:
            value = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as err:
            error = f"the tool call's arguments are not valid JSON: {err}"
            return ToolEnd(name, None, raw, error, self.call_id, self.extra or None)
        if not isinstance(value, dict):
            error = f"the tool call's arguments must be a JSON object, not {type(value).__name__}"
            return ToolEnd(name, None, raw, error, self.call_id, self.extra or None)
        return ToolEnd(name, value, raw, None, self.call_id, self.extra or None)

    def _code_decoder(self) -> ToolCallDecoder:
        if self.decoder is None:
            from .tools import ToolCallDecoder

            # Any language passes here: the computer knows the aliases (bash, js, ...) and
            # reports an unknown language to the model itself.
            self.decoder = ToolCallDecoder()
        return self.decoder


class ReplyDecoder:
    """Provider pieces in, events out; ``usage`` and ``text()`` once it has run."""

    def __init__(self, functions: bool, tool_names: Collection[str] = ()) -> None:
        self.fences: FenceParser | None = None
        if not functions:
            from .fences import FenceParser

            self.fences = FenceParser()
        self.tool_names = frozenset(tool_names)
        self.call: _Call | None = None
        self.usage: UsagePiece | None = None
        self.parts: list[str] = []

    def feed(self, piece: Piece) -> list[Event]:
        if isinstance(piece, TextPiece):
            self.parts.append(piece.text)
            return self.fences.feed(piece.text) if self.fences else [TextDelta(piece.text)]
        if isinstance(piece, ToolPiece):
            self.parts.append(piece.arguments)
            events: list[Event] = []
            if self.call is not None and not self.call.continues(piece):
                events = self._end_call()
            if self.call is None:
                self.call = _Call(piece, self.tool_names)
            return events + self.call.feed(piece)
        self.usage = piece
        return []

    def close(self) -> list[Event]:
        events = self.fences.close() if self.fences else []
        return events + self._end_call()

    def _end_call(self) -> list[Event]:
        if self.call is None:
            return []
        call, self.call = self.call, None
        return call.close()

    def text(self) -> str:
        return "".join(self.parts)
