"""One base for languages that run in a Jupyter kernel, wherever the kernel runs.

``KernelLanguage`` is the Language: it runs code and streams the request's iopub messages
as chunks, interrupts, restarts a kernel that ignores an interrupt or died, and terminates.
``KernelConnection`` is the transport it drives: a local ipykernel over ZeroMQ
(``python.py``) or a kernel in a Jupyter Kernel Gateway over its websocket
(``execution/gateway.py``). A connection reports trouble as a status message: ``"dead"`` (the
kernel is gone), ``"restarting"`` (its manager restarts it) or ``"lost"`` (our
connection to it broke).

Python kernels also get our kernel-side code (``kernel_side.py``): active-line
markers and an output cap inside the kernel (``KernelSide``).

A ``kernel_observer`` (set by the Computer) is given every message of a run as the kernel
sent it (``execute_input``, outputs, errors), our markers and frames taken out, then the
status that ended the run (``idle``, or a trouble status): what a notebook export keeps.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from ...lmc import Chunk
from ..base import Language
from ..kernel_api import KernelApi, install_code
from .output import OutputCap, active_line, output, strip_ansi

__all__ = [
    "KernelConnection",
    "KernelLanguage",
    "KernelSide",
    "Message",
    "rich_chunk",
    "status",
]

INTERRUPT_GRACE_S = 3.0  # how long interrupted code may go on before its kernel restarts
KERNEL_MODULE = "_interpreter_kernel"

Message = dict[str, Any]


def status(state: str) -> Message:
    """A made-up iopub status message (how a connection reports trouble)."""
    return {"msg_type": "status", "content": {"execution_state": state}}


def state_of(msg: Message | None) -> str | None:
    """A status message's execution state; None for other messages."""
    if msg is None or msg.get("msg_type") != "status":
        return None
    state = msg.get("content", {}).get("execution_state")
    return str(state) if state is not None else None


class KernelConnection(ABC):
    """One running kernel, as the language sees it."""

    @abstractmethod
    def execute(
        self, code: str, *, silent: bool = False, expressions: dict[str, str] | None = None
    ) -> str:
        """Send an execute_request; its msg_id. ``ConnectionError`` when the kernel is gone."""

    @abstractmethod
    def receive(self, msg_id: str) -> Message | None:
        """The next iopub message of request ``msg_id``, a trouble status (``dead``,
        ``restarting``, ``lost``), or None after a quiet poll interval."""

    @abstractmethod
    def quiet(self, code: str, expressions: dict[str, str] | None = None) -> None:
        """Run setup code, waiting for it to finish and showing nothing."""

    @abstractmethod
    def interrupt(self) -> None: ...

    @abstractmethod
    def close(self) -> None:
        """Stop the kernel and free what the connection holds."""

    def alive(self) -> bool:
        """Whether the kernel is known to run (checked before each run)."""
        return True

    @abstractmethod
    def await_output(self) -> None:
        """Wait until a kernel restarted in place publishes to us again."""


K = TypeVar("K", bound=KernelConnection)


class KernelSide:
    """Our kernel-side code in a Python kernel: the marker pattern and the output cap."""

    def __init__(self) -> None:
        self.markers = re.compile("\x02oi-(?!)")  # matches nothing until booted
        self.limit: int | None = None
        #: kernel API name -> its key, as installed in this kernel (None: no ``computer`` yet)
        self.installed: dict[str, str] | None = None

    def boot(self, kernel: KernelConnection, limit: int | None) -> None:
        """Load the kernel-side code into a fresh (or freshly restarted) kernel."""
        token = secrets.token_hex(6)
        self.markers = re.compile(f"\x02oi-{token}:(d?)(\\d+)\x03")
        self.limit = limit
        self.installed = None
        kernel.quiet(boot_code(), {"install": _install_expression(token, limit)})

    def sync(self, kernel: KernelConnection, apis: Sequence[KernelApi]) -> None:
        """Make ``computer`` in the kernel, with the parts (kernel APIs) it lacks or has
        old; a part no longer wanted stays until the kernel restarts."""
        installed = self.installed or {}
        stale = [api for api in apis if installed.get(api.name) != api.key]
        if stale or self.installed is None:
            kernel.quiet(install_code(stale))
        self.installed = {api.name: api.key for api in apis}

    def set_limit(self, kernel: KernelConnection, limit: int | None) -> None:
        if limit != self.limit:
            self.limit = limit
            kernel.quiet(f"__import__('sys').modules[{KERNEL_MODULE!r}].STATE.limit = {limit!r}")

    def chunks(self, text: str, cap: OutputCap) -> Iterator[Chunk]:
        """Output text with the markers taken out (as active lines and dropped counts)."""
        pos = 0
        for match in self.markers.finditer(text):
            if match.start() > pos:
                yield output(text[pos : match.start()])
            if match.group(1):
                cap.add_dropped(int(match.group(2)))
            else:
                yield active_line(int(match.group(2)))
            pos = match.end()
        if pos < len(text):
            yield output(text[pos:])


