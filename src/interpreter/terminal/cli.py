"""The ``interpreter`` command.

A task given on the command line (bare words, or standard input that is not a terminal)
runs once and the command exits; ``-i`` / ``--interactive`` stays in the chat after it.
Without a task, in a terminal, the interactive chat starts.

Exit codes: 0 done, 1 model or provider error, 2 usage error (bad flag, bad profile),
3 declined: code was not run because nobody could approve it (no terminal and no ``-y``),
or ``--reset_profile`` was not confirmed; 130 interrupted. Headless runs (``-p TASK``,
``--output-format``: terminal/headless.py) add 4 budget exceeded and 5 turn limit. Only
argparse is imported before the prompt needs more.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from .args import NOT_GIVEN, UsageError, parse_args

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter
    from .session import TerminalUI

__all__ = ["main", "run"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_DECLINED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class SetupError(Exception):
    """The model cannot be reached as asked (exit code 1); ``str()`` says what to do."""


def _error(message: str) -> None:
    sys.stderr.write(f"interpreter: {message}\n")
    sys.stderr.flush()


def _show_warnings() -> None:
    """The library's warnings (an unknown profile key, ...) as ``interpreter: warning:``
    lines on stderr."""
    import logging

    class StderrLines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            _error(f"warning: {record.getMessage()}")

    logger = logging.getLogger("interpreter")
    if not any(type(h).__name__ == "StderrLines" for h in logger.handlers):
        logger.addHandler(StderrLines(logging.WARNING))
        logger.propagate = False


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point."""
    sys.exit(run(sys.argv[1:] if argv is None else argv))


def run(argv: Sequence[str]) -> int:
    """Run the command line ``argv``; return the exit code."""
    try:
        args = parse_args(argv)
    except UsageError as err:
        _error(f"{err} (see interpreter --help)")
        return EXIT_USAGE
    if args.version:
        from .. import __version__

        print(f"interpreter {__version__}")
        return EXIT_OK
    try:
        if args.export_notebook:
            from .resume import export_command

            return export_command(*args.export_notebook)
        if _is_headless(args):
            return _headless(args)
        _show_warnings()
        return _dispatch(args)
    except UsageError as err:
        _error(str(err))
        return EXIT_USAGE
    except SetupError as err:
        _error(str(err))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _prepare_config() -> None:
    from ..store.paths import migrate_old_config
    from ..store.profiles import ensure_default_profile

    for old in migrate_old_config():  # from "Open Interpreter" folders of older releases
        print(f"Copied {old} into the new config folder.", file=sys.stderr)
    ensure_default_profile()  # the first run writes default.yaml with commented defaults


def _dispatch(args: argparse.Namespace) -> int:
    from ..store.profiles import ProfileError

    _prepare_config()
    if args.profiles or args.local_models:
        return _open_folders(args)
    if args.reset_profile != NOT_GIVEN:
        return _reset_profile(args.reset_profile, confirmed=bool(args.auto_run))
    from .startup import can_prompt_first, prompt_first

    try:
        if can_prompt_first(args):
            return prompt_first(args)  # the prompt before the interpreter (startup.py)
        interp = _interpreter(args)
    except ProfileError as err:
        _error(str(err))
        return EXIT_USAGE
    if args.mcp_server:
        return _serve_mcp(interp, str(args.mcp_server))
    if args.server or args.ui:
        return _serve(interp, ui=bool(args.ui), server_mode=bool(args.server))
    _open_requested(interp, args)
    return _chat(interp, args)


def _is_headless(args: argparse.Namespace) -> bool:
    from .headless import is_headless

    return is_headless(args)


def _headless(args: argparse.Namespace) -> int:
    """``-p TASK`` / ``--output-format``: one task, no terminal (terminal/headless.py)."""
    from .headless import StartFailed, run_headless

    def prepare() -> OpenInterpreter:
        from ..store.profiles import ProfileError

        _show_warnings()
        try:
            _prepare_config()
            interp = _interpreter(args)
            _open_requested(interp, args)
        except (ProfileError, UsageError) as err:
            raise StartFailed(str(err), EXIT_USAGE) from None
        except SetupError as err:
            raise StartFailed(str(err), EXIT_ERROR) from None
        return interp

    return run_headless(args, prepare)


def _open_requested(interp: OpenInterpreter, args: argparse.Namespace) -> None:
    """--resume and --notebook (terminal/resume.py)."""
    if args.resume or args.notebook:
        from .resume import open_requested

        said = open_requested(interp, args)
        if said:
            _note(said)


def _interpreter(args: argparse.Namespace) -> OpenInterpreter:
    from .settings import build_interpreter

    interp = build_interpreter(args)
    if args.local:
        _use_local_model(interp, args)
    return interp


