"""The Jupyter Kernel Gateway wire: its REST API and a kernel's websocket channels.

Speaks to Jupyter Kernel Gateway and Enterprise Gateway (and any Jupyter server) with
``Authorization: token <TOKEN>``. httpx and websockets are imported on first use.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = ["GatewayError", "GatewayClient", "KernelChannels", "gateway_token"]

_TOKEN_ENV = ("JUPYTER_GATEWAY_AUTH_TOKEN", "KG_AUTH_TOKEN")
_CONNECT_TIMEOUT_S = 5.0
_REQUEST_TIMEOUT_S = 60.0
_PROTOCOL_VERSION = "5.3"
_QUICKACK: int = getattr(socket, "TCP_QUICKACK", 0)


class GatewayError(RuntimeError):
    """The kernel gateway cannot be used; ``str()`` is one line for the user."""


def gateway_token(setting: str | None = None) -> str | None:
    """The token to send: the setting, else $JUPYTER_GATEWAY_AUTH_TOKEN, else $KG_AUTH_TOKEN."""
    if setting:
        return setting
    for name in _TOKEN_ENV:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"token {token}"} if token else {}


class GatewayClient:
    """The gateway's REST API: kernel specs, and starting, interrupting, restarting and
    deleting kernels. Every failure is a :class:`GatewayError` with a one-line message."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._http: Any = None

    def _client(self) -> Any:
        if self._http is None:
            import httpx

            timeout = httpx.Timeout(_REQUEST_TIMEOUT_S, connect=_CONNECT_TIMEOUT_S)
            self._http = httpx.Client(headers=_headers(self.token), timeout=timeout)
        return self._http

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The decoded JSON answer (None when empty); raises GatewayError."""
        import httpx

        try:
            response = self._client().request(method, self.url + path, json=body)
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise GatewayError(f"cannot reach the kernel gateway at {self.url}: {reason}") from exc
        if response.status_code in (401, 403):
            raise GatewayError(
                f"the kernel gateway at {self.url} refused the token (HTTP "
                f"{response.status_code}); set computer.kernel_gateway_token or "
                "JUPYTER_GATEWAY_AUTH_TOKEN"
            )
        if response.status_code >= 400:
            raise GatewayError(
                f"the kernel gateway at {self.url} answered HTTP {response.status_code} "
                f"to {method} {path}: {_reason(response)}"
            )
        return response.json() if response.content else None

    def kernel_specs(self) -> dict[str, Any]:
        """The kernel specs on offer, by name."""
        answer = self.request("GET", "/api/kernelspecs")
        return dict(answer.get("kernelspecs", {})) if isinstance(answer, dict) else {}

    def require_spec(self, kernel_name: str) -> None:
        """Raises GatewayError unless the gateway offers ``kernel_name``."""
        specs = self.kernel_specs()
        if kernel_name not in specs:
            offered = ", ".join(sorted(specs)) or "none"
            raise GatewayError(
                f"the kernel gateway at {self.url} has no kernel spec {kernel_name!r} "
                f"(it offers: {offered})"
            )

    def start_kernel(self, kernel_name: str) -> str:
        """Start a kernel; its id."""
        answer = self.request("POST", "/api/kernels", {"name": kernel_name})
        return str(answer["id"])

    def kernel_exists(self, kernel_id: str) -> bool:
        """Whether the gateway still has the kernel (False once it is deleted or culled)."""
        try:
            self.request("GET", f"/api/kernels/{quote(kernel_id)}")
        except GatewayError as exc:
            if "HTTP 404" in str(exc):
                return False
            raise
        return True

    def interrupt(self, kernel_id: str) -> None:
        self.request("POST", f"/api/kernels/{quote(kernel_id)}/interrupt")

    def restart(self, kernel_id: str) -> None:
        self.request("POST", f"/api/kernels/{quote(kernel_id)}/restart")

    def delete(self, kernel_id: str) -> None:
        self.request("DELETE", f"/api/kernels/{quote(kernel_id)}")

    def channels_url(self, kernel_id: str) -> str:
        scheme, rest = self.url.split("://", 1)
        ws_scheme = "wss" if scheme == "https" else "ws"
        return f"{ws_scheme}://{rest}/api/kernels/{quote(kernel_id)}/channels"

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None


def _reason(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return str(response.reason_phrase)
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("reason") or "")
        return message.splitlines()[0] if message else str(response.reason_phrase)
    return str(response.reason_phrase)


class _QuickAckSocket(socket.socket):
    """A TCP socket that acknowledges at once (Linux ``TCP_QUICKACK``, re-armed per read).

    Jupyter servers do not set ``TCP_NODELAY``, so each small frame after the first waits
    for our ACK, which Linux delays by up to 40 ms: a 48 ms ``x=1`` becomes ~6 ms.
    """

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data = super().recv(bufsize, flags)
        with contextlib.suppress(OSError):
            self.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        return data


def _open_socket(url: str) -> socket.socket | None:
    """A connected quick-ACK socket for a plain ``ws://`` URL on Linux; None otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "ws" or not _QUICKACK or parts.hostname is None:
        return None
    plain = socket.create_connection((parts.hostname, parts.port or 80), _CONNECT_TIMEOUT_S)
    plain.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock = _QuickAckSocket(fileno=plain.detach())
    sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
    return sock


