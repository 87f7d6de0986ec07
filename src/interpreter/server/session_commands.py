"""The websocket's session commands beyond 0.4.3's ``go`` / ``stop``, and the usage message.

Each command is ``{"type": "command", "content": NAME, ...}`` and is answered by one
server message, then the ``complete`` status:

- ``resume`` with ``"conversation": FILE`` (a name from ``GET /conversations``): loads that
  conversation into the session (it keeps saving to the same file); answered
  ``{"role": "server", "type": "conversation", "content": {"name", "title", "messages"}}``.
- ``reset``: a new, empty conversation (the languages restart); answered with an empty
  ``conversation``.
- ``settings`` with ``"settings": {...}`` (optional): changes the session's settings under
  ``/settings``' allow-list (auto-run can only be switched off; the model only to one the
  operator allows); answered
  ``{"role": "server", "type": "settings", "content": <the readable settings>}``.

- ``checkpoints``, ``checkpoint_diff`` and ``restore`` (with ``"checkpoint": ID``): the
  session's checkpoints of its files, what restoring one changes back, and restoring it
  (server/checkpoints_route.py).

After each response the server sends ``{"role": "server", "type": "usage", "content":
{"model", "prompt_tokens", "completion_tokens", "total_tokens", "cost", "max_budget"}}``
(the session's totals so far; ``cost`` in USD, 0 where unknown) before ``complete``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from .checkpoints_route import CHECKPOINT_COMMANDS, checkpoint_command

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter
    from .sessions import Session

__all__ = ["CommandError", "SESSION_COMMANDS", "run_session_command", "usage_message"]

SESSION_COMMANDS = ("resume", "reset", "settings", *CHECKPOINT_COMMANDS)


class CommandError(Exception):
    """A command that cannot be done; one-line message."""


def usage_message(interp: OpenInterpreter) -> dict[str, Any]:
    """The session's token and cost totals, as a server message."""
    llm = interp.llm
    prompt, completion = int(llm.total_prompt_tokens), int(llm.total_completion_tokens)
    content = {
        "model": llm.model,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cost": float(llm.total_cost),
        "max_budget": llm.max_budget,
    }
    return {"role": "server", "type": "usage", "content": content}


async def run_session_command(
    session: Session,
    name: str,
    command: Mapping[str, Any],
    allowed_models: Collection[str] = (),
) -> dict[str, Any]:
    """Does the command ``name`` (one of ``SESSION_COMMANDS``); returns the reply message.
    ``allowed_models``: the models ``settings`` may switch to (settings_api.py)."""
    if session.busy:
        raise CommandError(f"cannot {name} while a reply is running (stop it first)")
    if name == "settings":
        return _settings(session.interp, command.get("settings") or {}, allowed_models)
    if name in CHECKPOINT_COMMANDS:
        return await _checkpoints(session.interp, name, command)
    await session.settle()  # pending code is declined
    if name == "resume":
        return await _resume(session.interp, command.get("conversation"))
    await asyncio.to_thread(session.interp.reset)
    return _conversation({"name": None, "title": None, "messages": []})


async def _checkpoints(
    interp: OpenInterpreter, name: str, command: Mapping[str, Any]
) -> dict[str, Any]:
    from ..store.checkpoints import CheckpointError

    try:
        return await checkpoint_command(interp, name, dict(command))
    except (CheckpointError, ValueError) as err:
        raise CommandError(str(err)) from None


def _conversation(content: dict[str, Any]) -> dict[str, Any]:
    return {"role": "server", "type": "conversation", "content": content}


async def _resume(interp: OpenInterpreter, name: Any) -> dict[str, Any]:
    from .conversations_route import UnknownConversation, find_conversation, load_entry

    if not isinstance(name, str) or not name:
        raise CommandError("resume needs 'conversation': a name from GET /conversations")
    try:
        entry = await asyncio.to_thread(find_conversation, interp.conversation_history_path, name)
        loaded = await asyncio.to_thread(load_entry, entry)
    except UnknownConversation as err:
        raise CommandError(str(err)) from None
    interp.messages = list(loaded["messages"])
    interp.conversation_filename = entry.path.name
    return _conversation(loaded)


def _settings(
    interp: OpenInterpreter, payload: Any, allowed_models: Collection[str]
) -> dict[str, Any]:
    from .settings_api import SettingsError, apply_settings, jsonable, settings_view

    if payload:
        try:
            apply_settings(interp, payload, allowed_models)
        except SettingsError as err:
            raise CommandError(err.message) from None
    return {"role": "server", "type": "settings", "content": jsonable(settings_view(interp))}
