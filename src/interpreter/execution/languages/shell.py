"""Shell: one persistent bash process; the working directory and variables persist."""

from __future__ import annotations

import codecs
import contextlib
import os
import queue
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from typing import IO, ClassVar

from ...lmc import Chunk
from ..base import Language
from ..lifetime import popen
from ..sandbox import SandboxPolicy, wrap
from .output import active_line, output, read_until_eof

_INTERRUPT_GRACE_S = 1.0
_POLL_S = 0.2
_DRAIN_S = 0.5  # how long a dead bash's pipes may stay open (background children)
_RESTART_NOTICE = (
    "\nThe shell was restarted; its working directory, variables and functions were kept.\n"
)


class _Bash:
    """A bash process whose stdout and stderr are read by threads into one queue."""

    def __init__(self, cwd: str | None, state_file: str, sandbox: SandboxPolicy | None) -> None:
        argv = ["bash", "--norc", "--noprofile"]
        if sandbox is not None:  # -- sandbox: bash (and all it starts) runs inside it
            argv = wrap(argv, sandbox, [os.path.dirname(state_file)])
        self.proc = popen(  # dies with us, even when we are killed
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            start_new_session=True,
        )
        # Bounded, so a flood of output blocks the program instead of filling our memory.
        self.queue: queue.Queue[tuple[str, bytes]] = queue.Queue(maxsize=64)
        self.killed = False
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for name, pipe in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr)):
            threading.Thread(target=self._pump, args=(name, pipe), daemon=True).start()
        if os.path.exists(state_file):
            self.send(f"source {shlex.quote(state_file)} >/dev/null 2>&1\n")

    def _pump(self, name: str, pipe: IO[bytes]) -> None:
        """Read one pipe until EOF into the queue."""
        for data in read_until_eof(pipe):
            if not self.killed:  # once killed, a leftover background process is discarded
                self.queue.put((name, data))

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode("utf-8", "surrogateescape"))
        self.proc.stdin.flush()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """Kill bash and everything in its process group, and reap it."""
        if self.alive():
            _killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.killed = True
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class _Reader:
    """Splits one stream's text at the end marker, holding back a possible partial marker."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.buffer = ""
        self.done = False
        self.eof = False
        self.tail = ""  # what follows the marker (the exit status on stdout)

    def feed(self, data: bytes) -> str:
        """The text safe to forward; sets ``done`` once the marker has been seen."""
        self.buffer += self.decoder.decode(data, final=not data)
        if not data:
            self.eof = True
            text, self.buffer = self.buffer, ""
            return text
        at = self.buffer.find(self.marker)
        if at >= 0:
            text, self.tail = self.buffer[:at], self.buffer[at + len(self.marker) :]
            self.buffer, self.done = "", True
            return text
        keep = _partial_suffix(self.buffer, self.marker)
        text = self.buffer[: len(self.buffer) - keep]
        self.buffer = self.buffer[len(self.buffer) - keep :]
        return text


def _partial_suffix(text: str, marker: str) -> int:
    """Length of the longest suffix of ``text`` that begins ``marker``."""
    if marker[0] not in text[-len(marker) :]:
        return 0
    for size in range(min(len(text), len(marker) - 1), 0, -1):
        if text.endswith(marker[:size]):
            return size
    return 0


class Shell(Language):
    """Bash, one persistent process per Shell.

    User code runs through ``eval`` with stdin from /dev/null (so a prompt for input
    returns at once), followed by an end marker carrying the exit status. ``interrupt``
    sends SIGINT to the process group; if that ends bash itself (a non-interactive shell
    dies of SIGINT), bash is started again in the same directory with the variables and
    functions saved after the last completed run, and a notice says so.
    """

    name: ClassVar[str] = "Shell"
    aliases: ClassVar[tuple[str, ...]] = ("bash", "sh", "zsh")
    file_extension: ClassVar[str] = "sh"

    def __init__(self) -> None:
        self._bash: _Bash | None = None
        self._state_dir = tempfile.mkdtemp(prefix="interpreter-shell-")
        self._state_file = os.path.join(self._state_dir, "state.sh")
        # The saved state lives as long as this object; terminate() forgets it.
        weakref.finalize(self, shutil.rmtree, self._state_dir, True)
        self._running: str | None = None  # the token of the run in progress
        self._abandoned: _Bash | None = None  # a bash left mid-run by its consumer
        self._lock = threading.Lock()
        self.last_exit_status: int | None = None

    def _ensure(self) -> _Bash:
        if self._bash is not None and self._bash is self._abandoned:
            self._bash.kill()  # a run nobody read to its end: its output would leak
            self._abandoned = None
        if self._bash is None or not self._bash.alive():
            if self._bash is not None:
                self._bash.kill()
            self._bash = _Bash(None, self._state_file, self.sandbox)
        return self._bash

    def _script(self, code: str, token: str) -> str:
        target = shlex.quote(self._state_file)
        state = f'{{ declare -p; declare -f; printf "cd %q\\n" "$PWD"; }} >{target} 2>/dev/null'
        return (
            f"IFS= read -r -d '' __oi_code <<'__OI_{token}'\n{code}\n__OI_{token}\n"
            'eval "$__oi_code" < /dev/null 2>&1\n'
            f"__oi_status=$?; {state}\n"
            f"printf '\\036{token}\\037%s\\036' \"$__oi_status\"; printf '\\036{token}\\037' >&2\n"
        )

    def run(self, code: str) -> Iterator[Chunk]:
        with self._lock:
            bash = self._ensure()
            token = secrets.token_hex(8)
            bash.send(self._script(code, token))
            self._running = token
        readers = {name: _Reader(f"\x1e{token}\x1f") for name in ("stdout", "stderr")}
        finished = False
        try:
            yield active_line(1)
            yield from self._collect(bash, readers)
            yield active_line(None)
            finished = True
        finally:
            self._running = None
            if not finished:
                self._abandoned = bash

    def _collect(self, bash: _Bash, readers: dict[str, _Reader]) -> Iterator[Chunk]:
        while not all(r.done for r in readers.values()):
            if all(r.eof for r in readers.values()) or not bash.alive():
                yield from self._restart(bash, readers)
                return
            try:
                name, data = bash.queue.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            text = readers[name].feed(data)
            if text:
                yield output(text)
        self._remember(readers["stdout"].tail)

    def _remember(self, tail: str) -> None:
        status = tail.split("\x1e", 1)[0]
        self.last_exit_status = int(status) if status.isdigit() else None

    def _restart(self, bash: _Bash, readers: dict[str, _Reader]) -> Iterator[Chunk]:
        """Bash died mid-run (interrupt, ``exit``): forward what is left, then restart."""
        deadline = time.monotonic() + _DRAIN_S
        while not all(r.eof for r in readers.values()) and time.monotonic() < deadline:
            try:
                name, data = bash.queue.get(timeout=_POLL_S / 4)
            except queue.Empty:
                continue
            text = readers[name].feed(data)
            if text:
                yield output(text)
        for reader in readers.values():
            if reader.buffer:
                yield output(reader.buffer)
        bash.kill()
        with self._lock:
            self._bash = _Bash(None, self._state_file, self.sandbox)
        yield output(_RESTART_NOTICE)

    def interrupt(self) -> None:
        bash = self._bash
        if bash is None or not bash.alive():
            return
        token = self._running
        _killpg(bash.proc.pid, signal.SIGINT)
        threading.Thread(target=self._escalate, args=(bash, token), daemon=True).start()

    def _escalate(self, bash: _Bash, token: str | None) -> None:
        """Kill the group when the run goes on ignoring SIGINT."""
        try:
            bash.proc.wait(timeout=_INTERRUPT_GRACE_S)
        except subprocess.TimeoutExpired:
            if token is not None and self._running == token:
                _killpg(bash.proc.pid, signal.SIGKILL)

    def terminate(self) -> None:
        with self._lock:
            if self._bash is not None:
                self._bash.kill()
                self._bash = None
            with contextlib.suppress(OSError):
                os.remove(self._state_file)

    @property
    def pid(self) -> int | None:
        """The bash process id, when one runs."""
        return self._bash.proc.pid if self._bash is not None else None