def _decode(raw: str | bytes) -> dict[str, Any]:
    """A message from a text frame, or from a binary frame (offsets, then JSON, then buffers)."""
    if isinstance(raw, bytes):
        count = int.from_bytes(raw[:4], "big")
        offsets = [int.from_bytes(raw[4 * i : 4 * i + 4], "big") for i in range(1, count + 1)]
        end = offsets[1] if count > 1 else len(raw)
        raw = raw[offsets[0] : end].decode("utf-8")
    message: dict[str, Any] = json.loads(raw)
    return message


class KernelChannels:
    """A kernel's websocket (all channels multiplexed, messaging protocol v5 as JSON)."""

    def __init__(self, url: str, token: str | None) -> None:
        from websockets.sync.client import connect

        self.session = uuid.uuid4().hex
        self._stack = contextlib.ExitStack()
        try:
            self._ws: Any = self._stack.enter_context(
                connect(
                    url,
                    sock=_open_socket(url),
                    additional_headers=_headers(token),
                    max_size=None,
                    open_timeout=_CONNECT_TIMEOUT_S,
                )
            )
        except Exception as exc:  # handshake refused, network down, ...
            raise GatewayError(f"cannot open the kernel channels at {url}: {exc}") from exc

    def send(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        """Send a request; its msg_id. Raises ``ConnectionError`` when the websocket is closed."""
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "username": "interpreter",
            "session": self.session,
            "date": datetime.now(timezone.utc).isoformat(),
            "version": _PROTOCOL_VERSION,
        }
        message = {
            "channel": channel,
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "buffers": [],
        }
        from websockets.exceptions import ConnectionClosed

        try:
            self._ws.send(json.dumps(message))
        except ConnectionClosed as exc:
            raise ConnectionError("the kernel channels closed") from exc
        return msg_id

    def execute(
        self, code: str, *, silent: bool = False, expressions: dict[str, str] | None = None
    ) -> str:
        """Send an execute_request; its msg_id."""
        content = {
            "code": code,
            "silent": silent,
            "store_history": not silent,
            "user_expressions": expressions or {},
            "allow_stdin": False,
            "stop_on_error": False,
        }
        return self.send("shell", "execute_request", content)

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next message on any channel, or None after ``timeout`` seconds of quiet.

        Raises ``ConnectionError`` when the websocket is closed.
        """
        from websockets.exceptions import ConnectionClosed

        try:
            raw = self._ws.recv(timeout=timeout)
        except TimeoutError:
            return None
        except ConnectionClosed as exc:
            raise ConnectionError("the kernel channels closed") from exc
        return _decode(raw)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stack.close()