def _note(line: str) -> None:
    """A status line on stderr (stdout stays the conversation's, pure in --json mode)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _use_local_model(interp: OpenInterpreter, args: argparse.Namespace) -> None:
    """--local: the given model on the first local server, or the one the user picks (saved
    in the profile)."""
    from ..llm.gguf import is_gguf
    from .local import NO_LOCAL_SERVER, choose_local_model, find_local_server

    if args.model is not None:
        if is_gguf(args.model):
            return
        server = find_local_server()
        if server is None:
            raise SetupError(NO_LOCAL_SERVER)
        interp.llm.api_base = server.api_base
        _note(f"Using {interp.llm.model} on {server.name} ({server.api_base}).")
        return
    choice = choose_local_model(_note, current=(interp.llm.model, interp.llm.api_base))
    if choice is None:
        raise SetupError(NO_LOCAL_SERVER)
    interp.llm.model = choice.model
    if choice.api_base:
        interp.llm.api_base = choice.api_base
    _note(f"Using {choice.title}.")
    _remember(args, choice.model, choice.api_base)


def _remember(args: argparse.Namespace, model: str, api_base: str | None) -> None:
    from ..store.profiles import resolve_profile
    from .local import remember_model

    _note(remember_model(resolve_profile(args.profile or "default"), model, api_base))


def _open_folders(args: argparse.Namespace) -> int:
    from ..store.paths import config_dir, profiles_dir
    from .picker import open_folder

    if args.profiles:
        open_folder(profiles_dir(), print, edit=profiles_dir() / "default.yaml")
    if args.local_models:
        open_folder(config_dir() / "models", print)
        print("Put .gguf files there, then pick one with --local (needs llama-cpp-python).")
    return EXIT_OK


RESET_QUESTION = "Reset {path} to the defaults? (a backup is kept; permission rules stay) [y/N] "


def _reset_profile(name: str, *, confirmed: bool) -> int:
    """--reset_profile: asks first (y/N; without a terminal only ``-y`` confirms), keeps a
    backup and the permission rules (store/profile_reset.py)."""
    from ..store.paths import profiles_dir
    from ..store.profile_reset import reset_profile
    from ..store.profiles import default_profile_text

    if name not in ("", "default", "default.yaml"):
        raise UsageError(f"only the default profile can be reset, not {name!r}")
    path = profiles_dir() / "default.yaml"
    defaults = default_profile_text()
    if path.is_file() and path.read_text(encoding="utf-8") == defaults:
        print(f"{path} already holds the defaults.")
        return EXIT_OK
    if not confirmed and not _confirm(RESET_QUESTION.format(path=path)):
        return EXIT_DECLINED
    try:
        done = reset_profile(path, defaults)
    except OSError as err:
        raise SetupError(f"cannot reset {path}: {err.strerror or err}") from None
    print(done.summary())
    return EXIT_OK


def _confirm(question: str) -> bool:
    """y/N on the terminal; without one, say that -y is needed (stderr) and decline."""
    if not sys.stdin.isatty():
        _error("--reset_profile asks first: run it in a terminal, or add -y. Nothing changed.")
        return False
    try:
        answer = input(question).strip().lower()
    except EOFError:
        answer = ""
    if answer in ("y", "yes"):
        return True
    print("Nothing changed.")
    return False


def _serve(interp: OpenInterpreter, *, ui: bool = False, server_mode: bool = True) -> int:
    import importlib.util

    if importlib.util.find_spec("interpreter.server.app") is None:
        raise UsageError("--server is not available in this version")
    if ui:
        from ..server.ui_launch import serve_ui

        return serve_ui(interp, server_mode=server_mode)
    from ..server.app import serve

    return serve(interp, None, None)


def _serve_mcp(interp: OpenInterpreter, transport: str) -> int:
    """--mcp-server: run_code and chat for an MCP client (interpreter/mcp/server.py)."""
    try:
        from ..mcp.server import serve
    except ImportError as err:
        raise SetupError(
            f"--mcp-server needs the mcp package ({err.name}): pip install 'interpreter[mcp]'"
        ) from None
    return serve(interp, transport)


def _read_stdin() -> str:
    return sys.stdin.read().strip()


def _chat(interp: OpenInterpreter, args: argparse.Namespace) -> int:
    from .display import make_ui

    message: str | None = args.message
    terminal = sys.stdin.isatty() and not args.stdin and not args.json
    if args.interactive and not terminal:
        raise UsageError("--interactive needs a terminal (not --stdin, --json or a pipe)")
    if not terminal and (args.stdin or message is None):
        piped = _read_stdin()
        message = f"{message}\n\n{piped}" if message and piped else (message or piped)
    ui = make_ui(interp, json_lines=bool(args.json))
    if args.conversations and not _resume(interp, ui):
        return EXIT_OK
    if terminal and (message is None or args.interactive):
        return _interactive(interp, ui, message)
    if not message:
        raise UsageError("no message: give one as words, or on standard input")
    return _one_shot(interp, message, ui)


def _resume(interp: OpenInterpreter, ui: TerminalUI) -> bool:
    from .conversations import choose_conversation
    from .display import replay

    chosen = choose_conversation(interp, ui.say)
    if chosen:
        replay(interp, ui)
    return chosen


def _one_shot(interp: OpenInterpreter, message: str, ui: TerminalUI) -> int:
    from .display import report
    from .session import run_turn

    result = run_turn(interp, message, ui)
    report(result, ui)
    if result.error:
        return EXIT_ERROR
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_DECLINED if result.declined else EXIT_OK


def _interactive(interp: OpenInterpreter, ui: TerminalUI, first: str | None) -> int:
    from .display import chat_loop
    from .startup import HINT

    if first is None and not interp.messages:
        ui.say(HINT)
    return chat_loop(interp, ui, first)
