"""Checkpoints over the server: REST routes and the websocket's session commands.

REST (token-guarded like every route; the session is the one ``X-Session-Id`` names,
else ``default``):

- ``GET /checkpoints``: ``[{"id", "time", "label", "language", "kind", "workdir",
  "touched": {"summary", "changes"}}]``, oldest first;
- ``GET /checkpoints/{id}``: what restoring it would change back: ``{"checkpoint",
  "summary", "changes": [{"path", "status", "added", "removed", "binary"}], "patch"}``;
- ``POST /checkpoints/{id}/restore``: restores the files (409 while a reply runs);
  ``{"restored", "saved", "summary", "changes"}``; ``saved`` is the checkpoint of the
  files as they were just before (restore it to undo the restore).

Websocket: ``{"type": "command", "content": "checkpoints"}``, ``"checkpoint_diff"`` and
``"restore"`` (both with ``"checkpoint": ID``) are answered ``{"role": "server", "type":
"checkpoints" | "checkpoint_diff" | "restored", "content": <as above>}``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI, Request, Response

    from ..core.interpreter import OpenInterpreter
    from ..store.checkpoints import Checkpoint, Diff
    from .state import ServerState

__all__ = ["CHECKPOINT_COMMANDS", "add_checkpoint_routes", "checkpoint_command"]

CHECKPOINT_COMMANDS = ("checkpoints", "checkpoint_diff", "restore")


def listing(interp: OpenInterpreter) -> list[dict[str, Any]]:
    checkpoints = interp.checkpoints
    return [
        {**_checkpoint(c), "touched": _diff(checkpoints.touched(c.id))} for c in checkpoints.list()
    ]


def diff_view(interp: OpenInterpreter, ref: str) -> dict[str, Any]:
    checkpoint = interp.checkpoints.get(ref)
    return {"checkpoint": checkpoint.id, **_diff(interp.checkpoints.diff(checkpoint.id), True)}


def restore_view(interp: OpenInterpreter, ref: str) -> dict[str, Any]:
    checkpoint = interp.checkpoints.get(ref)
    saved, applied = interp.checkpoints.restore(checkpoint.id)
    return {"restored": checkpoint.id, "saved": saved.id, **_diff(applied)}


def _checkpoint(checkpoint: Checkpoint) -> dict[str, Any]:
    keys = ("id", "time", "label", "language", "kind", "workdir")
    return {key: getattr(checkpoint, key) for key in keys}


def _diff(diff: Diff, patch: bool = False) -> dict[str, Any]:
    changes = [
        {"path": c.path, "status": c.status, "added": c.added, "removed": c.removed,
         "binary": c.binary}
        for c in diff.changes
    ]  # fmt: skip
    body: dict[str, Any] = {"summary": diff.summary(), "changes": changes}
    if patch:
        body["patch"] = diff.patch
    return body


async def checkpoint_command(
    interp: OpenInterpreter, name: str, command: dict[str, Any]
) -> dict[str, Any]:
    """The websocket command ``name`` (one of ``CHECKPOINT_COMMANDS``); raises
    ``CheckpointError`` / ``ValueError`` with a one-line message."""
    if name == "checkpoints":
        content: Any = await asyncio.to_thread(listing, interp)
        return {"role": "server", "type": "checkpoints", "content": content}
    ref = command.get("checkpoint")
    if not isinstance(ref, str) or not ref:
        raise ValueError(f"{name} needs 'checkpoint': an id from the checkpoints command")
    if name == "checkpoint_diff":
        content = await asyncio.to_thread(diff_view, interp, ref)
        return {"role": "server", "type": "checkpoint_diff", "content": content}
    content = await asyncio.to_thread(restore_view, interp, ref)
    return {"role": "server", "type": "restored", "content": content}


def add_checkpoint_routes(app: FastAPI, state: ServerState) -> None:
    """Registers the three routes."""
    from fastapi.responses import JSONResponse

    from ..store.checkpoints import CheckpointError
    from .sessions import SessionLimit

    async def answer(request: Request, work: Any, *args: Any, writes: bool = False) -> Response:
        sid = request.headers.get("x-session-id") or "default"
        try:
            session = await state.registry.open(sid)
        except SessionLimit as err:
            return JSONResponse({"error": str(err), "detail": str(err)}, 503)
        if writes and session.busy:
            message = "cannot restore while a reply is running (stop it first)"
            return JSONResponse({"error": message, "detail": message}, 409)
        try:
            return JSONResponse(await asyncio.to_thread(work, session.interp, *args))
        except CheckpointError as err:
            status = 404 if str(err).startswith("no checkpoint") else 409
            return JSONResponse({"error": str(err), "detail": str(err)}, status)

    async def get_list(request: Request) -> Response:
        return await answer(request, listing)

    async def get_one(request: Request) -> Response:
        return await answer(request, diff_view, request.path_params["ref"])

    async def post_restore(request: Request) -> Response:
        return await answer(request, restore_view, request.path_params["ref"], writes=True)

    app.add_route("/checkpoints", get_list, methods=["GET"])
    app.add_route("/checkpoints/{ref}", get_one, methods=["GET"])
    app.add_route("/checkpoints/{ref}/restore", post_restore, methods=["POST"])
