"""Reading the user's messages: prompt_toolkit with history on a terminal, lines otherwise.

Multi-line input: paste it (bracketed paste keeps the newlines), or (with ``multi_line``,
the default) open a block with a line starting with triple quotes or backticks and close
it with a line ending with them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["InputReader", "BLOCK_MARKERS"]

BLOCK_MARKERS = ('"""', "```")
PROMPT = "> "
CONTINUATION = ". "


class InputReader:
    """Reads one message at a time; ``read()`` returns None at end of input (Ctrl-D)."""

    def __init__(
        self,
        history_file: Path | None,
        *,
        interactive: bool | None = None,
        on_ready: Callable[[], None] | None = None,
        multi_line: bool = True,
    ) -> None:
        self.interactive = sys.stdin.isatty() if interactive is None else interactive
        self.history_file = history_file
        self.on_ready = on_ready  # called once, when the first prompt is on screen
        self.multi_line = multi_line  # blocks between """ (or ```) lines
        self._session: Any = None

    def read(self) -> str | None:
        """The next message (maybe several lines), or None when input ended.

        Raises KeyboardInterrupt when the user presses Ctrl-C at the prompt.
        """
        line = self._line(PROMPT)
        if line is None:
            return None
        markers = BLOCK_MARKERS if self.multi_line else ()
        marker = next((m for m in markers if line.lstrip().startswith(m)), None)
        if marker is None or "\n" in line:
            return line
        return self._block(line, marker)

    def _block(self, first: str, marker: str) -> str | None:
        body = first.lstrip()[len(marker) :]
        if body.rstrip().endswith(marker) and body.strip():
            return body.rstrip()[: -len(marker)].strip()
        lines = [body] if body.strip() else []
        while True:
            line = self._line(CONTINUATION)
            if line is None:
                break
            if line.rstrip().endswith(marker):
                lines.append(line.rstrip()[: -len(marker)])
                break
            lines.append(line)
        return "\n".join(lines).strip("\n")

    def _line(self, prompt: str) -> str | None:
        if not self.interactive:
            if self.on_ready is not None:
                ready, self.on_ready = self.on_ready, None
                ready()
            return _read_stdin_line()
        try:
            text: str = self._prompt()(prompt)
        except EOFError:
            return None
        return text

    def _prompt(self) -> Callable[[str], str]:
        if self._session is None:
            self._session = _make_session(self.history_file)
        session = self._session

        def ask(prompt: str) -> str:
            ready, self.on_ready = self.on_ready, None
            hook = _after_first_render(session, ready) if ready is not None else None
            return str(session.prompt(prompt, pre_run=hook))

        return ask


def _after_first_render(session: Any, ready: Callable[[], None]) -> Callable[[], None]:
    """A ``pre_run`` hook that calls ``ready`` once the prompt was drawn (work started
    before would slow down the first drawing)."""

    def hook() -> None:
        app = session.app

        def fire(_: object) -> None:
            app.after_render.remove_handler(fire)
            ready()

        app.after_render.add_handler(fire)

    return hook


def _read_stdin_line() -> str | None:
    line = sys.stdin.readline()
    if not line:
        return None
    return line.rstrip("\n")


def _make_session(history_file: Path | None) -> Any:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    history: Any = InMemoryHistory()
    if history_file is not None:
        try:
            from ..store.paths import ensure_dir

            ensure_dir(history_file.parent)
            history_file.touch(mode=0o600, exist_ok=True)
            history = FileHistory(str(history_file))
        except OSError:
            pass
    return PromptSession(history=history, enable_history_search=False)
