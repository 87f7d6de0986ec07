"""What an MCP server entry says: ``mcp_servers:`` in a profile, ``--mcp NAME=COMMAND``.

A profile names each server and says how to reach it::

    mcp_servers:
      time:                                # stdio: a command we start
        command: uvx
        args: [mcp-server-time]
        env: {TZ: Europe/Warsaw}           # added to a small safe environment
        cwd: ~/work
      docs:                                # streamable HTTP: a URL
        url: http://127.0.0.1:9000/mcp
        headers: {Authorization: Bearer ...}
        timeout: 120                       # seconds one call may take (default 60)

Optional for both: ``timeout`` (one call), ``startup_timeout`` (connecting and listing
its tools, default 30), ``max_result_bytes`` (a bigger result is refused, default
5 MB) and ``enabled: false``. ``parse_servers`` checks entries one by one: a bad
entry is one line of error, the others still work.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_MAX_RESULT_BYTES",
    "DEFAULT_STARTUP_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "McpConfigError",
    "ServerConfig",
    "parse_cli_server",
    "parse_server",
    "parse_servers",
]

DEFAULT_TIMEOUT = 60.0
DEFAULT_STARTUP_TIMEOUT = 30.0
DEFAULT_MAX_RESULT_BYTES = 5_000_000
#: A server name: what ``mcp__<server>__<tool>`` and ``computer.mcp.<server>`` are made of.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_KEYS = frozenset(
    {"command", "args", "env", "cwd", "url", "headers", "timeout", "startup_timeout",
     "max_result_bytes", "enabled", "type", "transport"}
)  # fmt: skip


class McpConfigError(ValueError):
    """An MCP server entry that cannot work; ``str()`` is one line naming the server."""


@dataclass(frozen=True)
class ServerConfig:
    """One MCP server: a command to start (stdio) or a URL (streamable HTTP)."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES

    @property
    def transport(self) -> str:
        return "http" if self.url else "stdio"

    def describe(self) -> str:
        """``stdio: uvx mcp-server-time`` / ``http: http://...`` (headers never shown)."""
        if self.url:
            return f"http: {self.url}"
        return "stdio: " + shlex.join([str(self.command), *self.args])

    def as_entry(self) -> dict[str, Any]:
        """The profile entry for this server (what ``parse_server`` reads back)."""
        entry: dict[str, Any] = {"url": self.url} if self.url else {"command": self.command}
        if self.args:
            entry["args"] = list(self.args)
        for key, value in (("env", self.env), ("headers", self.headers)):
            if value:
                entry[key] = dict(value)
        if self.cwd:
            entry["cwd"] = self.cwd
        for key in ("timeout", "startup_timeout", "max_result_bytes"):
            if getattr(self, key) != getattr(_DEFAULTS, key):
                entry[key] = getattr(self, key)
        return entry


def _text_map(name: str, key: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise McpConfigError(f"MCP server {name!r}: {key} must be a mapping of names to text")
    return {k: str(v) for k, v in value.items()}


def _seconds(name: str, key: str, value: Any, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise McpConfigError(f"MCP server {name!r}: {key} must be a number of seconds above 0")
    return float(value)


def _size(name: str, value: Any) -> int:
    if value is None:
        return DEFAULT_MAX_RESULT_BYTES
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise McpConfigError(
            f"MCP server {name!r}: max_result_bytes must be a whole number above 0"
        )
    return value


def _args(name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(shlex.split(value))
    if not isinstance(value, list):
        raise McpConfigError(f"MCP server {name!r}: args must be a list of text")
    return tuple(str(a) for a in value)


def _where(name: str, entry: Mapping[str, Any]) -> tuple[str | None, str | None]:
    command, url = entry.get("command"), entry.get("url")
    if (command is None) == (url is None):
        raise McpConfigError(f"MCP server {name!r} needs either a command (stdio) or a url (HTTP)")
    if command is not None and (not isinstance(command, str) or not command.strip()):
        raise McpConfigError(f"MCP server {name!r}: command must be text")
    if url is not None and (not isinstance(url, str) or not re.match(r"^https?://", url)):
        raise McpConfigError(f"MCP server {name!r}: url must start with http:// or https://")
    return command, url


def parse_server(name: Any, entry: Any) -> ServerConfig | None:
    """The server ``name`` describes (None when ``enabled: false``); raises
    ``McpConfigError``."""
    if not isinstance(name, str) or not NAME.match(name):
        raise McpConfigError(
            f"MCP server name {name!r}: use letters, digits, '_' and '-' (at most 32)"
        )
    if not isinstance(entry, Mapping):
        raise McpConfigError(f"MCP server {name!r}: expected a mapping (command/args or url)")
    unknown = sorted(str(k) for k in entry if k not in _KEYS)
    if unknown:
        raise McpConfigError(f"MCP server {name!r}: unknown key {unknown[0]!r}")
    if entry.get("enabled", True) is False:
        return None
    command, url = _where(name, entry)
    args = _args(name, entry.get("args"))
    if command is not None and not args and " " in command.strip():
        command, *more = shlex.split(command)  # "uvx mcp-server-time" as one string
        args = tuple(more)
    cwd = entry.get("cwd")
    return ServerConfig(
        name=name,
        command=command.strip() if command else None,
        args=args,
        env=_text_map(name, "env", entry.get("env")),
        cwd=str(Path(str(cwd)).expanduser()) if cwd else None,
        url=url,
        headers=_text_map(name, "headers", entry.get("headers")),
        timeout=_seconds(name, "timeout", entry.get("timeout"), DEFAULT_TIMEOUT),
        startup_timeout=_seconds(
            name, "startup_timeout", entry.get("startup_timeout"), DEFAULT_STARTUP_TIMEOUT
        ),
        max_result_bytes=_size(name, entry.get("max_result_bytes")),
    )


def parse_servers(value: Any) -> tuple[dict[str, ServerConfig], dict[str, str]]:
    """The servers of an ``mcp_servers`` setting, and one error line per bad entry."""
    if value is None:
        return {}, {}
    if not isinstance(value, Mapping):
        return {}, {"": "mcp_servers must be a mapping of server names to entries"}
    servers: dict[str, ServerConfig] = {}
    errors: dict[str, str] = {}
    for name, entry in value.items():
        try:
            config = parse_server(name, entry)
        except McpConfigError as err:
            errors[str(name)] = str(err)
            continue
        if config is not None:
            servers[name] = config
    return servers, errors


def parse_cli_server(spec: str) -> tuple[str, dict[str, Any]]:
    """``--mcp NAME=COMMAND`` (or ``NAME=URL``) as a profile entry; raises
    ``McpConfigError``."""
    name, sep, rest = spec.partition("=")
    name, rest = name.strip(), rest.strip()
    if not sep or not rest:
        raise McpConfigError(f"--mcp {spec!r}: expected NAME=COMMAND (or NAME=URL)")
    if re.match(r"^https?://", rest):
        entry: dict[str, Any] = {"url": rest}
    else:
        try:
            words = shlex.split(rest)
        except ValueError as err:
            raise McpConfigError(f"--mcp {spec!r}: {err}") from None
        entry = {"command": words[0], "args": words[1:]}
    parse_server(name, entry)  # the same checks as a profile entry
    return name, entry


_DEFAULTS = ServerConfig(name="defaults", command="-")
