"""Child process lifetime: children die with us, even when we are killed.

Three guards, all Linux-only where noted and harmless elsewhere:

* ``die_with_parent()`` is a Popen ``preexec_fn`` that asks the kernel (prctl
  PR_SET_PDEATHSIG) to SIGKILL the child when its parent dies, SIGKILL included.
* The kernel sends that signal when the *thread* that forked the child ends, so
  ``in_keeper(fn)`` runs ``fn`` (a Popen, a kernel start) in one long-lived keeper
  thread: a child started from a short-lived worker thread outlives that thread.
* ``terminate_at_exit(obj)`` calls ``obj.terminate()`` when Python exits normally.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import queue
import signal
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1


class _Terminable(Protocol):
    def terminate(self) -> None: ...


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


# Looked up before any fork: the child only makes one C call.
_PRCTL = _load_prctl()


def die_with_parent() -> Callable[[], None] | None:
    """A Popen ``preexec_fn``: the child gets SIGKILL when this process dies.

    None where the platform has no parent-death signal (pass it as is to Popen).
    """
    if _PRCTL is None:
        return None
    prctl, parent = _PRCTL, os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


class _Keeper:
    """One daemon thread that runs submitted callables, alive until the process ends."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, fn: Callable[[], T]) -> T:
        if threading.current_thread() is self._thread:
            return fn()
        self._start()
        future: Future[T] = Future()
        self._jobs.put((fn, future))
        return future.result()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="interpreter-process-keeper", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            fn, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as err:  # handed to the caller, who re-raises it
                future.set_exception(err)


_KEEPER = _Keeper()


def in_keeper(fn: Callable[[], T]) -> T:
    """``fn()`` run in the keeper thread (use it to start children); its result or error."""
    return _KEEPER.run(fn)


def popen(argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen(argv, **kwargs)`` whose child dies when this process dies."""
    preexec = die_with_parent()
    if preexec is not None:
        kwargs["preexec_fn"] = preexec
    return in_keeper(lambda: subprocess.Popen(argv, **kwargs))


_AT_EXIT: weakref.WeakSet[Any] = weakref.WeakSet()


def terminate_at_exit(obj: _Terminable) -> None:
    """Call ``obj.terminate()`` when the interpreter exits (``obj`` is held weakly)."""
    _AT_EXIT.add(obj)


@atexit.register
def _terminate_all() -> None:
    for obj in list(_AT_EXIT):
        with contextlib.suppress(Exception):
            obj.terminate()
