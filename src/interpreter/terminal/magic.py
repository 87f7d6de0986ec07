"""Magic commands typed at the prompt: ``%reset``, ``%undo``, ``%tokens``, ``%% ls``, ...

:func:`parse_magic` splits a line into a command and its argument; :func:`run_magic`
performs it. Output goes through ``say`` (plain text, never markup) and, for ``%%``,
through the chunk renderer.
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..settings import SETTINGS, Setting, holder
from .undo import checkpoints_command, restore_command, undo_command

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter

__all__ = ["MagicContext", "parse_magic", "run_magic", "is_magic", "HELP", "full_system_message"]

HELP = """\
%% <command>         run a shell command (not added to the conversation)
%reset               start a new conversation (the one before stays saved)
%undo [N]            remove your last message (or N) and what followed; offers to put
                     back the files the code changed (a checkpoint is taken before each run)
%checkpoints         the checkpoints of this conversation: time, code, files touched
%restore ID          put the files back as they were at checkpoint ID (asks first)
%verbose [true|false] show (or stop showing) detailed logs
%auto_run [true|false] run code without asking (or ask again)
%tokens [prompt]     tokens the next request would send, and what was spent so far
%compact             summarise the older messages now (they stay in the saved conversation)
%info                settings and system information
%save_message [path] save the messages as JSON (default messages.json)
%load_message [path] load messages from JSON (default messages.json)
%jupyter [path]      export the conversation as a Jupyter notebook
%markdown [path]     export the conversation as Markdown
%help                this list
exit / Ctrl-D        quit; Ctrl-C stops a reply or running code"""


@dataclass
class MagicContext:
    """What a magic command may use: the interpreter, a printer and a chunk sink."""

    interp: OpenInterpreter
    say: Callable[[str], None]
    show_chunk: Callable[[Mapping[str, Any]], None]
    #: asks the user a question (``%undo``, ``%restore``); EOF counts as no
    ask: Callable[[str], str] = input
    #: shows text highlighted as ``language`` (None: plain ``say``)
    show_code: Callable[[str, str], None] | None = None


def is_magic(line: str) -> bool:
    return line.lstrip().startswith("%")


def parse_magic(line: str) -> tuple[str, str]:
    """Split: ``"%tokens hi"`` -> ``("tokens", "hi")``, ``"%% ls"`` -> ``("%", "ls")``."""
    text = line.strip()[1:]
    if text.startswith("%"):
        return "%", text[1:].strip()
    name, _, arg = text.partition(" ")
    return name.strip().lower(), arg.strip()


def _parse_bool(arg: str, current: bool) -> bool | None:
    if not arg:
        return not current
    return {"true": True, "on": True, "1": True, "false": False, "off": False, "0": False}.get(
        arg.lower()
    )


def _toggle(ctx: MagicContext, arg: str, attr: str) -> None:
    value = _parse_bool(arg, bool(getattr(ctx.interp, attr)))
    if value is None:
        ctx.say(f"Usage: %{attr} [true|false]")
        return
    setattr(ctx.interp, attr, value)
    ctx.say(f"{attr} is now {'on' if value else 'off'}.")


def _reset(ctx: MagicContext, arg: str) -> None:
    """A new conversation, saved in a file of its own; the one before stays saved as it
    was (``--conversations`` resumes it)."""
    interp = ctx.interp
    interp._save_conversation()  # the conversation file is complete before it is left
    previous = interp.conversation_filename if interp.conversation_history else None
    interp.reset()
    if previous is None:
        ctx.say("The conversation was reset.")
        return
    from ..store.conversations import display_title

    ctx.say(
        "The conversation was reset; the previous one stays saved as "
        f"{display_title(previous)!r} (interpreter --conversations resumes it)."
    )


def full_system_message(interp: OpenInterpreter) -> str:
    """The system message as the next request sends it (the one the turn builds)."""
    return interp._full_system_message()


def _cost_text(interp: OpenInterpreter, tokens: int) -> str:
    price = interp.llm.price()
    return (
        "cost unknown for this model"
        if price is None
        else (f"about ${price.cost(tokens, 0):.4f} to send")
    )


def _window(interp: OpenInterpreter, messages: list[Any]) -> int:
    """The context window the next request is fitted to (asked of a local server)."""
    from ..llm.tokens import default_context_window

    try:
        use = interp.llm.context_use(messages, system_message=full_system_message(interp))
    except Exception:  # no model configured: the known window of the name
        return interp.llm.context_window or default_context_window(interp.llm.model)
    return use.window


def _tokens(ctx: MagicContext, arg: str) -> None:
    """Tokens of the next request (its system message and messages, as the turn sends
    them), and the tokens and cost used so far (``interpreter.usage``)."""
    interp = ctx.interp
    messages = list(interp.messages)
    if arg:
        messages.append({"role": "user", "type": "message", "content": arg})
    model_messages = interp._messages_for_model(messages)
    try:
        count = interp.llm.count_tokens(model_messages, system_message=full_system_message(interp))
    except Exception as err:  # a count is informative only; say why it failed
        ctx.say(f"Could not count tokens: {err}")
        return
    window = _window(interp, model_messages)
    share = f" ({count / window:.1%} of the {window}-token context window)"
    what = "messages, system message and your prompt" if arg else "messages and system message"
    ctx.say(f"{count} tokens in the {what}{share}; {_cost_text(interp, count)}.")
    usage = interp.usage
    if usage.total.requests:
        ctx.say(f"Last turn: {usage.turn.describe()}.")
        n = usage.total.requests
        ctx.say(f"This session: {usage.total.describe()} in {n} request{'' if n == 1 else 's'}.")


def _compact(ctx: MagicContext, arg: str) -> None:
    ctx.say("Summarising the older messages ...")
    ctx.say(ctx.interp.compact().describe())


def _shown(item: Setting, value: Any) -> str:
    """A setting's value on one short line."""
    if item.secret:
        return "set" if value else "not set"
    if value is None:
        return "(not set)"
    if isinstance(value, list):
        text = ", ".join(str(getattr(v, "name", v)) for v in value)
        return text if len(text) <= 60 else f"({len(value)} items)"
    text = json.dumps(value) if isinstance(value, dict) else str(value)
    if len(text) > 60 or "\n" in text:
        return f"({len(text)} characters)"
    return text or "(empty)"


