"""The terminal front end: :func:`display_chat` (one message) and :func:`interactive_chat`
(the prompt loop of the ``interpreter`` command). ``chat(display=True)`` calls these."""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

from .session import TerminalUI, TurnResult, run_turn

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter

__all__ = ["display_chat", "interactive_chat", "make_ui", "replay", "chat_loop"]

EXIT_WORDS = frozenset({"exit", "quit", "exit()", "quit()"})


def make_ui(interp: OpenInterpreter, *, json_lines: bool = False) -> TerminalUI:
    """A TerminalUI on stdout: rich on a terminal, plain text for pipes and ``--plain``."""
    from .render import PlainRenderer, RichRenderer, code_panel, make_console

    plain = bool(getattr(interp, "plain_text_display", False))
    interactive = sys.stdin.isatty()
    console = make_console(plain=plain)
    say = _sayer(console) if sys.stdout.isatty() else _plain_say
    if plain or json_lines or not sys.stdout.isatty():
        renderer: Any = PlainRenderer(_writer())
    else:
        renderer = RichRenderer(
            console, highlight_active_line=bool(getattr(interp, "highlight_active_line", True))
        )
    return TerminalUI(
        renderer=renderer,
        say=say,
        error=_error,
        show_code=lambda language, code: console.print(code_panel(language, code)),
        can_ask=interactive,
        json_lines=json_lines,
    )


def _writer() -> Any:
    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    return write


def _plain_say(text: str) -> None:
    from .sanitize import escape_controls

    print(escape_controls(text), flush=True)


def _error(text: str) -> None:
    from .sanitize import escape_controls

    sys.stdout.flush()
    print(escape_controls(text), file=sys.stderr, flush=True)


def _sayer(console: Any) -> Any:
    from rich.text import Text

    from .sanitize import escape_controls

    def say(text: str) -> None:
        console.print(Text(escape_controls(text)))

    return say


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


def display_chat(interp: OpenInterpreter, message: Any) -> None:
    """Show the reply to ``message`` in the terminal, asking before code runs."""
    ui = make_ui(interp)
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


def warm_up(interp: OpenInterpreter) -> None:
    """Load the heavy parts (HTTP client, renderer, model client) while the user types."""

    def work() -> None:
        try:
            import rich.markdown  # noqa: F401
            import rich.syntax  # noqa: F401

            warm = getattr(interp.llm, "warm_up", None)
            if callable(warm):
                warm()
        except Exception:  # warming up is best effort; the real call reports errors
            pass

    threading.Thread(target=work, name="interpreter-warm-up", daemon=True).start()


def chat_loop(interp: OpenInterpreter, ui: TerminalUI, first: str | None = None) -> int:
    """The prompt loop; returns the exit code (0, or 1 when the last turn failed)."""
    from ..store.paths import config_dir
    from .input import InputReader
    from .magic import MagicContext, is_magic, run_magic

    reader = InputReader(config_dir() / "history")
    magic = MagicContext(interp, ui.say, ui.renderer.feed)
    status = 0
    if first:
        status = _turn(interp, first, ui)
    while True:
        try:
            text = reader.read()
        except KeyboardInterrupt:
            ui.say("(Ctrl-D or exit to quit)")
            continue
        if text is None or text.strip().lower() in EXIT_WORDS:
            return status
        if not text.strip():
            continue
        if is_magic(text):
            run_magic(magic, text)
            ui.renderer.close()
            continue
        status = _turn(interp, text, ui)


def _turn(interp: OpenInterpreter, text: str | None, ui: TerminalUI) -> int:
    result = run_turn(interp, text, ui)
    report(result, ui)
    return 1 if result.error else 0


def interactive_chat(interp: OpenInterpreter) -> None:
    """The interactive chat of the ``interpreter`` command, on this terminal."""
    ui = make_ui(interp)
    warm_up(interp)
    chat_loop(interp, ui)
