"""Kernels in a Jupyter Kernel Gateway: ``RemoteKernel`` (any kernel spec) and ``RemotePython``.

The code runs where the gateway runs; the state persists between runs as with the local
kernel. Set ``computer.kernel_gateway = "http://host:8888"`` to run Python there.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

from ..lmc import Chunk
from .base import Language
from .gateway_ws import GatewayClient, GatewayError, KernelChannels, gateway_token
from .languages.output import OutputCap, active_line, output
from .languages.python import (
    _KERNEL_MODULE,
    _boot_code,
    _install_expression,
    _traceback_text,
    rich_chunk,
)

__all__ = ["GatewayError", "RemoteKernel", "RemotePython", "remote_language"]

_POLL_S = 0.2
_INTERRUPT_GRACE_S = 3.0
_SETUP_TIMEOUT_S = 60.0
_LIVENESS_EVERY_S = 3.0
_IDLE_AFTER_REPLY_S = 2.0  # how long output may trail the execute_reply
_NUDGE_EVERY_S = 0.1


class _Session:
    """One remote kernel: its id and its open channels."""

    def __init__(self, client: GatewayClient, kernel_name: str) -> None:
        self.client = client
        self.kernel_id = client.start_kernel(kernel_name)
        try:
            self.channels = KernelChannels(client.channels_url(self.kernel_id), client.token)
        except GatewayError:
            with contextlib.suppress(GatewayError):
                client.delete(self.kernel_id)
            raise

    def quiet(self, code: str, expressions: dict[str, str] | None = None) -> None:
        """Run setup code, waiting for it to finish and showing nothing."""
        msg_id = self.channels.execute(code, silent=True, expressions=expressions)
        deadline = time.monotonic() + _SETUP_TIMEOUT_S
        while time.monotonic() < deadline:
            msg = self.channels.receive(_POLL_S)
            if msg is not None and _parent(msg) == msg_id and _finished(msg):
                return
        raise GatewayError(f"the remote kernel did not answer within {_SETUP_TIMEOUT_S:g} s")

    def await_iopub(self) -> None:
        """Wait until the kernel's iopub reaches us again after a restart.

        The gateway resubscribes to a restarted kernel's iopub some time after the restart
        returns; what the kernel publishes before then (a run's output, error, idle) is lost.
        So ask for kernel_info until its busy/idle status comes back on iopub.
        """
        asked: set[str] = set()
        deadline = time.monotonic() + _SETUP_TIMEOUT_S
        while time.monotonic() < deadline:
            asked.add(self.channels.send("shell", "kernel_info_request", {}))
            nudge_until = time.monotonic() + _NUDGE_EVERY_S
            while (left := nudge_until - time.monotonic()) > 0:
                msg = self.channels.receive(left)
                if msg is not None and msg.get("channel") == "iopub" and _parent(msg) in asked:
                    return
        raise GatewayError(f"the remote kernel did not answer within {_SETUP_TIMEOUT_S:g} s")

    def close(self) -> None:
        """Close the channels and delete the kernel (quietly when the gateway is gone)."""
        self.channels.close()
        with contextlib.suppress(GatewayError):
            self.client.delete(self.kernel_id)


def _parent(msg: dict[str, Any]) -> str | None:
    parent = msg.get("parent_header") or {}
    return parent.get("msg_id") if isinstance(parent, dict) else None


def _finished(msg: dict[str, Any]) -> bool:
    """The reply on shell, or idle on iopub (a restarted kernel's first iopub may be lost)."""
    return msg.get("msg_type") == "execute_reply" or _state(msg) == "idle"


def _state(msg: dict[str, Any]) -> str | None:
    if msg.get("msg_type") != "status":
        return None
    state = msg.get("content", {}).get("execution_state")
    return str(state) if state is not None else None


class RemoteKernel(Language):
    """Code in a kernel that a Jupyter Kernel Gateway runs (any kernel spec it offers).

    ``gateway`` is the gateway's URL; ``token`` falls back to $JUPYTER_GATEWAY_AUTH_TOKEN,
    then $KG_AUTH_TOKEN. The kernel starts on first use; output streams as the kernel
    publishes it, capped per run as it arrives. When the kernel dies the gateway restarts
    it and the run ends with a notice; ``terminate`` deletes the kernel. Gateway problems
    (unreachable, bad token, unknown kernel spec) end a run with a one-line ``Error: ...``
    output (``restart`` raises them as :class:`GatewayError`).
    """

    name: ClassVar[str] = "Remote"
    kernel_name: ClassVar[str] = "python3"
    caps_output: ClassVar[bool] = True

    def __init__(
        self,
        gateway: str | None = None,
        *,
        token: str | None = None,
        kernel_name: str | None = None,
    ) -> None:
        self.gateway = gateway
        self.token = gateway_token(token)
        self.spec = kernel_name or type(self).kernel_name
        self._client: GatewayClient | None = None
        self._session: _Session | None = None
        self._lock = threading.Lock()
        self._interrupted_at: float | None = None

    @property
    def kernel_id(self) -> str | None:
        """The remote kernel's id, when one runs."""
        return self._session.kernel_id if self._session is not None else None

    # ---- lifecycle -------------------------------------------------------------------

    def _gateway_client(self) -> GatewayClient:
        if self._client is None:
            if not self.gateway:
                raise GatewayError("no kernel gateway is set (computer.kernel_gateway)")
            self._client = GatewayClient(self.gateway, self.token)
        return self._client

    def _ensure(self) -> _Session:
        with self._lock:
            if self._session is None:
                self._session = self._start()
            self._prepare(self._session)
            return self._session

    def _start(self) -> _Session:
        client = self._gateway_client()
        client.require_spec(self.spec)
        session = _Session(client, self.spec)
        try:
            self._setup(session)
        except BaseException:
            session.close()
            raise
        return session

    def _setup(self, session: _Session) -> None:
        """Prepare a fresh (or freshly restarted) kernel; nothing for a plain kernel."""

    def _prepare(self, session: _Session) -> None:
        """Adjust the kernel before each run; nothing for a plain kernel."""

    def _discard(self, session: _Session) -> None:
        with self._lock:
            if self._session is session:
                self._session = None
        session.close()

    def restart(self) -> None:
        """Restart the remote kernel (its state is lost); nothing when none runs."""
        session = self._session
        if session is not None:
            session.client.restart(session.kernel_id)
            self._restarted(session)

    def _restarted(self, session: _Session) -> None:
        """Set up a restarted kernel once its output reaches us again."""
        session.await_iopub()
        self._setup(session)

    def interrupt(self) -> None:
        session = self._session
        if session is not None:
            self._interrupted_at = time.monotonic()
            with contextlib.suppress(GatewayError):
                session.client.interrupt(session.kernel_id)

    def terminate(self) -> None:
        with self._lock:
            session, self._session = self._session, None
            client, self._client = self._client, None
        if session is not None:
            session.close()
        if client is not None:
            client.close()

    # ---- running ---------------------------------------------------------------------

    def run(self, code: str) -> Iterator[Chunk]:
        """Run ``code``; a gateway problem ends the run with one ``Error: ...`` output line
        (so a chat goes on and the model is told)."""
        try:
            yield from self._run(code)
        except GatewayError as exc:
            yield output(f"Error: {exc}\n")

    def _run(self, code: str) -> Iterator[Chunk]:
        session = self._ensure()
        self._interrupted_at = None
        try:
            msg_id = session.channels.execute(code)
        except ConnectionError:  # the gateway dropped the kernel since the last run
            self._discard(session)
            yield output(self._notice("was gone, so a new one was started"))
            session = self._ensure()
            msg_id = session.channels.execute(code)
        cap = OutputCap(self.max_output_bytes)
        yield from cap.wrap(self._chunks(session, msg_id, cap))

    def _chunks(self, session: _Session, msg_id: str, cap: OutputCap) -> Iterator[Chunk]:
        checked = time.monotonic()
        replied: float | None = None
        while replied is None or time.monotonic() - replied < _IDLE_AFTER_REPLY_S:
            try:
                msg = session.channels.receive(_POLL_S)
            except ConnectionError:
                self._discard(session)
                yield output(self._notice("lost its connection, so the next run starts anew"))
                break
            if msg is None and time.monotonic() - checked > _LIVENESS_EVERY_S:
                checked = time.monotonic()
                msg = self._liveness(session)
            notice = self._trouble(session, msg)
            if notice is not None:
                yield output(notice)
                break
            if msg is None or _parent(msg) != msg_id:
                continue
            if msg.get("channel") == "shell":
                replied = time.monotonic() if msg.get("msg_type") == "execute_reply" else replied
                continue
            if _state(msg) == "idle":
                break
            yield from self._message_chunks(msg, cap)
        yield active_line(None)

    def _liveness(self, session: _Session) -> dict[str, Any] | None:
        """A made-up 'dead' status when the gateway no longer has the kernel."""
        if session.client.kernel_exists(session.kernel_id):
            return None
        return {"msg_type": "status", "content": {"execution_state": "dead"}}

    def _trouble(self, session: _Session, msg: dict[str, Any] | None) -> str | None:
        """A notice when the kernel died or goes on despite an interrupt (after recovering)."""
        state = _state(msg) if msg is not None else None
        if state == "restarting":  # the gateway saw the kernel die and is restarting it
            self._restarted(session)
            return self._notice("died and was restarted")
        if state == "dead":
            self._discard(session)
            return self._notice("died; the next run starts a new one")
        stuck = (
            self._interrupted_at is not None
            and time.monotonic() - self._interrupted_at > _INTERRUPT_GRACE_S
        )
        if stuck:
            self._interrupted_at = None
            self.restart()
            return self._notice("did not stop when interrupted, so it was restarted")
        return None

    def _notice(self, what: str) -> str:
        return f"\nThe remote {self.name} kernel {what}; its state was lost.\n"

    def _message_chunks(self, msg: dict[str, Any], cap: OutputCap) -> Iterator[Chunk]:
        kind, content = msg.get("msg_type"), msg.get("content", {})
        if kind == "stream":
            yield from self._stream_chunks(str(content.get("text", "")), cap)
        elif kind in ("display_data", "execute_result"):
            chunk = rich_chunk(content.get("data", {}))
            if chunk is not None:
                yield chunk
        elif kind == "error":
            yield output(_traceback_text(content.get("traceback", [])))

    def _stream_chunks(self, text: str, cap: OutputCap) -> Iterator[Chunk]:
        yield output(text)


class RemotePython(RemoteKernel):
    """Python in a gateway's ``python3`` kernel, with active lines and an in-kernel output
    cap, as the local Python kernel has (the same kernel-side code is sent to it)."""

    name: ClassVar[str] = "Python"
    aliases: ClassVar[tuple[str, ...]] = ("py", "python3")
    file_extension: ClassVar[str] = "py"
    kernel_name: ClassVar[str] = "python3"

    def __init__(
        self,
        gateway: str | None = None,
        *,
        token: str | None = None,
        kernel_name: str | None = None,
    ) -> None:
        super().__init__(gateway, token=token, kernel_name=kernel_name)
        self._markers = re.compile("\x02oi-(?!)")
        self._limit: int | None = None

    def _setup(self, session: _Session) -> None:
        token = secrets.token_hex(6)
        self._markers = re.compile(f"\x02oi-{token}:(d?)(\\d+)\x03")
        self._limit = self.max_output_bytes
        session.quiet(_boot_code(), {"install": _install_expression(token, self._limit)})

    def _prepare(self, session: _Session) -> None:
        if self.max_output_bytes != self._limit:
            self._limit = self.max_output_bytes
            module = f"__import__('sys').modules[{_KERNEL_MODULE!r}]"
            session.quiet(f"{module}.STATE.limit = {self._limit!r}")

    def _stream_chunks(self, text: str, cap: OutputCap) -> Iterator[Chunk]:
        """Output text with the markers taken out (as active lines and dropped counts)."""
        pos = 0
        for match in self._markers.finditer(text):
            if match.start() > pos:
                yield output(text[pos : match.start()])
            if match.group(1):
                cap.add_dropped(int(match.group(2)))
            else:
                yield active_line(int(match.group(2)))
            pos = match.end()
        if pos < len(text):
            yield output(text[pos:])


def remote_language(
    kernel_name: str,
    name: str | None = None,
    *,
    aliases: tuple[str, ...] = (),
    file_extension: str = "",
) -> type[RemoteKernel]:
    """A Language class for one of the gateway's kernel specs (e.g. ``"ir"`` as ``"R"``),
    to append to ``computer.languages``; the Computer gives it its gateway."""
    attrs = {
        "name": name or kernel_name,
        "aliases": aliases,
        "file_extension": file_extension,
        "kernel_name": kernel_name,
    }
    return type(f"Remote_{kernel_name}", (RemoteKernel,), attrs)
