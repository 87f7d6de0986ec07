"""Parts of an interpreter that live in layers above the core (``interp.mcp``: MCP servers).

The core imports nothing above it. A part implements :class:`Extension` and the package
root registers a factory for it by name (:func:`register_extension`, as the terminal is
registered as the display); each interpreter makes its own on first use
(``interp.extension(name)``). Before each turn the interpreter asks every registered
part to get ready (``before_turn``: one-line notices for the user come back, shown at the
start of the reply), adds each part's ``system_notes`` to the system message, and passes
``stop()`` on. A part must be cheap to make: it loads what it needs when it is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Extension", "factories", "register_extension"]


class Extension(Protocol):
    """One part of an interpreter above the core."""

    def before_turn(self) -> list[str]:
        """Ready what the next turn needs; one-line notices for the user (may be none)."""
        ...

    def system_notes(self) -> list[str]:
        """Lines added to the system message (what the model must know; may be none)."""
        ...

    def stop(self) -> None:
        """``interpreter.stop()``: end whatever this part is waiting for."""
        ...


_factories: dict[str, Callable[[Any], Extension]] = {}


def register_extension(
    name: str, factory: Callable[[Any], Extension]
) -> Callable[[Any], Extension] | None:
    """Make ``factory(interp)`` each interpreter's part ``name``; returns the factory
    registered before under that name (to restore)."""
    previous = _factories.get(name)
    _factories[name] = factory
    return previous


def factories() -> dict[str, Callable[[Any], Extension]]:
    """The registered factories, by name."""
    return dict(_factories)
