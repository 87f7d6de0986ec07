"""Python: a Jupyter kernel (ipykernel) started on first use; the state persists."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from ...core.lmc import Chunk
from ..base import Language
from ..sandbox import SandboxPolicy, wrap
from .output import OutputCap, active_line, output, strip_ansi

_POLL_S = 0.2
_INTERRUPT_GRACE_S = 3.0
_START_TIMEOUT_S = 60.0
DIED_NOTICE = "\nThe Python kernel died and was restarted; its state was lost.\n"
STUCK_NOTICE = (
    "\nThe Python kernel did not stop when interrupted, so it was restarted; its state was lost.\n"
)
_KERNEL_MODULE = "_interpreter_kernel"


def _kernel_argv() -> list[str]:
    return [
        sys.executable,
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
        "--HistoryManager.enabled=False",
    ]


def _boot_code() -> str:
    """Code that loads kernel_side.py into the kernel as a module (without installing it)."""
    source = Path(__file__).with_name("kernel_side.py").read_text(encoding="utf-8")
    return (
        "def __interpreter_boot():\n"
        "    import sys, types\n"
        f"    module = types.ModuleType({_KERNEL_MODULE!r})\n"
        f"    exec(compile({source!r}, '<interpreter>', 'exec'), module.__dict__)\n"
        f"    sys.modules[{_KERNEL_MODULE!r}] = module\n"
        "__interpreter_boot()\n"
        "del __interpreter_boot\n"
    )


def _install_expression(token: str, limit: int | None) -> str:
    # A user expression runs after the cell, outside IPython's per-cell stream patching.
    return f"__import__('sys').modules[{_KERNEL_MODULE!r}].install({token!r}, {limit!r})"


class _Kernel:
    """One running kernel: its manager, a blocking client and the marker pattern."""

    def __init__(self, limit: int | None, sandbox: SandboxPolicy | None = None) -> None:
        from jupyter_client.kernelspec import KernelSpec
        from jupyter_client.manager import KernelManager

        # IPC sockets live in a private directory, never in the user's working directory.
        self.ipc_dir = tempfile.mkdtemp(prefix="interpreter-kernel-")
        self.manager: Any = KernelManager(transport="ipc", ip=os.path.join(self.ipc_dir, "ipc"))
        # -- sandbox: the kernel runs inside it; signals may not reach it, so interrupts
        # go as messages; the connection file sits with the sockets (visible inside).
        self.sandboxed = sandbox is not None
        argv = _kernel_argv()
        if sandbox is not None:
            argv = wrap(argv, sandbox, [self.ipc_dir], jupyter_kernel=True)
            self.manager.connection_file = os.path.join(self.ipc_dir, "kernel.json")
        self.manager._kernel_spec = KernelSpec(
            argv=argv,
            display_name="Python 3",
            language="python",
            interrupt_mode="message" if self.sandboxed else "signal",
        )
        self.manager.start_kernel(
            cwd=os.getcwd(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.client: Any = self.manager.blocking_client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=_START_TIMEOUT_S)
        self.pid: int = self._process().pid
        token = secrets.token_hex(6)
        self.markers = re.compile(f"\x02oi-{token}:(d?)(\\d+)\x03")
        self.limit = limit
        self.quiet(_boot_code(), {"install": _install_expression(token, limit)})

    def _process(self) -> Any:
        """The kernel's Popen (the local provisioner keeps it)."""
        return getattr(self.manager.provisioner, "process", None)

    def alive(self) -> bool:
        process = self._process()
        return process is not None and process.poll() is None

    def execute(
        self, code: str, *, silent: bool = False, expressions: dict[str, str] | None = None
    ) -> str:
        self.drain_replies()
        msg_id: str = self.client.execute(
            code,
            silent=silent,
            store_history=not silent,
            user_expressions=expressions or {},
            allow_stdin=False,
            stop_on_error=False,
        )
        return msg_id

    def quiet(self, code: str, expressions: dict[str, str] | None = None) -> None:
        """Run setup code, waiting for it to finish and showing nothing."""
        msg_id = self.execute(code, silent=True, expressions=expressions)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline and self.alive():
            msg = self.next_message(msg_id)
            if msg is not None and _is_idle(msg):
                return

    def set_limit(self, limit: int | None) -> None:
        if limit != self.limit:
            self.limit = limit
            self.quiet(f"__import__('sys').modules[{_KERNEL_MODULE!r}].STATE.limit = {limit!r}")

    def next_message(self, msg_id: str) -> dict[str, Any] | None:
        """The next iopub message for ``msg_id``, or None after a quiet poll interval."""
        try:
            msg: dict[str, Any] = self.client.get_iopub_msg(timeout=_POLL_S)
        except queue.Empty:
            return None
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            return None
        return msg

    def drain_replies(self) -> None:
        while True:
            try:
                self.client.get_shell_msg(timeout=0)
            except queue.Empty:
                return

    def interrupt(self) -> None:
        if self.sandboxed:  # -- sandbox: an interrupt_request on the control channel
            self.manager.interrupt_kernel()
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGINT)

    def shutdown(self) -> None:
        try:
            self.client.stop_channels()
        finally:
            try:
                self.manager.shutdown_kernel(now=True)
            finally:
                shutil.rmtree(self.ipc_dir, ignore_errors=True)


