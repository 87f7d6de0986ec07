"""One MCP server, connected through the official ``mcp`` client (runs on the hub's loop).

``Connection.open()`` starts the server (stdio) or connects to it (streamable HTTP),
does the handshake and lists its tools; the connection then lives in a task of its
own until ``close()``. ``call(tool, arguments)`` returns the result as JSON data (the
``CallToolResult`` as the protocol spells it). Everything that goes wrong is a
``ServerError`` with one line that names the server: it could not start (and the last
line it wrote to stderr), it closed the connection, it sent something that is not
JSON-RPC, its result was too big.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Callable
from contextlib import AsyncExitStack, suppress
from typing import IO, Any, cast

from .config import ServerConfig

__all__ = ["Connection", "ServerError", "one_line"]

_MAX_PAGES = 100
_MAX_LINE = 300


class ServerError(Exception):
    """A server or a call that failed; ``str()`` is one line naming the server."""


def _leaf(err: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups."""
    inner = getattr(err, "exceptions", None)  # an ExceptionGroup (3.11+, anyio's)
    while isinstance(inner, tuple) and inner and isinstance(inner[0], BaseException):
        err = inner[0]
        inner = getattr(err, "exceptions", None)
    return err


def one_line(err: BaseException) -> str:
    """An error as one short line: its words (or its type), no traceback."""
    err = _leaf(err)
    text = " ".join(str(getattr(err, "message", "") or err).split())
    if isinstance(err, OSError) and err.strerror:
        where = f": {err.filename!r}" if err.filename else ""
        text = f"{err.strerror}{where}"
    text = text or type(err).__name__
    return text if len(text) <= _MAX_LINE else text[: _MAX_LINE - 3] + "..."


