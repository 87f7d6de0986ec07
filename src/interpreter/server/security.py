"""The server's gate: token checks, loopback detection, and Host / Origin allow-lists.

``RequestGuard`` is a plain ASGI middleware. Before any route runs it refuses (403) a
request whose ``Host`` header names anything but a loopback name or an allowed host (DNS
rebinding), or whose ``Origin`` names a foreign site, and it refuses HTTP requests
without the right token (401 missing, 403 wrong). Websockets authenticate with their first
message instead (0.4.3's protocol), or with the same headers.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
PUBLIC_PATHS = frozenset({"/heartbeat"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or name) only reaches this machine."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison of a presented token with the server's."""
    if not given or not token:
        return False
    return hmac.compare_digest(given.encode(), token.encode())


def presented_token(headers: dict[str, str]) -> str | None:
    """The token in ``X-API-KEY`` or ``Authorization: Bearer``, if any."""
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _split_host(value: str) -> tuple[str, int | None] | None:
    """``"host:port"`` / ``"[::1]:port"`` -> (host, port); None when malformed."""
    try:
        parts = urlsplit("//" + value.strip())
        return (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None


@dataclass(frozen=True)
class HostPolicy:
    """Which Host headers and Origins the server answers to."""

    port: int
    bind_host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()

    def _names(self) -> set[str]:
        names = set(LOOPBACK_NAMES) | {h.lower().strip("[]") for h in self.allowed_hosts}
        bind = self.bind_host.strip("[]").lower()
        if bind not in WILDCARD_HOSTS:
            names.add(bind)
        return names

    def host_ok(self, header: str | None) -> bool:
        """A Host header naming this server (any allowed name, this port or none)."""
        if not header:
            return False
        split = _split_host(header)
        if split is None:
            return False
        name, port = split
        return name in self._names() and port in (None, self.port)

    def origin_ok(self, origin: str | None) -> bool:
        """No Origin (not a browser), a page served by this server, or an allowed one."""
        if origin is None:
            return True
        if origin.rstrip("/") in {o.rstrip("/") for o in self.allowed_origins}:
            return True
        try:
            parts = urlsplit(origin)
            port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        except ValueError:
            return False
        if parts.scheme not in ("http", "https"):
            return False
        return (parts.hostname or "").lower() in self._names() and port == self.port


def header_map(scope: Scope) -> dict[str, str]:
    """The request's headers, names lower-cased (the last of repeated ones wins)."""
    raw: Iterable[tuple[bytes, bytes]] = scope.get("headers") or []
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}


def _json_response(status: int, message: str) -> tuple[dict[str, Any], bytes]:
    body = json.dumps({"error": message, "detail": message}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
    }
    return start, body


class RequestGuard:
    """ASGI middleware: Host, Origin and (HTTP) token checks before anything runs."""

    def __init__(
        self, app: ASGIApp, policy: HostPolicy, token: str, public_prefixes: tuple[str, ...] = ()
    ) -> None:
        from ..store.redaction import register_secret

        self.app = app
        self.policy = policy
        self.token = token
        self.public_prefixes = public_prefixes  # e.g. "/ui": it and everything under "/ui/"
        register_secret(token)  # code that prints it never gets it into a saved conversation

    def is_public(self, path: str) -> bool:
        """Served without a token (Host and Origin are still checked)."""
        if path in PUBLIC_PATHS:
            return True
        if any(part in (".", "..") for part in path.split("/")):
            return False
        return any(path == p or path.startswith(p + "/") for p in self.public_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        problem = self.problem(scope)
        if problem is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            start, body = _json_response(problem[0], problem[1])
            await send(start)
            await send({"type": "http.response.body", "body": body})
        else:
            await _deny_websocket(scope, receive, send, problem[1])

    def problem(self, scope: Scope) -> tuple[int, str] | None:
        """(status, message) when the request must be refused, else None."""
        headers = header_map(scope)
        if not self.policy.host_ok(headers.get("host")):
            return 403, "forbidden: unknown Host header (only this server's own names are served)"
        if not self.policy.origin_ok(headers.get("origin")):
            return 403, "forbidden: cross-origin requests are not allowed"
        if scope["type"] == "websocket" or self.is_public(str(scope.get("path", ""))):
            return None
        given = presented_token(headers)
        if given is None:
            return 401, "unauthorized: send the server token as X-API-KEY or Bearer"
        if not token_matches(given, self.token):
            return 403, "forbidden: wrong token"
        return None


async def _deny_websocket(scope: Scope, receive: Receive, send: Send, message: str) -> None:
    """Refuses a websocket handshake with HTTP 403 (and a JSON body where supported)."""
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        start, body = _json_response(403, message)
        start["type"] = "websocket.http.response.start"
        await send(start)
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})
