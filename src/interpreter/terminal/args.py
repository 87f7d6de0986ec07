"""The command line: Open Interpreter 0.4.3's flags, parsed with argparse."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Flag", "FLAGS", "UNSUPPORTED", "UsageError", "build_parser", "parse_args"]

NOT_GIVEN = "NOT_PROVIDED"


class UsageError(Exception):
    """A command line that cannot be run; ``str()`` is one line for the user (exit code 2)."""


@dataclass(frozen=True)
class Flag:
    """One command-line flag: ``--name`` / ``-short``."""

    name: str
    short: str | None
    help: str
    type: type = bool
    choices: tuple[str, ...] | None = None
    optional_bool: bool = False  # also accepts --no-NAME


FLAGS: tuple[Flag, ...] = (
    Flag("profile", "p", "profile to load (a name in the profiles folder, or a path)", str),
    Flag("custom_instructions", "ci", "text appended to the system message", str),
    Flag("system_message", "sm", "replace the base system message (not recommended)", str),
    Flag("auto_run", "y", "run code without asking for approval"),
    Flag("no_highlight_active_line", "nhl", "do not highlight the running line of code"),
    Flag("verbose", "v", "print detailed logs"),
    Flag(
        "model", "m", "language model to use (e.g. gpt-4o, claude-3-5-sonnet, ollama/llama3)", str
    ),
    Flag("temperature", "t", "sampling temperature", float),
    Flag("llm_supports_vision", "lsv", "the model accepts images", optional_bool=True),
    Flag("llm_supports_functions", "lsf", "the model supports tool calls", optional_bool=True),
    Flag("context_window", "cw", "context window of the model, in tokens", int),
    Flag("max_tokens", "x", "most tokens the model may write per reply", int),
    Flag("max_budget", "b", "most USD to spend on model calls in this session", float),
    Flag("api_base", "ab", "base URL of an OpenAI-compatible API (local servers too)", str),
    Flag("api_key", "ak", "API key for the model provider", str),
    Flag("api_version", "av", "API version (Azure)", str),
    Flag("max_output", "xo", "characters of program output the model sees", int),
    Flag("loop", None, "keep going until the model says the task is done or impossible"),
    Flag("disable_telemetry", "dt", "no effect: nothing is ever sent anywhere"),
    Flag("offline", "o", "nothing leaves this machine: only local model servers and .gguf files"),
    Flag("speak_messages", "sp", "read messages aloud (not supported)"),
    Flag(
        "safe_mode",
        "safe",
        "scan code before it runs: off, ask (show findings, always ask), auto (refuse risky code)",
        str,
        ("off", "ask", "auto"),
    ),
    Flag("debug", None, "print debugging details"),
    Flag("fast", "f", "use gpt-4o-mini and ask for very short answers"),
    Flag("multi_line", "ml", 'multi-line input between """ (or ```) lines'),
    Flag(
        "local",
        "l",
        "pick a local model: Ollama, LM Studio, llama.cpp, Jan, vLLM or a .gguf file",
    ),
    Flag("vision", "vi", "experimental vision mode (not supported)"),
    Flag("os", "os", "experimental mouse and keyboard control (not supported)"),
    Flag("profiles", None, "open the profiles folder"),
    Flag("local_models", None, "open the local models folder"),
    Flag("conversations", None, "pick an earlier conversation to resume"),
    Flag("server", None, "serve the interpreter over HTTP and websocket"),
    Flag(
        "ui",
        None,
        "serve the web UI on 127.0.0.1 and open it in a browser (with --server: on its port)",
    ),
    Flag("version", None, "print the version and exit"),
    Flag("plain", "pl", "plain text output (no colours, boxes or live updates)"),
    Flag("stdin", "s", "read the message from standard input"),
    Flag("json", None, "print the chunk stream as JSON lines (for other programs)"),
    Flag("sandbox", None, "run code in an OS sandbox (files read-only but the working folder)"),
    Flag("allow_network", None, "let sandboxed code use the network"),
    Flag("kernel_gateway", None, "run Python in a Jupyter Kernel Gateway at this URL", str),
)

# Flags accepted by the parser but refused with a one-line message (exit code 2).
UNSUPPORTED: dict[str, str] = {
    "os": "--os (mouse and keyboard control) is not supported by this version",
    "vision": "--vision is not supported by this version",
    "speak_messages": "--speak_messages is not supported by this version",
}


def _add_flag(parser: argparse.ArgumentParser, flag: Flag) -> None:
    names = [f"--{flag.name}"] + ([f"-{flag.short}"] if flag.short else [])
    kwargs: dict[str, Any] = {"dest": flag.name, "help": flag.help}
    if flag.optional_bool:
        kwargs.update(action=argparse.BooleanOptionalAction, default=None)
    elif flag.type is bool:
        kwargs.update(action="store_true", default=None)
    else:
        kwargs.update(type=flag.type, default=None, metavar=flag.name.upper())
        if flag.choices:
            kwargs["choices"] = flag.choices
    parser.add_argument(*names, **kwargs)


class _Parser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of printing usage and exiting."""

    def error(self, message: str) -> Any:  # noqa: D102 (argparse's signature)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The ``interpreter`` argument parser (every 0.4.3 flag, short forms included)."""
    parser = _Parser(
        prog="interpreter",
        description="Let language models run code on your computer, with your approval.",
        epilog=(
            "Bare words are taken as the first message: interpreter list my files. "
            "Not supported yet: --os, --vision, --speak_messages."
        ),
        allow_abbrev=False,
    )
    for flag in FLAGS:
        _add_flag(parser, flag)
    parser.add_argument(
        "--reset_profile",
        nargs="?",
        const="",
        default=NOT_GIVEN,
        metavar="NAME",
        help="reset a profile to its default (all default profiles without NAME)",
    )
    parser.add_argument("message", nargs="*", help="the first message (optional)")
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``; raises :class:`UsageError` for unknown or unsupported flags."""
    ns = build_parser().parse_args(list(argv))
    for name, why in UNSUPPORTED.items():
        if getattr(ns, name):
            raise UsageError(why)
    ns.message = " ".join(ns.message).strip() or None
    return ns
