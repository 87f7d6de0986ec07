"""Where ``chat(display=True)`` shows a chat: the front end registered as the display.

The core imports no front end. A front end implements :class:`Display` and registers it
with :func:`register_display`; the package root registers the terminal (lazily: nothing
of it is imported before the first ``chat(display=True)``). Another front end, or a test,
may register its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from ..lmc import ChatInput

__all__ = ["Display", "NoDisplay", "default_display", "register_display"]

Interp = TypeVar("Interp", contravariant=True)


class Display(Protocol[Interp]):
    """A front end that shows chats (``Interp`` is the interpreter type it drives)."""

    def show_chat(self, interp: Interp, message: ChatInput) -> None:
        """Show the reply to ``message`` (appended to the conversation by the display's
        ``chat(stream=True)``), asking before code runs."""

    def interactive_chat(self, interp: Interp) -> None:
        """The interactive chat: read messages and show the replies until the user quits."""


class NoDisplay(RuntimeError):
    """``chat(display=True)`` with no display registered."""


_factory: Callable[[], Display[Any]] | None = None
_display: Display[Any] | None = None


def register_display(
    factory: Callable[[], Display[Any]],
) -> Callable[[], Display[Any]] | None:
    """Make the display that ``factory()`` returns (called once, when first needed) the
    one ``chat(display=True)`` uses; returns the factory registered before (to restore)."""
    global _display, _factory
    previous = _factory
    _display, _factory = None, factory
    return previous


def default_display() -> Display[Any]:
    """The registered display (made on first use)."""
    global _display
    if _display is None:
        if _factory is None:
            raise NoDisplay("no display is registered: use chat(display=False)")
        _display = _factory()
    return _display
