"""Server sessions: one ``OpenInterpreter`` each, its replies driven in worker threads.

A ``Run`` is one ``chat(stream=True)`` reply. Its blocking generator runs in a thread of
its own; chunks reach the event loop through an ``asyncio.Queue`` (``Run.events``). A
``confirmation`` chunk is followed by ``AWAITING`` and the thread waits for
``Run.approve(answer)`` (an ``Answer``: True, False, edited code, or
``{"hash": ..., "approve": bool}``, as ``chat()`` reads it); ``Run.pending_hash`` is the
sha256 of the code waiting. The last event is always ``Finished``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from ..lmc import Chunk, Decision, Message

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter

log = logging.getLogger(__name__)

STOP_GRACE_S = 10.0


class Awaiting(Enum):
    """The run waits for the client's decision on the confirmation just sent."""

    AWAITING = "awaiting"


AWAITING = Awaiting.AWAITING


@dataclass(frozen=True)
class Finished:
    """The run is over; ``error`` is a one-line message when it failed."""

    error: str | None = None


RunEvent = Chunk | Awaiting | Finished
Answer = Decision  # what chat(stream=True)'s generator accepts via send()


class SessionLimit(Exception):
    """No room for another session."""


class Run:
    """One reply of a session's interpreter, produced by a worker thread."""

    def __init__(self, interp: OpenInterpreter, messages: list[Message]) -> None:
        self.interp = interp
        self.messages = messages
        self.events: asyncio.Queue[RunEvent] = asyncio.Queue()
        self.done = asyncio.Event()
        self.awaiting = False
        self.pending_hash: str | None = None  # sha256 of the code waiting for approval
        self.muted = False  # set by a consumer that no longer forwards this run's events
        self._loop = asyncio.get_running_loop()
        self._decisions: queue.Queue[Answer] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="interpreter-session", daemon=True)

    def start(self) -> Run:
        self._thread.start()
        return self

    @property
    def finished(self) -> bool:
        return self.done.is_set()

    def approve(self, answer: Answer) -> bool:
        """Answers the pending confirmation; False when none is pending."""
        if not self.awaiting:
            return False
        self.awaiting = False
        self.pending_hash = None
        self._decisions.put(answer)
        return True

    def stop(self) -> None:
        """Stops the reply or the running code; pending code is declined."""
        if self.finished:
            return
        self.interp.stop()
        self.approve(False)

    async def stopped(self, timeout: float = STOP_GRACE_S) -> None:
        """Stops the run and waits (bounded) until its thread has finished."""
        self.stop()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.done.wait(), timeout)

    async def __aiter__(self) -> AsyncIterator[RunEvent]:
        while True:
            event = await self.events.get()
            yield event
            if isinstance(event, Finished):
                return

    async def batches(self) -> AsyncIterator[list[RunEvent]]:
        """The events in order, each time all that have queued up (at least one)."""
        while True:
            batch = [await self.events.get()]
            while not isinstance(batch[-1], Finished) and not self.events.empty():
                batch.append(self.events.get_nowait())
            yield batch
            if isinstance(batch[-1], Finished):
                return

    # -- the worker thread -------------------------------------------------------------

    def _work(self) -> None:
        error: str | None = None
        try:
            self._drive()
        except Exception as err:
            error = _one_line(err)
            if not _is_model_error(err):
                log.exception("session run failed")
        self._emit(Finished(error))
        self._call(self.done.set)

    def _drive(self) -> None:
        interp = self.interp
        interp.messages.extend(self.messages[:-1])
        gen = interp.chat(self.messages[-1], display=False, stream=True)
        answer: Answer | None = None
        while True:
            try:
                chunk = gen.send(answer)
            except StopIteration:
                return
            answer = None
            if chunk.get("type") == "confirmation":
                content = chunk.get("content")
                shown = content.get("hash") if isinstance(content, dict) else None
                self.pending_hash = shown if isinstance(shown, str) else None
                self.awaiting = True
                self._emit(chunk.copy())
                self._emit(AWAITING)
                answer = self._decisions.get()
            else:
                self._emit(chunk.copy())

    def _emit(self, event: RunEvent) -> None:
        self._call(self.events.put_nowait, event)

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: the server stopped
            self._loop.call_soon_threadsafe(fn, *args)


def _is_model_error(err: BaseException) -> bool:
    from ..llm.errors import ModelError

    return isinstance(err, ModelError)


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    if _is_model_error(err):
        return text or type(err).__name__
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


class Session:
    """One client's interpreter and its current run."""

    def __init__(self, session_id: str, interp: OpenInterpreter) -> None:
        self.id = session_id
        self.interp = interp
        self.run: Run | None = None
        self.attached = False  # held open by a websocket connection
        self.last_used = time.monotonic()

    @property
    def busy(self) -> bool:
        """A run is producing output (not merely waiting for approval)."""
        return self.run is not None and not self.run.finished and not self.run.awaiting

    async def start(self, messages: list[Message]) -> Run:
        """Starts a reply to ``messages``; a run still going is stopped first."""
        await self.settle()
        self.last_used = time.monotonic()
        self.run = Run(self.interp, messages).start()
        return self.run

    async def settle(self) -> None:
        """Stops any current run (declining pending code) and waits for it to end."""
        if self.run is not None and not self.run.finished:
            await self.run.stopped()

    async def close(self) -> None:
        """Stops the run and ends the interpreter's processes."""
        await self.settle()
        await asyncio.to_thread(self.interp.computer.terminate)


class SessionRegistry:
    """The open sessions, up to ``max_sessions``; idle unattached ones expire."""

    def __init__(
        self,
        factory: Callable[[], OpenInterpreter],
        *,
        max_sessions: int = 32,
        idle_timeout: float = 1800.0,
        allowed_models: tuple[str, ...] = (),
    ) -> None:
        self.factory = factory
        self.allowed_models = allowed_models  # the models clients may switch to
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout
        self.sessions: dict[str, Session] = {}
        self.overrides: dict[str, Any] = {}  # settings applied to every new session

    def __len__(self) -> int:
        return len(self.sessions)

    def get(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    async def open(self, session_id: str | None = None) -> Session:
        """Opens a new session (or returns the one named ``session_id``)."""
        if session_id is not None and session_id in self.sessions:
            session = self.sessions[session_id]
            session.last_used = time.monotonic()
            return session
        if len(self.sessions) >= self.max_sessions:
            await self._expire_idle()
        if len(self.sessions) >= self.max_sessions:
            raise SessionLimit(
                f"server is full: {self.max_sessions} sessions are open (max_sessions); "
                "close one or try again later"
            )
        sid = session_id or uuid.uuid4().hex
        session = Session(sid, self._new_interpreter())
        self.sessions[sid] = session
        return session

    def _new_interpreter(self) -> OpenInterpreter:
        from .settings_api import apply_settings

        interp = self.factory()
        if self.overrides:
            apply_settings(interp, self.overrides, self.allowed_models)
        return interp

    async def close(self, session_id: str) -> None:
        session = self.sessions.pop(session_id, None)
        if session is not None:
            await session.close()

    async def close_all(self) -> None:
        await asyncio.gather(*(self.close(sid) for sid in list(self.sessions)))

    async def _expire_idle(self) -> None:
        now = time.monotonic()
        for sid, session in list(self.sessions.items()):
            idle = now - session.last_used > self.idle_timeout
            if idle and not session.attached and not session.busy:
                await self.close(sid)
