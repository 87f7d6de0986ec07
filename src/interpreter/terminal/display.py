"""The terminal front end: :func:`display_chat` (one message) and :func:`interactive_chat`
(the prompt loop of the ``interpreter`` command). :class:`TerminalDisplay` offers both as
the core's display (``core/display.py``): the package root registers it, so
``chat(display=True)`` shows the chat here."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .session import DECLINED_HINT, PYTHON_DECLINED_HINT, TerminalUI, TurnResult, run_turn

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter
    from ..lmc import ChatInput

__all__ = [
    "TerminalDisplay",
    "chat_loop",
    "display_chat",
    "interactive_chat",
    "make_ui",
    "replay",
    "turn_and_report",
]


class _LazyRich:
    """The rich console and renderer, created on first use (rich is not imported before
    the prompt is shown)."""

    def __init__(self, plain: bool, highlight: bool) -> None:
        self.plain, self.highlight = plain, highlight
        self._console: Any = None
        self._renderer: Any = None

    def console(self) -> Any:
        if self._console is None:
            from .render import make_console

            self._console = make_console(plain=self.plain)
        return self._console

    def renderer(self) -> Any:
        if self._renderer is None:
            from .render import RichRenderer

            self._renderer = RichRenderer(self.console(), highlight_active_line=self.highlight)
        return self._renderer

    def feed(self, chunk: dict[str, Any]) -> None:
        self.renderer().feed(chunk)

    def progress(self, event: Any) -> None:
        self.renderer().progress(event)

    def pause(self) -> None:
        if self._renderer is not None:
            self._renderer.pause()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()

    def say(self, text: str) -> None:
        from rich.text import Text

        from .sanitize import escape_controls

        self.console().print(Text(escape_controls(text)))

    def show_code(self, language: str, code: str) -> None:
        from .render import code_panel

        self.console().print(code_panel(language, code))

    def status(self, text: str) -> None:
        """A dim line (the usage after a turn)."""
        from rich.text import Text

        from .sanitize import escape_controls

        self.console().print(Text(escape_controls(text), style="dim"))


def make_ui(
    interp: OpenInterpreter, *, json_lines: bool = False, declined_hint: str = DECLINED_HINT
) -> TerminalUI:
    """A TerminalUI on stdout: rich on a terminal, plain text for pipes and ``--plain``;
    with ``json_lines`` only JSON goes to stdout (messages go to stderr). Without a
    terminal to ask, code is declined with ``declined_hint`` (the command's words by
    default)."""
    from .render import PlainRenderer

    plain = bool(getattr(interp, "plain_text_display", False))
    rich = _LazyRich(plain, bool(getattr(interp, "highlight_active_line", True)))
    to_terminal = sys.stdout.isatty() and not json_lines
    renderer: Any = rich if to_terminal and not plain else PlainRenderer(_writer(), _note(interp))
    return TerminalUI(
        renderer=renderer,
        say=rich.say if to_terminal else (_error if json_lines else _plain_say),
        error=_error,
        show_code=rich.show_code if to_terminal else None,
        can_ask=sys.stdin.isatty(),
        json_lines=json_lines,
        declined_hint=declined_hint,
        status=rich.status if to_terminal else None,
    )


def _writer() -> Any:
    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    return write


def _note(interp: OpenInterpreter) -> Any:
    """A status line on stderr (a retry), unless verbose output already says it."""

    def note(text: str) -> None:
        if not (interp.llm.verbose or interp.llm.debug):
            _error(text)

    return note


def _plain_say(text: str) -> None:
    from .sanitize import escape_controls

    print(escape_controls(text), flush=True)


def _error(text: str) -> None:
    from .sanitize import escape_controls

    sys.stdout.flush()
    print(escape_controls(text), file=sys.stderr, flush=True)


SETUP_HELP = """\
Set up a model in any one of these ways:
  export OPENAI_API_KEY=sk-...      OpenAI (ANTHROPIC_API_KEY for claude-* models, ...)
  interpreter --api_base http://localhost:11434/v1 --model llama3.1
                                    any OpenAI-compatible server (Ollama, LM Studio, vLLM)
  interpreter --local               find a model server running on this machine
  interpreter --profiles            set llm.model / llm.api_key / llm.api_base in default.yaml"""


def report(result: TurnResult, ui: TerminalUI) -> None:
    """Tell the user how a turn ended, when it did not simply finish."""
    if result.error:
        ui.error(result.error)
        if result.no_model:
            ui.error(SETUP_HELP)
    elif result.interrupted:
        ui.say("Stopped. The conversation is kept; type your next message.")


def display_chat(interp: OpenInterpreter, message: ChatInput) -> None:
    """Show the reply to ``message`` in the terminal, asking before code runs (without a
    terminal, ``approval_callback`` decides)."""
    ui = make_ui(interp, declined_hint=PYTHON_DECLINED_HINT)
    report(run_turn(interp, message, ui), ui)


def replay(interp: OpenInterpreter, ui: TerminalUI) -> None:
    """Show the stored messages (a resumed conversation) as they were streamed."""
    for message in interp.messages:
        if message.get("type") not in ("message", "code", "console"):
            continue
        head = {k: v for k, v in message.items() if k != "content"}
        ui.renderer.feed({**head, "start": True})
        ui.renderer.feed(message)
        ui.renderer.feed({**head, "end": True})
    ui.renderer.close()


def chat_loop(interp: OpenInterpreter, ui: TerminalUI, first: str | None = None) -> int:
    """The prompt loop; returns the exit code (0, or 1 when the last turn failed)."""
    from ..store.paths import config_dir
    from .input import InputReader
    from .warm import warm_up

    reader = InputReader(
        config_dir() / "history",
        on_ready=lambda: warm_up(interp),
        multi_line=bool(interp.multi_line),
    )
    from .loop import prompt_loop

    return prompt_loop(reader, lambda: (interp, ui), turn_and_report, first)


def turn_and_report(interp: OpenInterpreter, text: str, ui: TerminalUI) -> int:
    """Run one message, say how it ended; 1 when it failed, else 0."""
    result = run_turn(interp, text, ui)
    report(result, ui)
    return 1 if result.error else 0


def interactive_chat(interp: OpenInterpreter) -> None:
    """The interactive chat of ``chat()`` from Python, on this terminal."""
    chat_loop(interp, make_ui(interp, declined_hint=PYTHON_DECLINED_HINT))


class TerminalDisplay:
    """The terminal as the display of ``chat(display=True)`` (a ``core.display.Display``)."""

    def show_chat(self, interp: OpenInterpreter, message: ChatInput) -> None:
        display_chat(interp, message)

    def interactive_chat(self, interp: OpenInterpreter) -> None:
        interactive_chat(interp)
