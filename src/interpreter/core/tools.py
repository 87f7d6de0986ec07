"""Tools beside ``execute``: what else the model may call, and how a call is approved and run.

A tool (the ``Tool`` protocol) has a ``name``, a ``schema()`` (the OpenAI function entry
the model is offered), ``view(arguments)`` (what the user approves) and
``run(arguments)`` (what happens: computer chunks, console output and images, as code
produces). ``interpreter.tools`` (a ``Tools``) holds the tools of one interpreter.

A call is stored as an assistant ``code`` message, so that conversation files still load
in Open Interpreter 0.4.3: its ``format`` and ``content`` are the view's (code that does
what the call does, e.g. ``computer.files.edit(...)`` in Python), plus our own
``tool: {"name", "arguments"}`` and the provider's ``call_id``. Function-calling models
see the tool call again; text-only models see the code. Approval works as for code: the
confirmation shows the view (and its ``diff`` or ``notes``), allow rules match the view's
``rule``, and code edited at the prompt runs as code (in the view's language) instead of
the call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..lmc import Chunk

__all__ = ["Tool", "ToolError", "ToolView", "Tools"]


class ToolError(Exception):
    """A call that cannot be run as asked; ``str()`` is one line for the model (and user)."""


@dataclass(frozen=True)
class ToolView:
    """What the user is shown and asked about for one call.

    ``format`` / ``content``: the call as code (stored in the conversation; code the user
    edits at the prompt runs in ``format``). ``rule``: the (language, command) that allow
    rules (``permissions``) match. ``notes``: lines shown before the question (a server's
    hints, what is touched). ``diff``: a unified diff to show instead of the code.
    """

    format: str
    content: str
    rule: tuple[str, str]
    notes: tuple[str, ...] = ()
    diff: str | None = None


@runtime_checkable
class Tool(Protocol):
    """One tool the model may call."""

    @property
    def name(self) -> str: ...

    def schema(self) -> dict[str, Any]:
        """The OpenAI tools entry: ``{"type": "function", "function": {name, ...}}``."""
        ...

    def view(self, arguments: Mapping[str, Any]) -> ToolView:
        """What approving this call means; raises ``ToolError`` for arguments that
        cannot work (told to the model, nothing runs)."""
        ...

    def run(self, arguments: Mapping[str, Any]) -> Iterator[Chunk]:
        """Carry out an approved call: ``computer`` chunks (console output, images)."""
        ...


@dataclass
class Tools:
    """The tools of one interpreter, by name (``execute`` is always there, built in)."""

    _tools: dict[str, Tool] = field(default_factory=dict)

    def add(self, tool: Tool) -> None:
        """Offer ``tool`` (replacing one of the same name)."""
        if tool.name == "execute":
            raise ValueError("'execute' is built in and cannot be replaced")
        self._tools[tool.name] = tool

    def remove(self, name: str) -> None:
        self._tools.pop(name, None)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        """The OpenAI tools entries of every tool, in the order they were added."""
        return [tool.schema() for tool in self._tools.values()]

    def __iter__(self) -> Iterator[Tool]:
        return iter(list(self._tools.values()))

    def __len__(self) -> int:
        return len(self._tools)
