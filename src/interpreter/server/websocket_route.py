"""``WS /``: Open Interpreter 0.4.3's websocket protocol, one session per connection.

The first message must be ``{"auth": TOKEN}`` (answered ``{"auth": true|false}``; a wrong
token, or none within ``auth_timeout`` seconds, closes the connection) unless the handshake
already carried the token as ``X-API-KEY`` / ``Authorization: Bearer``. Then LMC chunks
framed with start/end flags go in, and the reply's chunks come out, each response ending with
``{"role": "server", "type": "status", "content": "complete"}``. When code waits for
approval the client gets the ``confirmation`` chunk and a ``complete`` status; the command
``{"type": "command", "content": "go"}`` runs it (with ``"hash"``, only if that is the
sha256 of the code waiting; with ``"code"`` and its ``"hash"``, the edited code: see
``approval``), ``"decline"`` declines it, ``"stop"`` stops the current run (and a new
message declines the pending code). ``resume``, ``reset`` and ``settings`` act on the
session (``session_commands``); a ``usage`` message precedes each response's
``complete``. Leaving stops the run and ends the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from .approval import ApprovalRefused, answer_for
from .inbox import Inbox, InboxError, Received
from .outbox import merge_text
from .security import presented_token, token_matches
from .session_commands import SESSION_COMMANDS, CommandError, run_session_command, usage_message
from .sessions import AWAITING, Finished, Run, RunEvent, Session, SessionLimit

if TYPE_CHECKING:
    from fastapi import WebSocket

    from ..lmc import Message
    from .state import ServerState

log = logging.getLogger(__name__)

COMPLETE = {"role": "server", "type": "status", "content": "complete"}
KNOWN_COMMANDS = (
    "use go, decline, stop, resume, reset, settings, checkpoints, checkpoint_diff or restore"
)


def server_error(message: str) -> dict[str, Any]:
    return {"role": "server", "type": "error", "content": message}


class Connection:
    """One websocket client and its session."""

    def __init__(
        self, ws: WebSocket, session: Session, allowed_models: tuple[str, ...] = ()
    ) -> None:
        self.ws = ws
        self.session = session
        self.allowed_models = allowed_models  # what ``settings`` may switch the model to
        self.inbox = Inbox()
        self.forwarder: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()

    async def send(self, data: Mapping[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_text(json.dumps(data, default=str))

    async def serve(self) -> None:
        """Reads client messages until it leaves."""
        from fastapi import WebSocketDisconnect

        with contextlib.suppress(WebSocketDisconnect):
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                await self.on_message(message)

    async def on_message(self, message: Mapping[str, Any]) -> None:
        text = message.get("text")
        if text is None:
            await self.fail("binary frames are not supported; send JSON text")
            return
        try:
            chunk = json.loads(text)
        except ValueError:
            await self.fail("a message is not JSON")
            return
        if not isinstance(chunk, dict):
            await self.fail("a message must be a JSON object")
        elif "auth" in chunk:
            await self.send({"auth": True})  # already authenticated
        elif "ack" not in chunk:
            await self.on_chunk(chunk)

    async def on_chunk(self, chunk: dict[str, Any]) -> None:
        run = self.session.run
        if chunk.get("start") and chunk.get("type") != "command" and run is not None:
            run.muted = True  # the client moved on: the rest of that reply is not sent
            await self.session.settle()  # a new message stops the reply / declines the code
        try:
            batch = self.inbox.feed(chunk)
        except InboxError as err:
            await self.fail(str(err))
            return
        if not batch:
            return
        if batch[-1].get("type") == "command":
            await self.command(batch[-1])
        else:
            await self.respond(batch)

    async def command(self, command: dict[str, Any]) -> None:
        name = str(command.get("content", "")).strip()
        run = self.session.run
        if name in ("go", "decline"):
            await self.decide(name, command)
        elif name == "stop":
            if run is not None:
                await run.stopped()
        elif name in SESSION_COMMANDS:
            try:
                reply = await run_session_command(self.session, name, command, self.allowed_models)
            except CommandError as err:
                await self.fail(str(err))
                return
            await self.send(reply)
            await self.send(COMPLETE)
        else:
            await self.fail(f"unknown command {name!r} ({KNOWN_COMMANDS})")

    async def decide(self, name: str, command: dict[str, Any]) -> None:
        """``go`` / ``decline``: answers the code waiting, if the hash allows it."""
        run = self.session.run
        if run is None or not run.awaiting:
            await self.fail("no code is waiting for approval")
            return
        try:
            answer = answer_for(name, command, run.pending_hash)
        except ApprovalRefused as err:
            await self.fail(str(err))
            return
        if not run.approve(answer):
            await self.fail("no code is waiting for approval")

    async def respond(self, batch: list[Received]) -> None:
        # The inbox gave each message a role and a type; chat() checks the rest.
        run = await self.session.start(cast("list[Message]", batch))
        if self.forwarder is not None:  # the previous run has ended: let it finish sending
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.forwarder), 5.0)
        self.forwarder = asyncio.create_task(self.forward(run))

    async def forward(self, run: Run) -> None:
        """Sends the run's chunks; a ``complete`` status ends each response."""
        async for batch in run.batches():
            for event in merge_text(batch):
                if not run.muted:
                    await self.send_event(event)

    async def send_event(self, event: RunEvent) -> None:
        if event is AWAITING:
            await self.send(usage_message(self.session.interp))
            await self.send(COMPLETE)
        elif isinstance(event, Finished):
            if event.error is not None:
                await self.send(server_error(event.error))
            await self.send(usage_message(self.session.interp))
            await self.send(COMPLETE)
        else:
            await self.send(event)

    async def fail(self, message: str) -> None:
        await self.send(server_error(message))
        await self.send(COMPLETE)

    async def close(self) -> None:
        """Stops the run (the conversation stays saved)."""
        await self.session.settle()
        if self.forwarder is not None:
            self.forwarder.cancel()
            with contextlib.suppress(BaseException):
                await self.forwarder


async def _authenticate(ws: WebSocket, token: str, timeout: float) -> bool:
    """0.4.3's handshake: the first message, within ``timeout`` seconds, is ``{"auth": TOKEN}``."""
    if token_matches(presented_token({k.lower(): v for k, v in ws.headers.items()}), token):
        return True
    problem = "authentication failed"
    try:
        first = json.loads(await asyncio.wait_for(ws.receive_text(), timeout))
    except asyncio.TimeoutError:
        first, problem = None, f"authentication timed out after {timeout:g} s"
    except (ValueError, KeyError, RuntimeError):
        first = None
    given = first.get("auth") if isinstance(first, dict) else None
    ok = isinstance(given, str) and token_matches(given, token)
    await ws.send_text(json.dumps({"auth": ok}))
    if not ok:
        await ws.send_text(json.dumps(server_error(problem)))
        await ws.close(code=1008)
    return ok


async def websocket_endpoint(ws: WebSocket, state: ServerState) -> None:
    """Serves one websocket client as one session."""
    await ws.accept()
    if not await _authenticate(ws, state.settings.token, state.settings.auth_timeout):
        return
    try:
        session = await state.registry.open()
    except SessionLimit as err:
        await ws.send_text(json.dumps(server_error(str(err))))
        await ws.close(code=1013)
        return
    session.attached = True
    connection = Connection(ws, session, state.settings.allowed_models)
    try:
        await connection.serve()
    finally:
        await connection.close()
        await state.registry.close(session.id)
