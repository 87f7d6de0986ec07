"""The loopback endpoint through which code in the Python kernel calls MCP tools.

``computer.mcp.<server>.<tool>(**args)`` in the kernel is an HTTP POST to
``http://127.0.0.1:<port>/call`` with a random token (``Authorization: Bearer``), made
with the standard library only (kernel_mcp.py). Why HTTP on loopback: the kernel is
another process; a socket on 127.0.0.1 works with every local kernel on every system
(a unix socket would not on Windows), it is what the sandbox already governs (without
``allow_network`` a sandboxed kernel cannot reach it, so sandboxed code cannot drive
unsandboxed MCP servers), and the Jupyter channels stay untouched (answering from the
kernel's own stdin channel would need every kernel transport, local and gateway, to
serve requests in the middle of a run). The endpoint starts only when a server is
connected, answers only requests with its token and a loopback ``Host``, and runs
each call in its own thread (a call that waits does not hold up another).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["KernelBridge"]

#: (server, tool, arguments) -> result JSON; raises an exception whose str() is one line.
BridgeCall = Callable[[str, str, dict[str, Any]], dict[str, Any]]
_MAX_REQUEST = 10_000_000


class KernelBridge:
    """A ``ThreadingHTTPServer`` on 127.0.0.1 (a free port) in a daemon thread."""

    def __init__(self, call: BridgeCall) -> None:
        from ..store.redaction import register_secret

        self.token = secrets.token_urlsafe(32)
        register_secret(self.token)  # never in a saved conversation
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(call, self.token))
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="interpreter-mcp-bridge", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/call"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(call: BridgeCall, token: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            problem = self._refused()
            if problem is not None:
                self._answer(problem[0], {"ok": False, "error": problem[1]})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(min(length, _MAX_REQUEST)))
                server, tool = str(request["server"]), str(request["tool"])
                arguments = dict(request.get("arguments") or {})
            except (ValueError, KeyError, TypeError):
                self._answer(400, {"ok": False, "error": "a bad request to the MCP bridge"})
                return
            try:
                result = call(server, tool, arguments)
            except Exception as err:  # one line back to the kernel
                self._answer(200, {"ok": False, "error": str(err) or type(err).__name__})
                return
            self._answer(200, {"ok": True, "result": result})

        def _refused(self) -> tuple[int, str] | None:
            host = (self.headers.get("Host") or "").rpartition(":")[0]
            if host not in ("127.0.0.1", "localhost") or self.path != "/call":
                return 403, "forbidden"
            given = self.headers.get("Authorization", "")
            if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return 403, "forbidden: wrong token"
            return None

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # nothing on the terminal

    return Handler
