"""Shared base for languages run by a child process: persistent REPLs and one-shot runs.

A REPL child runs a small driver program that reads requests (``<token> <hex of the
UTF-8 code>`` lines) from a protocol pipe (the fd named by $INTERPRETER_PROTOCOL_FD,
so the user's code sees an empty stdin) and writes markers ``\\x1e<token>:<line>\\x1f``
(an active line) and ``\\x1e<token>:end\\x1f`` (the run is over) into its merged
stdout/stderr.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import queue
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
from abc import abstractmethod
from collections.abc import Iterator
from typing import IO, ClassVar

from ...lmc import Chunk
from .. import lifetime
from ..base import Language
from .output import active_line, output, read_until_eof

_POLL_S = 0.2
_INTERRUPT_GRACE_S = 2.0
PROTOCOL_ENV = "INTERPRETER_PROTOCOL_FD"
END = "end"


def not_installed(executable: str, hint: str) -> Chunk:
    """The one console line saying a runtime is missing, with how to install it."""
    return output(f"{executable} is not installed. {hint}\n")


class _Child:
    """A child process whose merged stdout and stderr a thread pumps into a bounded queue."""

    def __init__(self, argv: list[str], *, protocol: bool, stdin_data: bool = False) -> None:
        kwargs: dict[str, object] = {}
        self.requests: IO[bytes] | None = None
        read_end = -1
        if protocol:
            read_end, write_end = os.pipe()
            self.requests = os.fdopen(write_end, "wb")
            kwargs["pass_fds"] = (read_end,)
            kwargs["env"] = {**os.environ, PROTOCOL_ENV: str(read_end)}
        try:
            self.proc = lifetime.popen(
                argv,
                stdin=subprocess.PIPE if stdin_data else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **kwargs,
            )
        finally:
            if protocol:
                os.close(read_end)
        self.queue: queue.Queue[bytes] = queue.Queue(maxsize=64)
        assert self.proc.stdout is not None
        threading.Thread(target=self._pump, args=(self.proc.stdout,), daemon=True).start()

    def _pump(self, pipe: IO[bytes]) -> None:
        for data in read_until_eof(pipe):
            self.queue.put(data)

    def send(self, data: bytes) -> None:
        pipe = self.requests or self.proc.stdin
        assert pipe is not None
        pipe.write(data)
        pipe.flush()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """Kill the child and its process group, and reap it."""
        self.signal(signal.SIGKILL)
        self.proc.wait()
        for pipe in (self.requests, self.proc.stdin):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


class MarkerSplitter:
    """Splits one run's output into text, active lines (int) and END at its markers."""

    def __init__(self, token: str) -> None:
        self.prefix = f"\x1e{token}:"
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.buffer = ""

    def feed(self, data: bytes) -> list[str | int]:
        """Text pieces, line numbers and END, in order; a partial marker is held back."""
        self.buffer += self.decoder.decode(data, final=not data)
        events: list[str | int] = []
        while True:
            at = self.buffer.find(self.prefix)
            close = self.buffer.find("\x1f", at) if at >= 0 else -1
            if at < 0 or close < 0:
                break
            if at:
                events.append(self.buffer[:at])
            what = self.buffer[at + len(self.prefix) : close]
            events.append(int(what) if what.isdigit() else END)
            self.buffer = self.buffer[close + 1 :]
        keep = self._held_back() if data else 0
        if len(self.buffer) > keep:
            events.append(self.buffer[: len(self.buffer) - keep])
            self.buffer = self.buffer[len(self.buffer) - keep :]
        return events

    def _held_back(self) -> int:
        start = self.buffer.rfind("\x1e")
        if start < 0:
            return 0
        tail = self.buffer[start:]
        if tail.startswith(self.prefix) or self.prefix.startswith(tail):
            return len(tail)
        return 0


