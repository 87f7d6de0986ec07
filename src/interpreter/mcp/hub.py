"""``interpreter.mcp``: the MCP servers of one interpreter, their tools, their calls.

The servers are the ``mcp_servers`` setting (a profile's ``mcp_servers:``, ``--mcp``);
``add`` / ``remove`` change it from Python and connect at once. Before each turn
(``before_turn``, called by the core) the hub brings the connections in line with the
setting, offers each server's tools to the model (``interp.tools``) and to the kernel
(``computer.mcp``, through a loopback bridge: bridge.py), and returns one-line notices
for the user: a server that could not start, a bad entry. The model reads the same in
its system message (``system_notes``). ``stop()`` (``interpreter.stop()``, Ctrl-C) ends
every call that waits. Nothing of the ``mcp`` package is imported until a server is
configured.
"""

from __future__ import annotations

import asyncio
import atexit
import builtins
import contextlib
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .config import McpConfigError, ServerConfig, parse_server, parse_servers

if TYPE_CHECKING:
    from .bridge import KernelBridge
    from .connection import Connection
    from .loop import EventLoopThread

__all__ = ["McpError", "McpServers", "ServerInfo"]


class McpError(Exception):
    """An MCP server or call that failed; ``str()`` is one line naming the server."""


@dataclass(frozen=True)
class ServerInfo:
    """What ``interpreter.mcp.list()`` says of one server."""

    name: str
    transport: str  # "stdio" or "http"
    where: str  # "stdio: uvx mcp-server-time" / "http: URL"
    state: str  # "ready", "failed", "starting", "closed"
    error: str | None
    tools: tuple[str, ...]
    server: str = ""  # the server's own name and version


_HUBS: weakref.WeakSet[McpServers] = weakref.WeakSet()


def _close_all_at_exit() -> None:
    for hub in list(_HUBS):
        hub.close()


atexit.register(_close_all_at_exit)


