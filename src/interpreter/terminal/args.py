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
    hyphenated: bool = False  # spelt --output-format (--output_format is accepted too)
    nargs: int | None = None
    metavar: str | tuple[str, ...] | None = None
    repeat: bool = False  # may be given more than once (a list of the values)
    const: str | None = None  # the value when the flag is given without one

    @property
    def names(self) -> list[str]:
        long = [f"--{self.name}"]
        if self.hyphenated:
            long = [f"--{self.name.replace('_', '-')}", *long]
        return long + ([f"-{self.short}"] if self.short else [])


OUTPUT_FORMATS = ("text", "json", "stream-json")
P_HELP = (
    "the profile VALUE when a profile of that name exists (as --profile), else the task "
    "to run headless (as --prompt)"
)

#: Flags that are commands or choose how to run, not settings (in the order of --help
#: with the settings' flags, whose text lives in the settings table: interpreter/settings.py).
COMMAND_FLAGS: dict[str, Flag] = {
    flag.name: flag
    for flag in (
        Flag("profile", None, "profile to load (a name in the profiles folder, or a path)", str),
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
        Flag(
            "ui",
            None,
            "serve the web UI on 127.0.0.1 and open it in a browser (with --server: on its port)",
        ),
        Flag("version", None, "print the version and exit"),
        Flag("stdin", "s", "read the message from standard input"),
        Flag("json", None, "the same as --output-format stream-json"),
        Flag(
            "interactive",
            "i",
            "stay in the chat after the task given as words (which otherwise runs once)",
        ),
        Flag("prompt", None, "run TASK without a terminal (headless) and exit", str,
             metavar="TASK"),
        Flag("output_format", None, "headless output: text (the answer), json (one result "
             "object) or stream-json (one JSON event per line)", str,
             choices=OUTPUT_FORMATS, hyphenated=True, metavar="FORMAT"),
        Flag("resume", None, "continue a saved conversation: last, or its ID (file name)",
             str, metavar="last|ID"),
        Flag("notebook", None, "keep this .ipynb up to date with the conversation (an "
             "existing one is resumed)", str, metavar="PATH"),
        Flag("export_notebook", None, "write the saved conversation CONV (a file, an ID or "
             "last) as the notebook OUT, and exit", str, hyphenated=True, nargs=2,
             metavar=("CONV", "OUT")),
        Flag("mcp", None, "offer the tools of an MCP server: NAME=COMMAND (stdio) or NAME=URL "
             "(streamable HTTP); repeatable, added to the profile's mcp_servers", str,
             metavar="NAME=COMMAND", repeat=True),
        Flag("mcp_server", None, "serve run_code and chat as an MCP server over stdio (the "
             "default) or streamable HTTP on 127.0.0.1 (http), and exit when the client goes",
             str, choices=("stdio", "http"), hyphenated=True, metavar="stdio|http",
             const="stdio"),
    )
}  # fmt: skip
#: Every flag, in the order --help lists them (0.4.3's order, then ours).
HELP_ORDER = (
    "profile", "custom_instructions", "system_message", "auto_run", "no_highlight_active_line",
    "verbose", "model", "temperature", "llm_supports_vision", "llm_supports_functions",
    "context_window", "max_tokens", "max_budget", "input_cost_per_token",
    "output_cost_per_token", "api_base", "api_key", "api_version", "max_output", "loop",
    "max_turns", "max_repeats", "no_compaction", "checkpoints", "disable_telemetry", "offline",
    "speak_messages",
    "safe_mode", "debug", "fast", "multi_line", "local", "vision", "os", "profiles", "local_models",
    "conversations", "server", "ui", "version", "plain", "stdin", "json", "interactive",
    "prompt", "output_format", "resume", "notebook", "export_notebook", "sandbox",
    "allow_network", "sandbox_allow_home", "kernel_gateway", "mcp", "mcp_server",
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
    kwargs: dict[str, Any] = {"dest": flag.name, "help": flag.help}
    if flag.optional_bool:
        kwargs.update(action=argparse.BooleanOptionalAction, default=None)
    elif flag.type is bool:
        kwargs.update(action="store_true", default=None)
    else:
        kwargs.update(type=flag.type, default=None, metavar=flag.metavar or flag.name.upper())
        if flag.choices:
            kwargs["choices"] = flag.choices
        if flag.nargs:
            kwargs["nargs"] = flag.nargs
        if flag.repeat:
            kwargs["action"] = "append"
        if flag.const is not None:
            kwargs.update(nargs="?", const=flag.const)
    parser.add_argument(*flag.names, **kwargs)


def names_profile(value: str) -> bool:
    """Whether ``-p VALUE`` means a profile: a profile of that name (or a file at that
    path) exists, as ``--profile`` resolves it; or VALUE is one word that can only mean
    a profile (``x.yaml``, ``x.py``, a URL), so that --profile's error is what the user
    gets for a misspelt one."""
    from ..store.profiles import EXTENSIONS, ProfileError, resolve_profile

    word = value.strip()
    if word and not any(c.isspace() for c in word):
        lowered = word.lower()
        if "://" in lowered or any(lowered.endswith(e) for e in EXTENSIONS if e):
            return True
    try:
        resolve_profile(value)
    except (ProfileError, OSError, ValueError):
        return False
    return True


class _ProfileOrTask(argparse.Action):
    """``-p VALUE``: Open Interpreter 0.4.3's ``--profile`` when VALUE names a profile,
    otherwise the headless task (``--prompt``)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        value = str(values)
        if names_profile(value):
            namespace.p_profile = value  # parse_args makes it the profile
        else:
            namespace.prompt = value


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
            "Bare words are a task, run once: interpreter list my files (-i to stay). "
            "Headless (-p TASK, --prompt TASK, or --output-format with the task as words "
            "or on standard input): no code runs without -y or an allow rule, nothing is "
            "asked; exit codes 0 done, 1 error, 2 usage, 3 declined approval, 4 budget "
            "exceeded, 5 turn limit (--max_turns). "
            "Not supported yet: --os, --vision, --speak_messages."
        ),
        allow_abbrev=False,
    )
    for flag in FLAGS:
        _add_flag(parser, flag)
        if flag.name == "profile":
            parser.add_argument("-p", dest="profile", action=_ProfileOrTask, metavar="VALUE",
                                help=P_HELP)  # fmt: skip
    parser.add_argument(
        "--reset_profile",
        nargs="?",
        const="",
        default=NOT_GIVEN,
        metavar="NAME",
        help="reset default.yaml to the defaults, asking first (-y: without asking); "
        "keeps a backup and the permission rules",
    )
    parser.add_argument("message", nargs="*", help="the first message (optional)")
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``; raises :class:`UsageError` for unknown or unsupported flags."""
    ns = build_parser().parse_args(list(argv))
    p_profile = vars(ns).pop("p_profile", None)
    if p_profile is not None:
        if ns.profile is not None:
            raise UsageError("two profiles given (-p and --profile)")
        ns.profile = p_profile
    for name, why in UNSUPPORTED.items():
        if getattr(ns, name):
            raise UsageError(why)
    ns.message = " ".join(ns.message).strip() or None
    return ns