class ProcessLanguage(Language):
    """A language run by child processes; says so in one line when its runtime is missing."""

    executable: ClassVar[str]
    install_hint: ClassVar[str] = ""

    def __init__(self) -> None:
        self._child: _Child | None = None
        self._running: str | None = None  # the token of the run in progress
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The child process id, when one runs."""
        return self._child.proc.pid if self._child is not None else None

    def _sandboxed(self, argv: list[str], *writable: str) -> list[str]:
        """``argv`` inside the OS sandbox when one is set (``writable``: our own folders)."""
        if self.sandbox is None:
            return argv
        from ..sandbox import wrap

        return wrap(argv, self.sandbox, writable)

    def missing(self) -> Chunk | None:
        """The not-installed line when the runtime cannot be found on PATH."""
        if shutil.which(self.executable) is None:
            return not_installed(self.executable, self.install_hint)
        return None

    def _events(self, child: _Child, splitter: MarkerSplitter) -> Iterator[Chunk | None]:
        """Chunks until the END marker; a final None when the child ended first."""
        while True:
            try:
                data = child.queue.get(timeout=_POLL_S)
            except queue.Empty:
                if not child.alive() and child.queue.empty():
                    data = b""  # the pump may still be blocked on a grandchild's pipe
                else:
                    continue
            for event in splitter.feed(data):
                if event == END:
                    return
                if isinstance(event, int):
                    yield active_line(event)
                elif event:
                    yield output(event)
            if not data:
                yield None
                return

    def interrupt(self) -> None:
        child, token = self._child, self._running
        if child is None or token is None or not child.alive():
            return
        child.signal(signal.SIGINT)
        threading.Thread(target=self._escalate, args=(child, token), daemon=True).start()

    def _escalate(self, child: _Child, token: str) -> None:
        """Kill the child when the run goes on ignoring SIGINT."""
        try:
            child.proc.wait(timeout=_INTERRUPT_GRACE_S)
        except subprocess.TimeoutExpired:
            if self._running == token:
                child.signal(signal.SIGKILL)

    def terminate(self) -> None:
        with self._lock:
            child, self._child = self._child, None
        if child is not None:
            child.kill()


class ReplLanguage(ProcessLanguage):
    """A persistent REPL child (see the module docstring for its protocol).

    The state lives in the child. If the child dies mid-run (an interrupt it could not
    survive, an ``exit``), the run ends with a notice and the next run starts afresh.
    """

    #: True when the driver marks active lines itself (else the run is line 1 throughout).
    marks_lines: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        self._abandoned: str | None = None  # a run whose consumer stopped reading

    @abstractmethod
    def argv(self) -> list[str]:
        """The command line that starts the driver."""

    def _start(self) -> _Child:
        return _Child(self._sandboxed(self.argv()), protocol=True)

    def _ensure(self) -> _Child:
        child = self._child
        if child is not None and self._abandoned is not None:
            self._settle(child, self._abandoned)
            child = self._child
        if child is None or not child.alive():
            if child is not None:
                child.kill()
            child = self._child = self._start()
        return child

    def _send(self, request: bytes) -> _Child:
        """Send a request, starting the child afresh if it died since the last run."""
        child = self._ensure()
        try:
            child.send(request)
        except OSError:
            child.kill()
            child = self._child = self._start()
            child.send(request)
        return child

    def _settle(self, child: _Child, token: str) -> None:
        """Discard an abandoned run's output up to its END; kill the child if it never comes."""
        self._abandoned = None
        self._running = token
        splitter = MarkerSplitter(token)
        timer = threading.Timer(_INTERRUPT_GRACE_S, child.signal, (signal.SIGKILL,))
        timer.start()
        try:
            ended = all(chunk is not None for chunk in self._events(child, splitter))
        finally:
            timer.cancel()
            self._running = None
        if not ended:
            child.kill()
            self._child = None

    def run(self, code: str) -> Iterator[Chunk]:
        missing = self.missing()
        if missing is not None and (self._child is None or not self._child.alive()):
            yield missing
            yield active_line(None)
            return
        token = secrets.token_hex(8)
        request = f"{token} {code.encode('utf-8', 'surrogateescape').hex()}\n".encode()
        with self._lock:
            child = self._send(request)
            self._running = token
        finished = False
        try:
            if not self.marks_lines:
                yield active_line(1)
            for chunk in self._events(child, MarkerSplitter(token)):
                yield chunk if chunk is not None else output(self._died_notice())
            yield active_line(None)
            finished = True
        finally:
            self._running = None
            if not finished:
                self._abandoned = token

    def _died_notice(self) -> str:
        return f"\n{self.name} exited; its state was lost and the next run starts afresh.\n"


class OneShotLanguage(ProcessLanguage):
    """A language whose every run is a new process on a source file (no state)."""

    file_name: ClassVar[str] = "code"

    @abstractmethod
    def argv(self, path: str) -> list[str]:
        """The command line that runs the source file at ``path``."""

    def source(self, code: str) -> str:
        """The file's text for ``code``."""
        return code

    def run(self, code: str) -> Iterator[Chunk]:
        missing = self.missing()
        if missing is not None:
            yield missing
            yield active_line(None)
            return
        with tempfile.TemporaryDirectory(prefix="interpreter-") as folder:
            path = os.path.join(folder, self.file_name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.source(code))
            yield from self._run_file(path)

    def _run_file(self, path: str) -> Iterator[Chunk]:
        token = secrets.token_hex(8)
        with self._lock:
            argv = self._sandboxed(self.argv(path), os.path.dirname(path))
            child = self._child = _Child(argv, protocol=False)
            self._running = token
        try:
            yield active_line(1)
            for chunk in self._events(child, MarkerSplitter(token)):
                if chunk is not None:
                    yield chunk
            yield active_line(None)
        finally:
            self._running = None
            child.kill()
