"""Runs inside the Python kernel (its source is sent there): ``computer.mcp``.

``computer.mcp.<server>.<tool>(**arguments)`` calls the tool through the interpreter's
loopback bridge (bridge.py) and returns its result: the structured result when the tool
gives one (a dict), else its text (a str) when that is all, else a list of the parts
(str for text, dicts for images and resources). A tool that reports an error raises
``computer.mcp.Error``. Names that are not Python names work as items too:
``computer.mcp["my-server"]["get-sum"](a=1, b=2)``; ``dir()`` and ``help()`` list and
describe the tools. Standard library only.
"""

from __future__ import annotations

import http.client
import json
import keyword
from typing import Any


class Error(Exception):
    """An MCP tool (or server) that failed; the message is one line."""


def _attribute(name: str) -> str:
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    if not text.isidentifier() or keyword.iskeyword(text):
        text = "_" + text
    return text


class _Tool:
    def __init__(self, bridge: dict[str, Any], server: str, name: str, spec: dict[str, Any]):
        self._bridge, self._server, self._name = bridge, server, name
        self.__name__ = _attribute(name)
        self.__doc__ = _doc(server, name, spec)

    def __call__(self, **arguments: Any) -> Any:
        answer = _post(self._bridge, {"server": self._server, "tool": self._name,
                                      "arguments": arguments})  # fmt: skip
        if not answer.get("ok"):
            raise Error(answer.get("error") or "the MCP call failed")
        return _value(answer["result"])

    def __repr__(self) -> str:
        return f"<MCP tool {self._name!r} of server {self._server!r}>"


def _doc(server: str, name: str, spec: dict[str, Any]) -> str:
    params = ", ".join(spec.get("params") or []) or "no arguments"
    lines = [f"{name}({params}): tool of the MCP server {server!r}.", "", spec.get("doc") or ""]
    return "\n".join(lines).strip()


class _Server:
    def __init__(self, bridge: dict[str, Any], name: str, tools: dict[str, Any]) -> None:
        self._name = name
        self._tools = {tool: _Tool(bridge, name, tool, spec) for tool, spec in tools.items()}
        self._by_attribute = {_attribute(tool): t for tool, t in self._tools.items()}

    def __getattr__(self, name: str) -> _Tool:
        tools = self.__dict__.get("_by_attribute", {})
        if name in tools:
            return tools[name]  # type: ignore[no-any-return]
        raise AttributeError(f"MCP server {self.__dict__.get('_name')!r} has no tool {name!r}")

    def __getitem__(self, name: str) -> _Tool:
        if name in self._tools:
            return self._tools[name]
        raise KeyError(f"MCP server {self._name!r} has no tool {name!r}")

    def __dir__(self) -> list[str]:
        return sorted(self._by_attribute)

    def __repr__(self) -> str:
        return f"<MCP server {self._name!r}: {', '.join(self._tools) or 'no tools'}>"


class Mcp:
    """The MCP servers the interpreter is connected to: ``computer.mcp.<server>``."""

    Error = Error

    def __init__(self, config: dict[str, Any]) -> None:
        bridge = {"url": config["url"], "token": config["token"], "timeout": config["timeout"]}
        self._servers = {
            name: _Server(bridge, name, tools) for name, tools in config["servers"].items()
        }
        self._by_attribute = {_attribute(name): s for name, s in self._servers.items()}

    def __getattr__(self, name: str) -> _Server:
        servers = self.__dict__.get("_by_attribute", {})
        if name in servers:
            return servers[name]  # type: ignore[no-any-return]
        raise AttributeError(f"no MCP server {name!r} (connected: {', '.join(servers) or 'none'})")

    def __getitem__(self, name: str) -> _Server:
        if name in self._servers:
            return self._servers[name]
        raise KeyError(f"no MCP server {name!r}")

    def __dir__(self) -> list[str]:
        return sorted(self._by_attribute)

    def __repr__(self) -> str:
        return f"<computer.mcp: {', '.join(self._servers) or 'no servers'}>"


def _post(bridge: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    url = str(bridge["url"])
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    body = json.dumps(request).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {bridge['token']}"}
    try:
        connection = http.client.HTTPConnection(host, int(port), timeout=bridge["timeout"])
        connection.request("POST", "/call", body, headers)
        response = connection.getresponse()
        answer: dict[str, Any] = json.loads(response.read())
        connection.close()
    except OSError as err:
        raise Error(
            f"computer.mcp cannot reach the interpreter ({err}); in a sandbox without "
            "network it is not available"
        ) from None
    return answer


def _part(item: dict[str, Any]) -> Any:
    return item.get("text", "") if item.get("type") == "text" else item


def _value(result: dict[str, Any]) -> Any:
    content = result.get("content") or []
    if result.get("isError"):
        text = " ".join(str(i.get("text", "")) for i in content if i.get("type") == "text")
        raise Error(text.strip() or "the MCP tool reported an error")
    if result.get("structuredContent") is not None:
        return result["structuredContent"]
    if len(content) == 1 and content[0].get("type") == "text":
        return content[0].get("text", "")
    return [_part(item) for item in content]


def install(computer: Any, config: Any) -> None:
    computer.mcp = Mcp(config)