class Connection:
    """The live connection to one server: its state, its tools, its calls."""

    def __init__(self, config: ServerConfig, on_change: Callable[[], None] | None = None) -> None:
        self.config = config
        #: ``starting``, ``ready``, ``failed`` (see ``error``) or ``closed``
        self.state = "starting"
        self.error: str | None = None
        #: The server's tools as the protocol lists them (``name``, ``inputSchema``, ...).
        self.tools: list[dict[str, Any]] = []
        self.server_name = ""
        self._on_change = on_change
        self._client: Any = None
        self._closing: asyncio.Event | None = None
        self._scope: Any = None
        self._task: asyncio.Future[None] | None = None
        self._fault: asyncio.Event | None = None
        self._fault_text = ""
        self._stderr: IO[bytes] | None = None

    @property
    def name(self) -> str:
        return self.config.name

    # -- opening and closing ---------------------------------------------------------

    async def open(self) -> None:
        """Connect and list the tools; raises ``ServerError``. Cancelled (a start-up
        timeout), it stops the server before giving up."""
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        ready.add_done_callback(_retrieved)  # its error may come after open() gave up
        self._closing, self._fault = asyncio.Event(), asyncio.Event()
        self._task = asyncio.ensure_future(self._keep(ready))
        try:
            await asyncio.shield(ready)
        except asyncio.CancelledError:
            self.state, self.error = (
                "failed",
                self._why(
                    f"did not start within {self.config.startup_timeout:g} s (startup_timeout)"
                ),
            )
            await self._stop_keeper()
            raise

    async def close(self) -> None:
        """Disconnect (a stdio server's stdin is closed, then it is stopped)."""
        if self.state != "failed":
            self.state = "closed"
        if self._closing is not None:
            self._closing.set()
        if self._task is not None:
            with suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), 8.0)
            if not self._task.done():
                await self._stop_keeper()
        self._close_stderr()

    async def _stop_keeper(self) -> None:
        if self._scope is not None:
            self._scope.cancel()
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=8.0)

    async def _keep(self, ready: asyncio.Future[None]) -> None:
        """The connection's own task: the ``mcp`` client lives (and is closed) here."""
        import anyio

        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                async with AsyncExitStack() as stack:
                    client = await stack.enter_async_context(self._client_for())
                    self.server_name = _server_name(client)
                    self.tools = await self._list_tools(client)
                    self._client, self.state = client, "ready"
                    if not ready.done():
                        ready.set_result(None)
                    assert self._closing is not None
                    await self._closing.wait()
        except BaseException as err:  # reported, never raised out of the loop
            self._failed(self._why(self._start_error(err)), ready)
            if not isinstance(err, Exception):
                raise
        finally:
            self._client = None
            if not ready.done():
                self._failed(self.error or self._why("closed while starting"), ready)

    def _failed(self, message: str, ready: asyncio.Future[None]) -> None:
        if self.state != "closed":
            self.state, self.error = "failed", message
        if not ready.done():
            ready.set_exception(ServerError(message))
        self._changed()

    def _client_for(self) -> Any:
        """The ``mcp`` client for this server's transport (stdio command or URL)."""
        from mcp import Client, StdioServerParameters

        config = self.config
        if config.url:
            return Client(self._http_transport(), message_handler=self._on_message)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        params = StdioServerParameters(
            command=str(config.command), args=list(config.args), env=dict(config.env) or None,
            cwd=config.cwd,
        )  # fmt: skip
        return Client(_StdioTransport(params, self._stderr), message_handler=self._on_message)

    def _http_transport(self) -> Any:
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        timeout = httpx2.Timeout(30.0, read=max(300.0, self.config.timeout))
        http = httpx2.AsyncClient(headers=dict(self.config.headers), timeout=timeout)
        return _HttpTransport(streamable_http_client(self.config.url or "", http_client=http), http)

    async def _list_tools(self, client: Any) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            page = await client.list_tools(cursor=cursor)
            tools += [_data(t) for t in page.tools]
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    # -- calls -----------------------------------------------------------------------

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Call ``tool``; the ``CallToolResult`` as JSON data. Raises ``ServerError``."""
        client = self._client
        if client is None or self.state != "ready":
            raise ServerError(self.error or self._why("is not connected"))
        assert self._fault is not None
        call = asyncio.ensure_future(client.call_tool(tool, arguments))
        fault = asyncio.ensure_future(self._fault.wait())
        try:
            done, _ = await asyncio.wait({call, fault}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pending in (call, fault):
                if not pending.done():
                    pending.cancel()
        if call not in done:
            raise ServerError(self._why(f"sent a malformed message ({self._fault_text})"))
        try:
            result = call.result()
        except Exception as err:
            raise ServerError(self._call_error(err)) from None
        return self._checked(result)

    def _checked(self, result: Any) -> dict[str, Any]:
        data = _data(result)
        size = len(json.dumps(data))
        limit = self.config.max_result_bytes
        if size > limit:
            raise ServerError(
                f"the result from MCP server {self.name!r} is {_mb(size)}, over the limit of "
                f"{_mb(limit)} (max_result_bytes); it was dropped"
            )
        return data

    def _call_error(self, err: BaseException) -> str:
        from mcp import MCPError
        from mcp_types import CONNECTION_CLOSED

        leaf = _leaf(err)
        if isinstance(leaf, MCPError) and leaf.code == CONNECTION_CLOSED:
            self.state, self.error = "failed", self._why("closed the connection")
            if self._closing is not None:
                self._closing.set()
            self._changed()
            return self.error
        return f"MCP server {self.name!r} answered with an error: {one_line(leaf)}"

    async def _on_message(self, message: Any) -> None:
        """The client's message handler: faults of the transport, tool list changes."""
        if isinstance(message, Exception):
            self._fault_text = one_line(message)
            fault, self._fault = self._fault, asyncio.Event()
            if fault is not None:
                fault.set()
            return
        method = getattr(getattr(message, "root", message), "method", "")
        if method == "notifications/tools/list_changed" and self._client is not None:
            asyncio.ensure_future(self._refresh_tools())

    async def _refresh_tools(self) -> None:
        with suppress(Exception):
            self.tools = await self._list_tools(self._client)
            self._changed()

    # -- wording ---------------------------------------------------------------------

    def _start_error(self, err: BaseException) -> str:
        leaf = _leaf(err)
        if isinstance(leaf, ImportError):
            return f"needs the mcp package ({leaf.name}): pip install 'interpreter[mcp]'"
        if isinstance(leaf, asyncio.CancelledError):
            return f"did not start within {self.config.startup_timeout:g} s (startup_timeout)"
        if isinstance(leaf, FileNotFoundError) and self.config.command:
            return f"could not start: no program {self.config.command!r}"
        if isinstance(leaf, OSError) and self.config.command:
            return f"could not start {self.config.command!r}: {one_line(leaf)}"
        if self.config.url:
            return f"could not connect to {self.config.url}: {one_line(leaf)}"
        if "connection closed" in one_line(leaf).lower():
            return "exited while starting"
        return f"failed while starting: {one_line(leaf)}"

    def _why(self, what: str) -> str:
        """``MCP server 'x' <what>`` and the last line it wrote to stderr, if any."""
        last = self._stderr_tail()
        said = f" (it said: {last})" if last else ""
        return f"MCP server {self.name!r} {what}{said}"

    def _stderr_tail(self) -> str:
        err = self._stderr
        if err is None or err.closed:
            return ""
        try:
            size = os.fstat(err.fileno()).st_size
            tail = os.pread(err.fileno(), 4096, max(0, size - 4096)).decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [" ".join(line.split()) for line in tail.splitlines() if line.strip()]
        if not lines:
            return ""
        last = lines[-1]
        return last if len(last) <= 200 else last[:197] + "..."

    def _close_stderr(self) -> None:
        if self._stderr is not None:
            with suppress(OSError):
                self._stderr.close()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


def _data(model: Any) -> dict[str, Any]:
    """A protocol object as the JSON the protocol spells (camelCase names)."""
    return cast(dict[str, Any], model.model_dump(mode="json", by_alias=True, exclude_none=True))


def _server_name(client: Any) -> str:
    info = getattr(client, "server_info", None)
    if info is None:
        return ""
    version = getattr(info, "version", "")
    return f"{info.name} {version}".strip()


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


class _StdioTransport:
    """``stdio_client`` with the server's stderr kept in a file (read for errors)."""

    def __init__(self, params: Any, stderr: IO[bytes]) -> None:
        self._params, self._stderr = params, stderr
        self._context: Any = None

    async def __aenter__(self) -> Any:
        from mcp.client.stdio import stdio_client

        self._context = stdio_client(self._params, errlog=cast(Any, self._stderr))
        return await self._context.__aenter__()

    async def __aexit__(self, *exc: Any) -> Any:
        return await self._context.__aexit__(*exc)


class _HttpTransport:
    """``streamable_http_client`` that also closes the HTTP client it was given."""

    def __init__(self, context: Any, http: Any) -> None:
        self._context, self._http = context, http

    async def __aenter__(self) -> Any:
        await self._http.__aenter__()
        return await self._context.__aenter__()

    async def __aexit__(self, *exc: Any) -> Any:
        try:
            return await self._context.__aexit__(*exc)
        finally:
            await self._http.__aexit__(None, None, None)
