"""Headless runs: ``interpreter -p TASK`` (or ``--prompt``, or ``--output-format`` with
the task as words or on standard input) runs one task without a terminal and exits.

Output (``--output-format``): ``text`` prints the answer (the last assistant message);
``json`` prints one result object; ``stream-json`` prints one JSON object per line: an
``init`` event at once, the LMC chunks as they stream, a ``usage`` event after each model
request, a ``confirmation`` event for each approval that was needed (and declined), and a
``result`` event last. The schema is ``docs/stream-json.schema.json`` (README: Headless).

Nothing is asked: code runs only with ``-y`` (auto_run) or an allow rule; code that needs
an approval is declined (the model is told) and the run exits 3. Exit codes come from
``interpreter.stop_reason``: see :data:`EXIT_CODES`; 2 is a usage error. Standard output
carries only the output format; notes go to standard error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from .args import UsageError

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter
    from ..lmc import Chunk, Message, Stream

__all__ = ["EXIT_CODES", "StartFailed", "is_headless", "run_headless"]

#: Exit code of each ``stop_reason`` (core/turn.py ``STOP_REASONS``).
EXIT_CODES = {"done": 0, "error": 1, "declined": 3, "budget": 4, "max_turns": 5,
              "interrupted": 130}  # fmt: skip
EXIT_USAGE = 2
NO_WAY_TO_ASK = (
    "approval needed, and a headless run cannot ask: use -y (auto_run) or an allow rule "
    "(permissions) to let code run"
)


class StartFailed(Exception):
    """The interpreter could not be set up as asked: ``str()`` is one line; ``code`` the
    exit code (2 for a bad profile or flag, 1 for a model that cannot be reached)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def is_headless(args: argparse.Namespace) -> bool:
    """Whether the command line asks for a headless run."""
    return bool(args.prompt is not None or args.output_format or args.json)


def output_format(args: argparse.Namespace) -> str:
    return str(args.output_format or ("stream-json" if args.json else "text"))


# -- what is printed ----------------------------------------------------------------------


@dataclass
class Report:
    """What the result event says; filled in while the task runs."""

    stop_reason: str = "error"
    exit_code: int = 1
    error: str | None = None
    declined: list[dict[str, Any]] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)


class Printer:
    """Writes the chosen output format to ``out`` (standard output)."""

    def __init__(self, fmt: str, out: IO[str]) -> None:
        self.fmt, self.out = fmt, out
        self.streaming = fmt == "stream-json"

    def event(self, event: dict[str, Any]) -> None:
        """One line of stream-json (nothing in the other formats)."""
        if self.streaming:
            self._line(event)

    def _line(self, value: Any) -> None:
        self.out.write(json.dumps(value) + "\n")
        self.out.flush()

    def result(self, event: dict[str, Any], report: Report) -> None:
        if self.fmt == "json":
            self._line({**event, "messages": report.messages})
        elif self.streaming:
            self._line(event)
        elif event["result"]:
            from .sanitize import escape_controls

            self.out.write(escape_controls(str(event["result"])).rstrip("\n") + "\n")
            self.out.flush()
        _notes(report)


def _notes(report: Report) -> None:
    from .sanitize import escape_controls

    for item in report.declined:
        _note(f"code was not run ({item['reason']})")
    if report.error:
        _note(escape_controls(report.error))


def _note(text: str) -> None:
    sys.stderr.write(f"interpreter: {text}\n")
    sys.stderr.flush()


def init_event(args: argparse.Namespace) -> dict[str, Any]:
    from .. import __version__

    return {"type": "init", "version": __version__, "cwd": os.getcwd(),
            "output_format": output_format(args), "resume": args.resume,
            "pid": os.getpid()}  # fmt: skip


# -- the task -----------------------------------------------------------------------------