def boot_code() -> str:
    """Code that loads kernel_side.py into the kernel as a module (without installing it)."""
    source = Path(__file__).with_name("kernel_side.py").read_text(encoding="utf-8")
    return (
        "def __interpreter_boot():\n"
        "    import sys, types\n"
        f"    module = types.ModuleType({KERNEL_MODULE!r})\n"
        f"    exec(compile({source!r}, '<interpreter>', 'exec'), module.__dict__)\n"
        f"    sys.modules[{KERNEL_MODULE!r}] = module\n"
        "__interpreter_boot()\n"
        "del __interpreter_boot\n"
    )


def _install_expression(token: str, limit: int | None) -> str:
    # A user expression runs after the cell, outside IPython's per-cell stream patching.
    return f"__import__('sys').modules[{KERNEL_MODULE!r}].install({token!r}, {limit!r})"


class KernelLanguage(Language, Generic[K]):
    """Code in a Jupyter kernel; the state persists between runs.

    Output streams as the kernel publishes it, capped per run. When the kernel dies, or
    goes on more than a few seconds after an interrupt, the run ends with a notice and the
    kernel is restarted (its state is lost). Subclasses give the connection (``_connect``)
    and say what a dead kernel means (``_after_death``).
    """

    caps_output: ClassVar[bool] = True
    #: Whether the kernel gets our kernel-side code (active lines, in-kernel output cap).
    instrumented: ClassVar[bool] = False
    #: How notices name the kernel's place ("remote " for a gateway's kernels).
    where: ClassVar[str] = ""

    def __init__(self) -> None:
        self._kernel: K | None = None
        self._lock = threading.Lock()
        self._interrupted_at: float | None = None
        self._side = KernelSide()

    # ---- what subclasses give --------------------------------------------------------

    @abstractmethod
    def _connect(self) -> K:
        """Start a kernel and connect to it."""

    def _restart_kernel(self, kernel: K) -> None:
        """Restart ``kernel`` (its state is lost): by default a new kernel replaces it."""
        with self._lock:
            kernel.close()
            self._kernel = self._start()

    def _after_death(self, kernel: K) -> str:
        """Deal with a dead kernel; what the notice says happened."""
        self._restart_kernel(kernel)
        return "died and was restarted"

    # ---- lifecycle -------------------------------------------------------------------

    def _ensure(self) -> K:
        with self._lock:
            if self._kernel is not None and not self._kernel.alive():
                self._kernel.close()
                self._kernel = None
            if self._kernel is None:
                self._kernel = self._start()
            if self.instrumented:
                self._side.set_limit(self._kernel, self.max_output_bytes)
                self._side.sync(self._kernel, self.kernel_apis)
            return self._kernel

    def prepare(self) -> None:
        """Start the kernel now (the first run then finds it ready)."""
        self._ensure()

    def _start(self) -> K:
        kernel = self._connect()
        try:
            self._setup(kernel)
        except BaseException:
            kernel.close()
            raise
        return kernel

    def _setup(self, kernel: K) -> None:
        """Prepare a fresh (or freshly restarted) kernel."""
        if self.instrumented:
            self._side.boot(kernel, self.max_output_bytes)

    def _restarted(self, kernel: K) -> None:
        """Set up a kernel restarted in place once its output reaches us again."""
        kernel.await_output()
        self._setup(kernel)

    def _discard(self, kernel: K) -> None:
        with self._lock:
            if self._kernel is kernel:
                self._kernel = None
        kernel.close()

    def restart(self) -> None:
        """Restart the kernel (its state is lost); nothing when none runs."""
        kernel = self._kernel
        if kernel is not None:
            self._restart_kernel(kernel)

    def interrupt(self) -> None:
        kernel = self._kernel
        if kernel is not None:
            self._interrupted_at = time.monotonic()
            kernel.interrupt()

    def terminate(self) -> None:
        with self._lock:
            kernel, self._kernel = self._kernel, None
        if kernel is not None:
            kernel.close()

    # ---- running ---------------------------------------------------------------------

    def run(self, code: str) -> Iterator[Chunk]:
        kernel = self._ensure()
        self._interrupted_at = None
        try:
            msg_id = kernel.execute(code)
        except ConnectionError:  # the kernel went away since the last run
            self._discard(kernel)
            yield output(self._notice("was gone, so a new one was started"))
            kernel = self._ensure()
            msg_id = kernel.execute(code)
        cap = OutputCap(self.max_output_bytes)
        yield from cap.wrap(self._chunks(kernel, msg_id, cap))

    def _chunks(self, kernel: K, msg_id: str, cap: OutputCap) -> Iterator[Chunk]:
        while True:
            msg = kernel.receive(msg_id)
            notice = self._trouble(kernel, msg)
            if notice is not None:
                yield output(notice)
                break
            if msg is None:
                continue
            self._observe(msg)
            if state_of(msg) == "idle":
                break
            yield from self._message_chunks(msg, cap)
        yield active_line(None)

    def _observe(self, msg: Message) -> None:
        """Hand ``msg`` to the kernel observer, without our markers and our own frames."""
        observer = self.kernel_observer
        if observer is None:
            return
        kind, content = msg.get("msg_type"), dict(msg.get("content") or {})
        if kind == "stream" and self.instrumented:
            content["text"] = self._side.markers.sub("", str(content.get("text", "")))
        elif kind == "error":
            frames = [str(f) for f in content.get("traceback") or []]
            content["traceback"] = [f for f in frames if not _own_frame(f)]
        observer({"msg_type": kind, "content": content})

    def _trouble(self, kernel: K, msg: Message | None) -> str | None:
        """A notice when the kernel died or goes on despite an interrupt (after recovering)."""
        state = state_of(msg)
        if msg is not None and state in ("restarting", "dead", "lost"):
            self._observe(msg)
        if state == "restarting":
            self._restarted(kernel)
            return self._notice("died and was restarted")
        if state == "dead":
            return self._notice(self._after_death(kernel))
        if state == "lost":
            self._discard(kernel)
            return self._notice("lost its connection, so the next run starts anew")
        interrupted = self._interrupted_at
        if interrupted is not None and time.monotonic() - interrupted > INTERRUPT_GRACE_S:
            self._interrupted_at = None
            self._restart_kernel(kernel)
            return self._notice("did not stop when interrupted, so it was restarted")
        return None

    def _notice(self, what: str) -> str:
        return f"\nThe {self.where}{self.name} kernel {what}; its state was lost.\n"

    def _message_chunks(self, msg: Message, cap: OutputCap) -> Iterator[Chunk]:
        kind, content = msg.get("msg_type"), msg.get("content", {})
        if kind == "stream":
            text = str(content.get("text", ""))
            yield from self._side.chunks(text, cap) if self.instrumented else [output(text)]
        elif kind in ("display_data", "execute_result"):
            chunk = rich_chunk(content.get("data", {}))
            if chunk is not None:
                yield chunk
        elif kind == "error":
            yield output(traceback_text(content.get("traceback", [])))


def rich_chunk(data: dict[str, Any]) -> Chunk | None:
    """The chunk for a display_data/execute_result bundle, best format first."""
    if "image/png" in data:
        return {"type": "image", "format": "base64.png", "content": _b64(data["image/png"])}
    if "image/jpeg" in data:
        return {"type": "image", "format": "base64.jpeg", "content": _b64(data["image/jpeg"])}
    if "text/html" in data:
        return {"type": "code", "format": "html", "content": str(data["text/html"])}
    if "application/javascript" in data:
        return {"type": "code", "format": "javascript", "content": data["application/javascript"]}
    if "text/plain" in data:
        text = str(data["text/plain"])
        return output(text if text.endswith("\n") else text + "\n")
    return None


def traceback_text(frames: list[str]) -> str:
    """The traceback without colours and without frames of our own kernel-side code."""
    plain = [strip_ansi(frame) for frame in frames]
    return "\n".join(f for f in plain if not _own_frame(f)) + "\n"


def _own_frame(frame: str) -> bool:
    return "File <interpreter>:" in strip_ansi(frame)


def _b64(value: Any) -> str:
    return "".join(str(value).split())