def _info(ctx: MagicContext, arg: str) -> None:
    """The version, the system, every setting of the table (0.4.3 no-ops left out) and
    the conversation."""
    from .. import __version__

    interp = ctx.interp
    rows: list[tuple[str, Any]] = [
        ("interpreter", __version__),
        ("python", sys.version.split()[0]),
        ("system", f"{platform.system()} {platform.release()} ({platform.machine()})"),
    ]
    for item in SETTINGS:
        if item.attribute and item.compat is None:
            rows.append((item.dotted, _shown(item, getattr(holder(interp, item), item.name))))
    rows += [
        ("messages", len(interp.messages)),
        ("conversation", interp.conversation_filename or "(not saved yet)"),
    ]
    width = max(len(name) for name, _ in rows) + 2
    ctx.say("\n".join(f"{name:<{width}}{value}" for name, value in rows))


def _save(ctx: MagicContext, arg: str) -> None:
    path = Path(arg or "messages.json").expanduser()
    path.write_text(json.dumps(ctx.interp.messages, indent=2), encoding="utf-8")
    ctx.say(f"Saved {len(ctx.interp.messages)} message(s) to {path}.")


def _load(ctx: MagicContext, arg: str) -> None:
    from ..lmc import MessageError, normalize_all

    path = Path(arg or "messages.json").expanduser()
    try:
        messages = normalize_all(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, MessageError) as err:
        ctx.say(f"Could not load {path}: {err}")
        return
    ctx.interp.messages = messages
    ctx.say(f"Loaded {len(messages)} message(s) from {path}.")


def _export(ctx: MagicContext, arg: str, suffix: str) -> None:
    from .export import to_markdown

    name = ctx.interp.conversation_filename or "conversation.json"
    path = Path(arg or Path(name).with_suffix(suffix).name).expanduser()
    if suffix == ".ipynb":
        from ..core.notebook import NotebookUnavailable

        try:
            path = ctx.interp.export_notebook(path)
        except NotebookUnavailable as err:
            ctx.say(f"%jupyter: {err}")
            return
    else:
        path.write_text(to_markdown(ctx.interp.messages), encoding="utf-8")
    ctx.say(f"Exported the conversation to {path}.")


def _shell(ctx: MagicContext, arg: str) -> None:
    if not arg:
        ctx.say("Usage: %% <shell command>")
        return
    for chunk in ctx.interp.computer.stream("shell", arg):
        ctx.show_chunk(chunk)


_COMMANDS: dict[str, Callable[[MagicContext, str], None]] = {
    "%": _shell,
    "help": lambda ctx, arg: ctx.say(HELP),
    "verbose": lambda ctx, arg: _toggle(ctx, arg, "verbose"),
    "auto_run": lambda ctx, arg: _toggle(ctx, arg, "auto_run"),
    "reset": _reset,
    "undo": undo_command,
    "checkpoints": checkpoints_command,
    "restore": restore_command,
    "tokens": _tokens,
    "compact": _compact,
    "info": _info,
    "save_message": _save,
    "load_message": _load,
    "jupyter": lambda ctx, arg: _export(ctx, arg, ".ipynb"),
    "markdown": lambda ctx, arg: _export(ctx, arg, ".md"),
}


def run_magic(ctx: MagicContext, line: str) -> None:
    """Perform the magic command in ``line`` (unknown ones are reported, not raised)."""
    name, arg = parse_magic(line)
    command = _COMMANDS.get(name)
    if command is None:
        ctx.say(f"Unknown command %{name}. Type %help for the list.")
        return
    try:
        command(ctx, arg)
    except OSError as err:
        ctx.say(f"%{name} failed: {err}")
