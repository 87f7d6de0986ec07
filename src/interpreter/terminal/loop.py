"""The prompt loop: read a message, run it (or a magic command), until the input ends."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter
    from .input import InputReader
    from .session import TerminalUI

__all__ = ["EXIT_WORDS", "RunTurn", "prompt_loop"]

EXIT_WORDS = frozenset({"exit", "quit", "exit()", "quit()"})
#: Runs one message as a turn and reports how it ended; the exit code it makes.
RunTurn = Callable[["OpenInterpreter", str, "TerminalUI"], int]


def prompt_loop(
    reader: InputReader,
    session: Callable[[], tuple[OpenInterpreter, TerminalUI]],
    turn: RunTurn,
    first: str | None = None,
) -> int:
    """Read messages and run them until the input ends; the exit code. ``session`` gives
    the interpreter and its UI (it may still be building when the prompt first shows:
    the first message waits for it)."""
    status = 0
    if first:
        interp, ui = session()
        status = turn(interp, first, ui)
    while True:
        try:
            text = reader.read()
        except KeyboardInterrupt:
            print("(Ctrl-D or exit to quit)", flush=True)
            continue
        if text is None or text.strip().lower() in EXIT_WORDS:
            return status
        if not text.strip():
            continue
        interp, ui = session()
        if text.lstrip().startswith("%"):
            _magic(interp, ui, text)
            continue
        status = turn(interp, text, ui)


def _magic(interp: OpenInterpreter, ui: TerminalUI, text: str) -> None:
    from .magic import MagicContext, run_magic

    run_magic(MagicContext(interp, ui.say, ui.renderer.feed, ui.ask, ui.show_code), text)
    ui.renderer.close()
