"""The interactive start: the prompt first, the interpreter behind it.

Building the interpreter (the core, the computer's languages, the model client) costs
more than showing the prompt, and nothing needs it before the first message. So an
interactive ``interpreter`` reads and checks the profile (a broken one is still an error
before the prompt, with exit code 2), shows the prompt, and builds the interpreter in a
background thread while the user types; then ``warm.py`` gets the first reply and the
first code run ready. A Python profile (it runs code) or a sandbox that must be checked
first are built before the prompt, as are all the other modes (a message on the command
line, ``--conversations``, ``--local``, pipes).
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter
    from .session import TerminalUI

__all__ = ["Later", "HINT", "can_prompt_first", "prompt_first"]

HINT = "Type a message, %help for commands, Ctrl-D or exit to quit."
T = TypeVar("T")


class Later(Generic[T]):
    """A value made by ``make()`` in a background thread once ``start()`` is called;
    ``result()`` waits for it (starting it if need be) and raises what ``make`` raised."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._started = False
        self._value: T | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._run, name="interpreter-build", daemon=True).start()

    def result(self) -> T:
        self.start()
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value

    def _run(self) -> None:
        try:
            self._value = self._make()
        except BaseException as err:  # handed to result()
            self._error = err
        finally:
            self._done.set()


def can_prompt_first(args: argparse.Namespace) -> bool:
    """Whether this command line is a plain interactive chat on a terminal."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return False
    modes = (
        "message", "stdin", "json", "server", "ui", "conversations", "local", "profiles",
        "resume", "notebook", "mcp_server",
    )  # fmt: skip
    return not any(getattr(args, name, None) for name in modes)


def prompt_first(args: argparse.Namespace) -> int:
    """The interactive chat with the prompt shown before the interpreter is built; the exit
    code. Raises ``ProfileError`` for a broken profile (before any prompt)."""
    from ..settings import setting
    from ..store.paths import config_dir
    from .input import InputReader
    from .settings import build_interpreter, profile_settings

    settings = profile_settings(args)
    path, merged = settings
    build: Later[OpenInterpreter] = Later(lambda: build_interpreter(args, settings))
    if _build_first(path, merged):
        build.result()
    session = _Session(build)
    reader = InputReader(
        config_dir() / "history",
        on_ready=session.start,
        multi_line=bool(merged.get("multi_line", setting("multi_line").default)),
    )
    _say(HINT)
    from .loop import prompt_loop

    return prompt_loop(reader, session.get, _turn)


def _turn(interp: OpenInterpreter, text: str, ui: TerminalUI) -> int:
    from .display import turn_and_report

    return turn_and_report(interp, text, ui)


def _build_first(path: Path, merged: dict[str, Any]) -> bool:
    """A Python profile runs code, and a sandbox may be unavailable: both before the prompt."""
    computer = merged.get("computer")
    sandbox = isinstance(computer, dict) and bool(computer.get("sandbox"))
    return path.suffix.lower() == ".py" or sandbox


class _Session:
    """The interpreter being built and, once it is, its terminal UI (warmed up once)."""

    def __init__(self, build: Later[OpenInterpreter]) -> None:
        self.build = build
        self._ui: tuple[OpenInterpreter, TerminalUI] | None = None

    def start(self) -> None:
        """The prompt is on screen: build the interpreter, then warm up."""
        self.build.start()
        threading.Thread(target=self._warm, name="interpreter-warm-up", daemon=True).start()

    def get(self) -> tuple[OpenInterpreter, TerminalUI]:
        if self._ui is None:
            from .display import make_ui

            interp = self.build.result()
            self._ui = (interp, make_ui(interp))
        return self._ui

    def _warm(self) -> None:
        from .warm import warm_up

        try:
            interp = self.build.result()
        except BaseException:  # reported when the first message needs the interpreter
            return
        warm_up(interp)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
