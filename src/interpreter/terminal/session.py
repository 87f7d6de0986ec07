"""One turn in the terminal: drive ``chat(stream=True)``, render it, ask before code runs.

Ctrl-C during a turn asks the interpreter to stop (the running code is interrupted and
the reply ends); the conversation so far is kept. A second Ctrl-C abandons the turn.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

from ..lmc import ChatInput, Chunk, Decision, Stream
from .approve import ask_approval
from .render import ChunkRenderer

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter

__all__ = ["TurnResult", "TerminalUI", "run_turn", "DECLINED_HINT", "PYTHON_DECLINED_HINT"]

#: Said (on stderr) when code is declined because nobody can be asked: the command's words.
DECLINED_HINT = "Code was not run: there is no terminal to ask for approval. Use -y to allow it."
#: The same for ``chat(display=True)`` from Python: the Python surface's words.
PYTHON_DECLINED_HINT = (
    "Code was not run: there is no terminal to ask for approval. Set interpreter.auto_run"
    " = True, or an interpreter.approval_callback, to allow it."
)


@dataclass
class TurnResult:
    """How a turn ended: ``error`` is a one-line model error; ``interrupted`` by Ctrl-C."""

    error: str | None = None
    no_model: bool = False
    interrupted: bool = False
    #: code declined because nobody could be asked (no terminal, no callback)
    declined: int = 0


@dataclass
class TerminalUI:
    """The pieces a turn talks to: a renderer, a printer and an approval policy."""

    renderer: ChunkRenderer
    say: Callable[[str], None]
    error: Callable[[str], None] = field(default=lambda text: print(text, file=sys.stderr))
    show_code: Callable[[str, str], None] | None = None
    can_ask: bool = True
    json_lines: bool = False
    ask: Callable[[str], str] = field(default=input)
    #: what to say when code is declined because ``can_ask`` is false
    declined_hint: str = DECLINED_HINT
    #: Shows the dim usage line after a turn (None: not shown, e.g. in pipes).
    status: Callable[[str], None] | None = None


class _CtrlC:
    """Ctrl-C while a turn runs: the first stops the interpreter, the second raises."""

    def __init__(self, interp: OpenInterpreter) -> None:
        self.interp = interp
        self.count = 0
        self._old: Any = None

    def __enter__(self) -> _CtrlC:
        if _main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
            self._old = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count > 1:
            raise KeyboardInterrupt
        self.interp.stop()

    def paused(self) -> _Paused:
        return _Paused(self)


class _Paused:
    """Default Ctrl-C behaviour (KeyboardInterrupt) while the user is asked something."""

    def __init__(self, owner: _CtrlC) -> None:
        self.owner = owner

    def __enter__(self) -> None:
        if self.owner._old is not None:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def __exit__(self, *exc: object) -> None:
        if self.owner._old is not None:
            signal.signal(signal.SIGINT, self.owner._handle)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _decide(chunk: Chunk, ui: TerminalUI, ctrl_c: _CtrlC, result: TurnResult) -> Decision | None:
    content = chunk.get("content") or {}
    language, code = str(content.get("format", "")), str(content.get("content", ""))
    if not ui.can_ask:
        if ctrl_c.interp.approval_callback is not None:
            return None  # the core asks the callback
        result.declined += 1
        ui.error(ui.declined_hint)
        return False
    _show_call(content, ui)
    try:
        with ctrl_c.paused():
            decision = ask_approval(
                language,
                code,
                ask=ui.ask,
                say=ui.say,
                show_code=ui.show_code,
                findings=[str(f) for f in content.get("findings") or ()],
            )
    except KeyboardInterrupt:
        ctrl_c.count += 1
        ctrl_c.interp.stop()
        return False
    if isinstance(decision, dict) and decision.get("always"):
        rule = content.get("rule")  # a tool call's (language, command)
        if isinstance(rule, list | tuple) and len(rule) == 2:
            language, code = str(rule[0]), str(rule[1])
        _save_rule(ctrl_c.interp, language, code, ui)
    return decision


def _show_call(content: Mapping[str, Any], ui: TerminalUI) -> None:
    """A tool call's notes, and its diff (file edits), before the question."""
    for note in content.get("notes") or ():
        ui.say(f"  {note}")
    diff = content.get("diff")
    if isinstance(diff, str) and diff and ui.show_code is not None:
        ui.show_code("diff", diff)


def _save_rule(interp: OpenInterpreter, language: str, code: str, ui: TerminalUI) -> None:
    """``a``: the core keeps the rule for this session; the profile the session was started
    with keeps it for the next (YAML profiles only; the core never writes profiles)."""
    profile = interp.profile_path
    if profile is None:
        return
    from ..core.permissions import rule_for
    from ..store.profile_edit import save_allow_rule

    rule = rule_for(language, code)
    if rule is None:
        ui.say("  Allowed this once: only one simple command can be always allowed.")
    else:
        ui.say(f"  {save_allow_rule(profile, rule)}")


def _show(chunk: Chunk, ui: TerminalUI) -> None:
    if ui.json_lines:
        sys.stdout.write(json.dumps(chunk) + "\n")
        sys.stdout.flush()
    else:
        ui.renderer.feed(chunk)


def _drive(stream: Stream, ui: TerminalUI, ctrl_c: _CtrlC, result: TurnResult) -> None:
    decision: Decision | None = None
    while True:
        chunk = stream.send(decision)
        decision = None
        _show(chunk, ui)
        if chunk.get("type") == "confirmation":
            ui.renderer.pause()
            decision = _decide(chunk, ui, ctrl_c, result)


def run_turn(interp: OpenInterpreter, message: ChatInput | None, ui: TerminalUI) -> TurnResult:
    """Send ``message`` (None: continue the conversation) and show the reply until the
    task is done, declined, interrupted or fails."""
    from ..llm.errors import ModelError, NoModelConfigured

    result = TurnResult()
    stream = interp.chat(message, display=False, stream=True)
    listening, interp.llm.progress = interp.llm.progress, ui.renderer.progress
    with _CtrlC(interp) as ctrl_c:
        try:
            _drive(stream, ui, ctrl_c, result)
        except StopIteration:
            pass
        except ModelError as err:
            result.error = str(err) or type(err).__name__
            result.no_model = isinstance(err, NoModelConfigured)
        except KeyboardInterrupt:
            stream.close()
        finally:
            interp.llm.progress = listening
            ui.renderer.close()
        result.interrupted = ctrl_c.count > 0
    if ui.status is not None and interp.usage.turn.requests:
        ui.status(interp.usage.status_line())
    return result
