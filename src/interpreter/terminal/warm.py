"""Getting ready while the user types: once the first prompt is on screen, a background
thread loads what the first reply needs (the renderer, the model client and its HTTP
client, ``Llm.prepare``), then starts the Python kernel (``Computer.prepare``), so that
neither the first answer nor the first code run waits for them. (Started together, the
kernel start slowed a message sent at once by about 0.1 s; in this order it does not.)

Only the interactive terminal does this; nothing is sent anywhere (a model server on
this machine may be asked for its context window). The kernel is started only when
Python is one of the computer's languages and runs on this machine; like any kernel it
is stopped at exit, and it stops by itself when this process is killed (ipykernel
watches its parent).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter

__all__ = ["warm_up", "wants_kernel"]


def warm_up(interp: OpenInterpreter) -> None:
    """Start the background work (returns at once): what the first reply needs first, then
    the kernel (its start in this process would slow down a message sent at once)."""

    def work() -> None:
        with contextlib.suppress(Exception):  # best effort: the real use reports problems
            _load(interp)
        if wants_kernel(interp):
            interp.computer.prepare("python")

    _thread(work, "interpreter-warm-up")


def wants_kernel(interp: OpenInterpreter) -> bool:
    """Whether to start the Python kernel ahead: Python is offered, locally."""
    computer = interp.computer
    return computer.get_language("python") is not None and not computer.kernel_gateway


def _load(interp: OpenInterpreter) -> None:
    interp.llm.prepare()
    from rich.console import Console  # noqa: F401
    from rich.panel import Panel  # noqa: F401
    from rich.syntax import Syntax  # noqa: F401

    from . import blocks, markdown  # noqa: F401
    from .theme import Theme

    Theme(None).code().lexer("python").get_tokens("x = 1")


def _thread(work: Callable[[], object], name: str) -> None:
    def run() -> None:
        with contextlib.suppress(Exception):  # best effort: the real use reports problems
            work()

    threading.Thread(target=run, name=name, daemon=True).start()