def _is_idle(msg: dict[str, Any]) -> bool:
    return bool(msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle")


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


def _traceback_text(frames: list[str]) -> str:
    """The traceback without colours and without frames of our own kernel-side code."""
    plain = [strip_ansi(frame) for frame in frames]
    return "\n".join(f for f in plain if "File <interpreter>:" not in f) + "\n"


def _b64(value: Any) -> str:
    return "".join(str(value).split())


class Python(Language):
    """Python in a Jupyter kernel.

    Output streams as the kernel publishes it. Active lines come from markers that an
    IPython AST transformer puts before each statement (tracebacks keep the user's line
    numbers). Console output is capped inside the kernel, so a flood never reaches us.
    """

    name: ClassVar[str] = "Python"
    aliases: ClassVar[tuple[str, ...]] = ("py", "python3")
    file_extension: ClassVar[str] = "py"
    caps_output: ClassVar[bool] = True

    def __init__(self) -> None:
        self._kernel: _Kernel | None = None
        self._lock = threading.Lock()
        self._interrupted_at: float | None = None

    @property
    def pid(self) -> int | None:
        """The kernel process id, when one runs."""
        return self._kernel.pid if self._kernel is not None else None

    def _ensure(self) -> _Kernel:
        with self._lock:
            if self._kernel is not None and not self._kernel.alive():
                self._kernel.shutdown()
                self._kernel = None
            if self._kernel is None:
                self._kernel = _Kernel(self.max_output_bytes, self.sandbox)
            self._kernel.set_limit(self.max_output_bytes)
            return self._kernel

    def run(self, code: str) -> Iterator[Chunk]:
        kernel = self._ensure()
        self._interrupted_at = None
        msg_id = kernel.execute(code)
        cap = OutputCap(self.max_output_bytes)
        yield from cap.wrap(self._chunks(kernel, msg_id, cap))

    def _chunks(self, kernel: _Kernel, msg_id: str, cap: OutputCap) -> Iterator[Chunk]:
        while True:
            msg = kernel.next_message(msg_id)
            notice = self._trouble(kernel, quiet=msg is None)
            if notice is not None:
                yield output(notice)
                break
            if msg is None:
                continue
            if _is_idle(msg):
                break
            yield from self._message_chunks(kernel, msg, cap)
        yield active_line(None)

    def _trouble(self, kernel: _Kernel, *, quiet: bool) -> str | None:
        """A notice (after restarting) if the kernel died or goes on despite an interrupt."""
        stuck = (
            self._interrupted_at is not None
            and time.monotonic() - self._interrupted_at > _INTERRUPT_GRACE_S
        )
        if stuck:
            self._replace(kernel)
            return STUCK_NOTICE
        if quiet and not kernel.alive():
            self._replace(kernel)
            return DIED_NOTICE
        return None

    def _replace(self, kernel: _Kernel) -> None:
        with self._lock:
            kernel.shutdown()
            self._kernel = _Kernel(self.max_output_bytes, self.sandbox)

    def _message_chunks(
        self, kernel: _Kernel, msg: dict[str, Any], cap: OutputCap
    ) -> Iterator[Chunk]:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            yield from self._stream_chunks(kernel, str(content.get("text", "")), cap)
        elif kind in ("display_data", "execute_result"):
            chunk = rich_chunk(content.get("data", {}))
            if chunk is not None:
                yield chunk
        elif kind == "error":
            yield output(_traceback_text(content.get("traceback", [])))

    def _stream_chunks(self, kernel: _Kernel, text: str, cap: OutputCap) -> Iterator[Chunk]:
        """Output text with the markers taken out (as active lines and dropped counts)."""
        pos = 0
        for match in kernel.markers.finditer(text):
            if match.start() > pos:
                yield output(text[pos : match.start()])
            if match.group(1):
                cap.add_dropped(int(match.group(2)))
            else:
                yield active_line(int(match.group(2)))
            pos = match.end()
        if pos < len(text):
            yield output(text[pos:])

    def interrupt(self) -> None:
        kernel = self._kernel
        if kernel is not None:
            self._interrupted_at = time.monotonic()
            kernel.interrupt()

    def terminate(self) -> None:
        with self._lock:
            kernel, self._kernel = self._kernel, None
        if kernel is not None:
            kernel.shutdown()
