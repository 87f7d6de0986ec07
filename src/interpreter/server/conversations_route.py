"""``GET /conversations`` and ``GET /conversations/{name}``: the saved conversations.

The list is newest first: ``[{"name": FILE, "title": ..., "when": ISO-8601, "error": str |
null}]``; one conversation is ``{"name", "title", "messages"}``. Only files listed in the
conversations folder can be named (a plain file name, never a path). A websocket client
loads one into its session with the ``resume`` command (``session_commands``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from starlette.responses import Response

    from ..store.conversations import ConversationEntry
    from .state import ServerState

__all__ = ["add_conversation_routes", "find_conversation", "load_entry"]


class UnknownConversation(LookupError):
    """No readable conversation of that name (one-line message)."""


def find_conversation(folder: str | Path, name: str) -> ConversationEntry:
    """The listed conversation called ``name``; ``UnknownConversation`` if there is none."""
    from ..store.conversations import list_conversations

    for entry in list_conversations(folder):
        if entry.path.name == name:
            if entry.error:
                raise UnknownConversation(f"cannot read {name!r}: {entry.error}")
            return entry
    raise UnknownConversation(f"no saved conversation {name!r}")


def load_entry(entry: ConversationEntry) -> dict[str, Any]:
    """``{"name", "title", "messages"}`` of a listed conversation."""
    from ..store.conversations import ConversationError, load_conversation

    try:
        messages = load_conversation(entry.path)
    except ConversationError as err:
        raise UnknownConversation(f"cannot read {entry.path.name!r}: {err.reason}") from None
    return {"name": entry.path.name, "title": entry.title, "messages": messages}


def _listing(folder: str) -> list[dict[str, Any]]:
    from ..store.conversations import list_conversations

    return [
        {"name": e.path.name, "title": e.title, "when": e.when.isoformat(), "error": e.error}
        for e in list_conversations(folder)
    ]


def add_conversation_routes(app: FastAPI, state: ServerState) -> None:
    """Registers the two routes (token-guarded like every route but ``/heartbeat``)."""
    import asyncio

    from fastapi.responses import JSONResponse

    folder_cache: list[str] = []

    def folder() -> str:
        if not folder_cache:  # every session is a clone of the operator's interpreter
            folder_cache.append(str(state.registry.factory().conversation_history_path))
        return folder_cache[0]

    async def conversations(_request: Request) -> Response:
        return JSONResponse(await asyncio.to_thread(_listing, folder()))

    async def conversation(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            entry = await asyncio.to_thread(find_conversation, folder(), name)
            body = await asyncio.to_thread(load_entry, entry)
        except UnknownConversation as err:
            return JSONResponse({"error": str(err), "detail": str(err)}, 404)
        return JSONResponse(body)

    app.add_route("/conversations", conversations, methods=["GET"])
    app.add_route("/conversations/{name}", conversation, methods=["GET"])
