"""A private asyncio event loop in a daemon thread, with blocking calls into it.

The ``mcp`` client is async; the interpreter is not. ``EventLoopThread.call(coro,
timeout)`` runs a coroutine on the loop and waits for it in the caller's thread;
``cancel_all()`` (``interpreter.stop()``, Ctrl-C) ends every wait at once and cancels the
coroutines. A wait is a plain lock wait, so a signal (Ctrl-C) in the main thread
interrupts it too, and the coroutine is then cancelled.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["CallCancelled", "CallTimedOut", "EventLoopThread"]

T = TypeVar("T")


class CallCancelled(Exception):
    """The wait was cancelled (``stop()``, Ctrl-C, or the loop closing)."""


class CallTimedOut(Exception):
    """The coroutine did not finish in time; it was cancelled."""


class EventLoopThread:
    """One event loop, started on first use, running until ``close()``."""

    def __init__(self, name: str = "interpreter-mcp") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._waiting: set[concurrent.futures.Future[Any]] = set()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop (started now when it is not)."""
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                self._start()
            assert self._loop is not None
            return self._loop

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name=self._name, daemon=True)
        self._thread.start()
        ready.wait()
        self._loop = loop

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``coro`` on the loop; its future (cancel it to cancel the coroutine)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Run ``coro`` and wait for its result; raises ``CallTimedOut`` after
        ``timeout`` seconds and ``CallCancelled`` when ``cancel_all()`` ends the wait
        (the coroutine is cancelled in both cases)."""
        future = self.submit(coro)
        with self._lock:
            self._waiting.add(future)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise CallTimedOut from None
        except concurrent.futures.CancelledError:
            raise CallCancelled from None
        except BaseException:
            future.cancel()  # KeyboardInterrupt in the waiting thread: the call ends too
            raise
        finally:
            with self._lock:
                self._waiting.discard(future)

    def cancel_all(self) -> int:
        """End every wait now; returns how many there were."""
        with self._lock:
            waiting = list(self._waiting)
        for future in waiting:
            future.cancel()
        return len(waiting)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the loop (after ``shutdown`` coroutines have run, see the hub)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        self.cancel_all()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if not thread.is_alive():
            loop.close()