def _piped_stdin(args: argparse.Namespace) -> str:
    """Standard input when it is piped in or a file (never a terminal, nor /dev/null)."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return ""
    if args.stdin or stat.S_ISFIFO(mode) or stat.S_ISREG(mode):
        return sys.stdin.read().strip()
    return ""


def read_task(args: argparse.Namespace) -> str:
    """The task: ``-p``/``--prompt``, else the bare words; piped input is added below it."""
    given = " ".join(t for t in (args.prompt, args.message) if t).strip()
    piped = _piped_stdin(args)
    task = f"{given}\n\n{piped}" if given and piped else (given or piped)
    if not task:
        raise UsageError("no task: give one with -p TASK, as words, or on standard input")
    return task


# -- running ------------------------------------------------------------------------------


def run_headless(args: argparse.Namespace, prepare: Callable[[], OpenInterpreter]) -> int:
    """Run the task; the exit code. ``prepare`` builds the interpreter (profile, flags,
    ``--resume``, ``--notebook``) and raises :class:`StartFailed` when it cannot."""
    printer = Printer(output_format(args), sys.stdout)
    printer.event(init_event(args))
    report = Report()
    interp: OpenInterpreter | None = None
    try:
        task = read_task(args)
        interp = prepare()
    except (UsageError, StartFailed) as err:
        report.error = str(err)
        report.exit_code = err.code if isinstance(err, StartFailed) else EXIT_USAGE
    else:
        _run_task(interp, task, printer, report)
    printer.result(result_event(interp, report), report)
    return report.exit_code


def _run_task(interp: OpenInterpreter, task: str, printer: Printer, report: Report) -> None:
    from ..llm.errors import ModelError

    start = len(interp.messages) + 1
    usage = _UsageWatch(interp, printer)
    with _StopOnSigint(interp):
        stream = interp.chat(task, display=False, stream=True)
        try:
            _drive(stream, printer, report, usage)
        except ModelError as err:
            report.error = str(err) or type(err).__name__
        except KeyboardInterrupt:
            stream.close()
            interp.stop_reason = "interrupted"
    usage.check()
    report.messages = interp.messages[start:]
    report.stop_reason = interp.stop_reason or "error"
    report.exit_code = EXIT_CODES.get(report.stop_reason, 1)


def _drive(stream: Stream, printer: Printer, report: Report, usage: _UsageWatch) -> None:
    decision: bool | None = None
    while True:
        try:
            chunk = stream.send(decision)
        except StopIteration:
            return
        decision = None
        if chunk.get("type") == "confirmation":
            decision = False
            printer.event(_declined(chunk, report))
        else:
            printer.event(dict(chunk))
        usage.check()


def _declined(chunk: Chunk, report: Report) -> dict[str, Any]:
    content = chunk.get("content") or {}
    report.declined.append(
        {
            "language": content.get("format"),
            "code": content.get("content"),
            "reason": NO_WAY_TO_ASK,
        }  # fmt: skip
    )
    return {**chunk, "decision": "declined", "reason": NO_WAY_TO_ASK}


class _UsageWatch:
    """Emits a ``usage`` event each time the ledger has counted another request."""

    def __init__(self, interp: OpenInterpreter, printer: Printer) -> None:
        self.interp, self.printer = interp, printer
        self.seen = interp.usage.total.as_dict()

    def check(self) -> None:
        total = self.interp.usage.total.as_dict()
        if total["requests"] == self.seen["requests"]:
            return
        request = {k: total[k] - self.seen[k] for k in _COUNTS}
        request["cost"] = round(request["cost"], 10)
        self.seen = total
        self.printer.event(
            {
                "type": "usage",
                "model": self.interp.llm.model,
                "request": request,
                "turn": self.interp.usage.turn.as_dict(),
                "total": total,
            }  # fmt: skip
        )


_COUNTS = ("prompt_tokens", "completion_tokens", "cached_tokens", "cost")


class _StopOnSigint:
    """Ctrl-C (SIGINT): the first stops the task (the conversation is kept), the second
    abandons it."""

    def __init__(self, interp: OpenInterpreter) -> None:
        self.interp, self.count = interp, 0
        self.old: Any = None

    def __enter__(self) -> _StopOnSigint:
        import threading

        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)

    def _handle(self, signum: int, frame: object) -> None:
        self.count += 1
        if self.count > 1:
            raise KeyboardInterrupt
        self.interp.stop()


def _answer(messages: list[Message]) -> str:
    for message in reversed(messages):
        if message["role"] == "assistant" and message["type"] == "message":
            return str(message["content"])
    return ""


def result_event(interp: OpenInterpreter | None, report: Report) -> dict[str, Any]:
    """The last event: how the task ended, its answer, where it was saved, its usage."""
    from ..llm.usage import TokenUsage

    conversation = notebook = None
    turn = total = TokenUsage().as_dict()
    if interp is not None:
        name = interp.conversation_filename if interp.conversation_history else None
        conversation = name[: -len(".json")] if name and name.endswith(".json") else name
        live = interp.live_notebook
        notebook = str(live) if live is not None else None
        turn, total = interp.usage.turn.as_dict(), interp.usage.total.as_dict()
    return {"type": "result", "stop_reason": report.stop_reason, "exit_code": report.exit_code,
            "result": _answer(report.messages), "error": report.error,
            "declined": report.declined, "conversation": conversation, "notebook": notebook,
            "usage": {"turn": turn, "total": total}}  # fmt: skip
