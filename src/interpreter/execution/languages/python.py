"""Python: a local Jupyter kernel (ipykernel) started on first use; the state persists.

The language itself is ``KernelLanguage`` (``kernel.py``, shared with the
gateway's kernels); this module is the local transport: a kernel process started by
jupyter_client, reached over IPC sockets in a private directory.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

from ..sandbox import SandboxPolicy, wrap
from .kernel import KernelConnection, KernelLanguage, Message, state_of, status

__all__ = ["Python"]

_POLL_S = 0.2
_START_TIMEOUT_S = 60.0


def _kernel_argv() -> list[str]:
    return [
        sys.executable,
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
        "--HistoryManager.enabled=False",
    ]


class _LocalKernel(KernelConnection):
    """One kernel process on this machine: its manager and a blocking client."""

    def __init__(self, sandbox: SandboxPolicy | None = None) -> None:
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

    def _process(self) -> Any:
        """The kernel's Popen (the local provisioner keeps it)."""
        return getattr(self.manager.provisioner, "process", None)

    def alive(self) -> bool:
        process = self._process()
        return process is not None and process.poll() is None

    def execute(
        self, code: str, *, silent: bool = False, expressions: dict[str, str] | None = None
    ) -> str:
        self._drain_replies()
        msg_id: str = self.client.execute(
            code,
            silent=silent,
            store_history=not silent,
            user_expressions=expressions or {},
            allow_stdin=False,
            stop_on_error=False,
        )
        return msg_id

    def receive(self, msg_id: str) -> Message | None:
        try:
            msg: Message = self.client.get_iopub_msg(timeout=_POLL_S)
        except queue.Empty:
            return None if self.alive() else status("dead")
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            return None
        return msg

    def quiet(self, code: str, expressions: dict[str, str] | None = None) -> None:
        msg_id = self.execute(code, silent=True, expressions=expressions)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            msg = self.receive(msg_id)
            if state_of(msg) in ("idle", "dead"):
                return

    def await_output(self) -> None:
        """Nothing to wait for: a local kernel is replaced, never restarted in place."""

    def _drain_replies(self) -> None:
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

    def close(self) -> None:
        try:
            self.client.stop_channels()
        finally:
            try:
                self.manager.shutdown_kernel(now=True)
            finally:
                shutil.rmtree(self.ipc_dir, ignore_errors=True)


class Python(KernelLanguage[_LocalKernel]):
    """Python in a local Jupyter kernel.

    Output streams as the kernel publishes it. Active lines come from markers that an
    IPython AST transformer puts before each statement (tracebacks keep the user's line
    numbers). Console output is capped inside the kernel, so a flood never reaches us.
    """

    name: ClassVar[str] = "Python"
    aliases: ClassVar[tuple[str, ...]] = ("py", "python3")
    file_extension: ClassVar[str] = "py"
    instrumented: ClassVar[bool] = True

    @property
    def pid(self) -> int | None:
        """The kernel process id, when one runs."""
        return self._kernel.pid if self._kernel is not None else None

    def _connect(self) -> _LocalKernel:
        return _LocalKernel(self.sandbox)

    def keep_output(self, number: int, path: Path) -> str | None:
        """Load the output kept in ``path`` into the kernel as ``_out[number]`` (a dict
        ``_out`` in the user's namespace, like IPython's ``Out``)."""
        kernel = self._kernel
        if kernel is None or not kernel.alive():
            return None
        code = (
            "if not isinstance(globals().get('_out'), dict):\n    _out = {}\n"
            f"with open({str(path)!r}, encoding='utf-8', errors='replace') as _oi_file:\n"
            f"    _out[{number}] = _oi_file.read()\n"
            "del _oi_file\n"
        )
        kernel.quiet(code)
        return f"_out[{number}]"
