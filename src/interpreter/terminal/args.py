"""The command line: Open Interpreter 0.4.3's flags, parsed with argparse."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..settings import SETTINGS, Setting

__all__ = [
    "COMMAND_FLAGS",
    "FLAGS",
    "Flag",
    "UNSUPPORTED",
    "UsageError",
    "build_parser",
    "parse_args",
    "setting_flags",
]

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


#: Flags that are commands or choose how to run, not settings (in the order of --help
#: with the settings' flags, whose text lives in the settings table: interpreter/settings.py).
COMMAND_FLAGS: dict[str, Flag] = {
    flag.name: flag
    for flag in (
        Flag("profile", "p", "profile to load (a name in the profiles folder, or a path)", str),
        Flag("fast", "f", "use gpt-4o-mini and ask for very short answers"),
        Flag(
            "local",
            "l",
            "pick a local model: Ollama, LM Studio, llama.cpp, Jan, vLLM or a .gguf file",
        ),
        Flag("vision", "vi", "experimental vision mode (not supported)"),
        Flag("profiles", None, "open the profiles folder"),
        Flag("local_models", None, "open the local models folder"),
        Flag("conversations", None, "pick an earlier conversation to resume"),
        Flag("server", None, "serve the interpreter over HTTP and websocket"),
        Flag("version", None, "print the version and exit"),
        Flag("stdin", "s", "read the message from standard input"),
        Flag("json", None, "print the chunk stream as JSON lines (for other programs)"),
    )
}
#: Every flag, in the order --help lists them (0.4.3's order, then ours).
HELP_ORDER = (
    "profile", "custom_instructions", "system_message", "auto_run", "no_highlight_active_line",
    "verbose", "model", "temperature", "llm_supports_vision", "llm_supports_functions",
    "context_window", "max_tokens", "max_budget", "input_cost_per_token",
    "output_cost_per_token", "api_base", "api_key", "api_version", "max_output", "loop",
    "max_turns", "max_repeats", "no_compaction", "disable_telemetry", "offline", "speak_messages",
    "safe_mode", "debug", "fast", "multi_line", "local", "vision", "os", "profiles", "local_models",
    "conversations", "server", "version", "plain", "stdin", "json", "sandbox",
    "allow_network", "kernel_gateway",
)  # fmt: skip


def setting_flags() -> dict[str, Setting]:
    """The settings that have a flag, by flag name."""
    return {s.flag: s for s in SETTINGS if s.flag is not None}


def _setting_flag(item: Setting) -> Flag:
    kind = item.kind
    if kind.kinds == (bool,):
        return Flag(str(item.flag), item.short, str(item.flag_help), optional_bool=kind.nullable)
    value_type: type = float if float in kind.kinds else kind.kinds[0]
    return Flag(str(item.flag), item.short, str(item.flag_help), value_type, kind.choices or None)


def _all_flags() -> tuple[Flag, ...]:
    from_settings = {name: _setting_flag(item) for name, item in setting_flags().items()}
    known = {**COMMAND_FLAGS, **from_settings}
    if set(known) != set(HELP_ORDER):
        raise RuntimeError(f"flags missing from HELP_ORDER: {sorted(set(known) ^ set(HELP_ORDER))}")
    return tuple(known[name] for name in HELP_ORDER)


FLAGS: tuple[Flag, ...] = _all_flags()

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
