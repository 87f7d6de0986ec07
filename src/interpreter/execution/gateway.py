"""Kernels in a Jupyter Kernel Gateway: ``RemoteKernel`` (any kernel spec) and ``RemotePython``.

The code runs where the gateway runs; the state persists between runs as with the local
kernel. Set ``computer.kernel_gateway = "http://host:8888"`` to run Python there. The
language is ``KernelLanguage`` (``languages/kernel.py``, shared with the local kernel);
this module is the remote transport: the gateway's REST API and the kernel's websocket
(``gateway_ws.py``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import ClassVar

from ..lmc import Chunk
from .gateway_ws import GatewayClient, GatewayError, KernelChannels, gateway_token
from .languages.kernel import KernelConnection, KernelLanguage, Message, state_of, status
from .languages.output import output

__all__ = ["GatewayError", "RemoteKernel", "RemotePython", "remote_language"]

_POLL_S = 0.2
_SETUP_TIMEOUT_S = 60.0
_LIVENESS_EVERY_S = 3.0
_IDLE_AFTER_REPLY_S = 2.0  # how long output may trail the execute_reply
_NUDGE_EVERY_S = 0.1


class _GatewayKernel(KernelConnection):
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
        self._run_id: str | None = None
        self._checked = 0.0  # when the gateway was last asked whether the kernel exists
        self._replied: float | None = None  # when the run's execute_reply came

    def execute(
        self, code: str, *, silent: bool = False, expressions: dict[str, str] | None = None
    ) -> str:
        return self.channels.execute(code, silent=silent, expressions=expressions)

    def receive(self, msg_id: str) -> Message | None:
        """The next iopub message of the run, its trouble, or None. The run ends (a made-up
        idle) when its output trails the execute_reply too long: the gateway may lose the
        idle status of a kernel it just resubscribed to."""
        if msg_id != self._run_id:
            self._run_id, self._checked, self._replied = msg_id, time.monotonic(), None
        if self._replied is not None and time.monotonic() - self._replied >= _IDLE_AFTER_REPLY_S:
            return status("idle")
        try:
            msg = self.channels.receive(_POLL_S)
        except ConnectionError:
            return status("lost")
        if msg is None:
            return self._liveness()
        if state_of(msg) in ("restarting", "dead"):
            return msg  # whatever request it answers
        if _parent(msg) != msg_id:
            return None
        if msg.get("channel") == "shell":
            if msg.get("msg_type") == "execute_reply":
                self._replied = time.monotonic()
            return None
        return msg

    def _liveness(self) -> Message | None:
        """A made-up 'dead' status when the gateway no longer has the kernel (asked every
        few seconds of quiet)."""
        if time.monotonic() - self._checked <= _LIVENESS_EVERY_S:
            return None
        self._checked = time.monotonic()
        return None if self.client.kernel_exists(self.kernel_id) else status("dead")

    def quiet(self, code: str, expressions: dict[str, str] | None = None) -> None:
        msg_id = self.channels.execute(code, silent=True, expressions=expressions)
        deadline = time.monotonic() + _SETUP_TIMEOUT_S
        while time.monotonic() < deadline:
            msg = self.channels.receive(_POLL_S)
            if msg is not None and _parent(msg) == msg_id and _finished(msg):
                return
        raise GatewayError(f"the remote kernel did not answer within {_SETUP_TIMEOUT_S:g} s")

    def await_output(self) -> None:
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

    def interrupt(self) -> None:
        with contextlib.suppress(GatewayError):
            self.client.interrupt(self.kernel_id)

    def restart(self) -> None:
        self.client.restart(self.kernel_id)

    def close(self) -> None:
        """Close the channels and delete the kernel (quietly when the gateway is gone)."""
        self.channels.close()
        with contextlib.suppress(GatewayError):
            self.client.delete(self.kernel_id)


def _parent(msg: Message) -> str | None:
    parent = msg.get("parent_header") or {}
    return parent.get("msg_id") if isinstance(parent, dict) else None


def _finished(msg: Message) -> bool:
    """The reply on shell, or idle on iopub (a restarted kernel's first iopub may be lost)."""
    return msg.get("msg_type") == "execute_reply" or state_of(msg) == "idle"


class RemoteKernel(KernelLanguage[_GatewayKernel]):
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
    where: ClassVar[str] = "remote "

    def __init__(
        self,
        gateway: str | None = None,
        *,
        token: str | None = None,
        kernel_name: str | None = None,
    ) -> None:
        super().__init__()
        self.gateway = gateway
        self.token = gateway_token(token)
        self.spec = kernel_name or type(self).kernel_name
        self._client: GatewayClient | None = None

    @property
    def kernel_id(self) -> str | None:
        """The remote kernel's id, when one runs."""
        return self._kernel.kernel_id if self._kernel is not None else None

    def _gateway_client(self) -> GatewayClient:
        if self._client is None:
            if not self.gateway:
                raise GatewayError("no kernel gateway is set (computer.kernel_gateway)")
            self._client = GatewayClient(self.gateway, self.token)
        return self._client

    def _connect(self) -> _GatewayKernel:
        client = self._gateway_client()
        client.require_spec(self.spec)
        return _GatewayKernel(client, self.spec)

    def _restart_kernel(self, kernel: _GatewayKernel) -> None:
        """Restart the kernel in place (same id), through the gateway."""
        kernel.restart()
        self._restarted(kernel)

    def _after_death(self, kernel: _GatewayKernel) -> str:
        self._discard(kernel)
        return "died; the next run starts a new one"

    def run(self, code: str) -> Iterator[Chunk]:
        """Run ``code``; a gateway problem ends the run with one ``Error: ...`` output line
        (so a chat goes on and the model is told)."""
        try:
            yield from super().run(code)
        except GatewayError as exc:
            yield output(f"Error: {exc}\n")

    def terminate(self) -> None:
        super().terminate()
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


class RemotePython(RemoteKernel):
    """Python in a gateway's ``python3`` kernel, with active lines and an in-kernel output
    cap, as the local Python kernel has (the same kernel-side code is sent to it)."""

    name: ClassVar[str] = "Python"
    aliases: ClassVar[tuple[str, ...]] = ("py", "python3")
    file_extension: ClassVar[str] = "py"
    kernel_name: ClassVar[str] = "python3"
    instrumented: ClassVar[bool] = True


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