class McpServers:
    """The MCP side of one interpreter (``interp.mcp``)."""

    def __init__(self, interp: Any) -> None:
        self._interp = interp
        self._lock = threading.RLock()
        #: the loop, the bridge and the connections: closed by ``close()``, or when this
        #: hub is collected (a server session's interpreter that is dropped, say)
        self._held = _Held()
        weakref.finalize(self, self._held.close)
        self._configs: dict[str, ServerConfig] = {}
        self._tool_names: set[str] = set()
        self._config_errors: dict[str, str] = {}
        self._reported: set[str] = set()
        self._offered: object = None
        _HUBS.add(self)

    # -- the Python surface ----------------------------------------------------------

    def add(
        self,
        name: str,
        command: str | None = None,
        args: Sequence[str] = (),
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        url: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        startup_timeout: float | None = None,
        max_result_bytes: int | None = None,
    ) -> ServerInfo:
        """Add (or replace) the server ``name`` and connect now; raises ``McpError``
        (one line) when it cannot start, and then leaves it out."""
        entry: dict[str, Any] = {"command": command, "args": list(args), "env": env, "cwd": cwd,
                                 "url": url, "headers": headers, "timeout": timeout,
                                 "startup_timeout": startup_timeout,
                                 "max_result_bytes": max_result_bytes}  # fmt: skip
        entry = {k: v for k, v in entry.items() if v not in (None, [], {})}
        try:
            parse_server(name, entry)
        except McpConfigError as err:
            raise McpError(str(err)) from None
        servers = dict(self._setting())
        servers[name] = entry
        self._interp.mcp_servers = servers
        self.sync()
        info = self.info(name)
        if info.state != "ready":
            self.remove(name)
            raise McpError(info.error or f"MCP server {name!r} did not start")
        return info

    def remove(self, name: str) -> None:
        """Disconnect ``name`` and stop offering its tools."""
        servers = dict(self._setting())
        servers.pop(name, None)
        self._interp.mcp_servers = servers
        self.sync()

    def reconnect(self, name: str) -> ServerInfo:
        """Start ``name`` again (after it failed, say)."""
        with self._lock:
            self._configs.pop(name, None)
        self.sync()
        return self.info(name)

    def list(self) -> builtins.list[ServerInfo]:
        """Every configured server: how it is reached, its state, its tools."""
        self.sync()
        names = sorted({*self._held.connections, *self._config_errors} - {""})
        return [self.info(name) for name in names]

    def info(self, name: str) -> ServerInfo:
        connection = self._held.connections.get(name)
        if connection is None:
            error = self._config_errors.get(name, f"no MCP server named {name!r}")
            return ServerInfo(name, "", "", "failed", error, ())
        config = connection.config
        tools = tuple(str(t["name"]) for t in connection.tools)
        return ServerInfo(name, config.transport, config.describe(), connection.state,
                          connection.error, tools, connection.server_name)  # fmt: skip

    def tools(self, name: str) -> builtins.list[dict[str, Any]]:
        """The tools of server ``name`` as it lists them (name, description, inputSchema,
        annotations)."""
        self.sync()
        connection = self._held.connections.get(name)
        return [dict(t) for t in connection.tools] if connection else []

    def call(self, server: str, tool: str, /, **arguments: Any) -> dict[str, Any]:
        """Call ``tool`` on ``server`` now (no approval: this is your own code); the
        ``CallToolResult`` as JSON data. Raises ``McpError``."""
        self.sync()
        return self.call_now(server, tool, arguments)

    def close(self) -> None:
        """Disconnect every server and stop the loop (the setting is kept)."""
        with self._lock:
            self._configs = {}
            self._drop_tools()
            self._held.close()

    # -- what the core calls ---------------------------------------------------------

    def before_turn(self) -> builtins.list[str]:
        """Connect what is configured, offer the tools; notices for the user."""
        if not self._setting() and not self._held.connections and not self._config_errors:
            return []
        self.sync()
        return self._new_problems()

    def system_notes(self) -> builtins.list[str]:
        """Lines for the model: the servers that are configured but unavailable."""
        problems = self._problems()
        return [f"Unavailable: {text}" for text in problems.values()]

    def stop(self) -> None:
        """End every call (and start) that waits now."""
        loop = self._held.loop
        if loop is not None:
            loop.cancel_all()

    # -- connecting ------------------------------------------------------------------

    def _setting(self) -> dict[str, Any]:
        value = getattr(self._interp, "mcp_servers", None)
        return dict(value) if isinstance(value, dict) else {}

    def sync(self) -> None:
        """Bring the connections in line with ``mcp_servers``."""
        with self._lock:
            wanted, self._config_errors = parse_servers(self._setting())
            gone = [n for n in self._held.connections if wanted.get(n) != self._configs.get(n)]
            stale = [self._held.connections.pop(n) for n in gone]
            for name in gone:
                self._configs.pop(name, None)
            for name, connection in self._held.connections.items():
                if connection.state == "failed" and connection.tools:
                    stale.append(connection)  # it ran, then died: start it again
                    self._configs.pop(name, None)
            for connection in stale:
                self._held.connections.pop(connection.name, None)
            starting = [n for n in wanted if n not in self._held.connections]
            if stale or starting:
                _keep_secret(wanted[n] for n in starting)
                self._connect(stale, {n: wanted[n] for n in starting})
            self._offer()

    def _connect(self, stale: builtins.list[Connection], configs: dict[str, ServerConfig]) -> None:
        from .connection import Connection
        from .loop import CallCancelled, CallTimedOut

        loop = self._ensure_loop()
        fresh = [Connection(config) for config in configs.values()]
        for connection in fresh:
            self._held.connections[connection.name] = connection
            self._configs[connection.name] = connection.config
            self._reported.discard(connection.name)
        longest = max((c.startup_timeout for c in configs.values()), default=1.0)
        try:
            loop.call(_reconnect(stale, fresh), longest + 10.0)
        except (CallTimedOut, CallCancelled):
            for connection in fresh:
                if connection.state == "starting":
                    connection.state, connection.error = (
                        "failed",
                        (f"MCP server {connection.name!r} was stopped while starting"),
                    )

    def _ensure_loop(self) -> EventLoopThread:
        if self._held.loop is None:
            import logging

            from .loop import EventLoopThread

            logging.getLogger("mcp").addHandler(logging.NullHandler())  # no stray log lines
            self._held.loop = EventLoopThread()
        return self._held.loop

    # -- offering the tools ----------------------------------------------------------

    def _offer(self) -> None:
        """The tools of the ready servers in ``interp.tools``, and ``computer.mcp``."""
        from .tools import McpTool

        ready = [c for c in self._held.connections.values() if c.state == "ready"]
        offered = [(c.name, tuple(str(t["name"]) for t in c.tools)) for c in ready]
        if offered == self._offered:
            return
        self._drop_tools()
        for connection in ready:
            for definition in connection.tools:
                tool = McpTool(connection.name, definition, self._tool_call,
                               connection.config.describe())  # fmt: skip
                self._interp.tools.add(tool)
                self._tool_names.add(tool.name)
        self._offered = offered
        self._offer_kernel(ready)

    def _drop_tools(self) -> None:
        for name in self._tool_names:
            self._interp.tools.remove(name)
        self._tool_names = set()
        self._offered = None

    def _offer_kernel(self, ready: builtins.list[Connection]) -> None:
        from .kernel_part import mcp_kernel_api

        computer = self._interp.computer
        if not ready:
            computer.kernel_apis.pop("mcp", None)
            return
        if self._held.bridge is None:
            from .bridge import KernelBridge

            self._held.bridge = KernelBridge(_call_through(weakref.ref(self)))
        computer.add_kernel_api(mcp_kernel_api(self._held.bridge, ready))

    # -- calls -----------------------------------------------------------------------

    def call_now(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """One call, waited for here (``timeout`` of the server); raises ``McpError``."""
        from .connection import ServerError
        from .loop import CallCancelled, CallTimedOut

        connection = self._held.connections.get(server)
        if connection is None:
            raise McpError(self._config_errors.get(server, f"there is no MCP server {server!r}"))
        timeout = connection.config.timeout
        try:
            return self._ensure_loop().call(connection.call(tool, arguments), timeout)
        except ServerError as err:
            raise McpError(str(err)) from None
        except CallTimedOut:
            raise McpError(
                f"MCP server {server!r} did not answer {tool!r} within {timeout:g} s "
                "(timeout); the call was cancelled"
            ) from None
        except CallCancelled:
            raise McpError(f"the call of {tool!r} on MCP server {server!r} was stopped") from None

    def _tool_call(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        from ..core.tools import ToolError

        try:
            return self.call_now(server, tool, arguments)
        except McpError as err:
            raise ToolError(str(err)) from None

    # -- problems --------------------------------------------------------------------

    def _problems(self) -> dict[str, str]:
        problems = {n: e for n, e in self._config_errors.items()}
        for name, connection in self._held.connections.items():
            if connection.state == "failed" and connection.error:
                problems[name] = connection.error
        return problems

    def _new_problems(self) -> builtins.list[str]:
        notices = []
        for name, text in self._problems().items():
            if name not in self._reported:
                self._reported.add(name)
                notices.append(f"{text}; its tools are not offered.")
        return notices


def _keep_secret(configs: Iterable[ServerConfig]) -> None:
    """Header values and credential-like env values never reach a saved conversation."""
    from ..store.redaction import environment_secrets, register_secret

    for config in configs:
        for value in [*config.headers.values(), *environment_secrets(config.env)]:
            register_secret(value)


@dataclass
class _Held:
    """What a hub holds that must be let go of: its loop, bridge and connections."""

    loop: EventLoopThread | None = None
    bridge: KernelBridge | None = None
    connections: dict[str, Connection] = field(default_factory=dict)

    def close(self) -> None:
        connections, self.connections = list(self.connections.values()), {}
        loop, self.loop = self.loop, None
        bridge, self.bridge = self.bridge, None
        if bridge is not None:
            bridge.close()
        if loop is None:
            return
        if connections:
            from .loop import CallCancelled, CallTimedOut

            with contextlib.suppress(CallTimedOut, CallCancelled):
                loop.call(_close_each(connections), 12.0)
        loop.close()


def _call_through(hub: weakref.ref[McpServers]) -> Any:
    """The bridge's call, holding the hub weakly (the bridge thread must not keep it)."""

    def call(server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        live = hub()
        if live is None:
            raise McpError("the interpreter is gone")
        return live.call_now(server, tool, arguments)

    return call


async def _reconnect(stale: builtins.list[Connection], fresh: builtins.list[Connection]) -> None:
    await _close_each(stale)
    await asyncio.gather(*(_open(c) for c in fresh), return_exceptions=True)


async def _open(connection: Connection) -> None:
    with contextlib.suppress(asyncio.TimeoutError):  # open() recorded why
        await asyncio.wait_for(connection.open(), connection.config.startup_timeout)


async def _close_each(connections: builtins.list[Connection]) -> None:
    await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
