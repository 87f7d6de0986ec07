"""An MCP server's tools as the interpreter's tools (core/tools.py).

The model sees ``mcp__<server>__<tool>`` with the tool's own JSON schema. A call is
stored, shown and approved as the Python that does the same in the kernel
(``computer.mcp.time.get_current_time(timezone='UTC')``), with the server, the tool
and the server's hints (``readOnlyHint``, ``destructiveHint``, ``openWorldHint``) as
notes. Allow rules match ``(mcp__<server>, <tool>)``: ``{language: mcp__time}`` allows
every tool of the server ``time``, ``{language: mcp__time, command: get_current_time}``
that one tool. The result comes back as computer chunks: text as console output,
images as images, resources as their text (or a line saying what they are).
"""

from __future__ import annotations

import hashlib
import json
import keyword
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..core.tools import ToolError, ToolView
from ..lmc import Chunk

__all__ = [
    "McpTool",
    "call_code",
    "exposed_name",
    "hint_notes",
    "result_chunks",
    "result_text",
    "rule_language",
]

#: (server, tool, arguments) -> the CallToolResult as JSON data; raises ToolError.
Caller = Callable[[str, str, dict[str, Any]], dict[str, Any]]
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")
_IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}


def exposed_name(server: str, tool: str) -> str:
    """``mcp__<server>__<tool>``, in the characters (and the 64) function names allow."""
    name = _NOT_ALLOWED.sub("_", f"mcp__{server}__{tool}")
    if len(name) <= 64:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:55]}_{digest}"


def rule_language(server: str) -> str:
    """The ``language`` of allow rules for the tools of ``server``."""
    return f"mcp__{server}"


def _part(name: str) -> str:
    """``.name`` where Python allows it, else ``['name']``."""
    if name.isidentifier() and not keyword.iskeyword(name):
        return f".{name}"
    return f"[{name!r}]"


def _arguments(arguments: Mapping[str, Any]) -> str:
    keys = list(arguments)
    if all(k.isidentifier() and not keyword.iskeyword(k) for k in keys):
        return ", ".join(f"{k}={arguments[k]!r}" for k in keys)
    return f"**{dict(arguments)!r}"


def call_code(server: str, tool: str, arguments: Mapping[str, Any]) -> str:
    """The Python (in the kernel) that makes this call: what the user approves."""
    return f"computer.mcp{_part(server)}{_part(tool)}({_arguments(arguments)})"


def hint_notes(annotations: Mapping[str, Any] | None) -> list[str]:
    """What the server says about a tool (hints, not guarantees), one line each."""
    hints = annotations or {}
    notes: list[str] = []
    if hints.get("readOnlyHint") is True:
        notes.append("The server says this tool only reads (readOnlyHint).")
    elif hints.get("destructiveHint") is True:
        notes.append("The server says this tool may delete or overwrite things (destructiveHint).")
    elif hints.get("destructiveHint") is False:
        notes.append("The server says this tool changes things but destroys nothing.")
    if hints.get("openWorldHint") is True:
        notes.append("The server says this tool reaches outside this machine (openWorldHint).")
    if notes:
        notes.append("(These are the server's own hints: nothing checks them.)")
    return notes


class McpTool:
    """One tool of one MCP server, offered to the model (the ``Tool`` protocol)."""

    def __init__(
        self, server: str, definition: Mapping[str, Any], caller: Caller, where: str = ""
    ) -> None:
        self.server = server
        self.tool = str(definition["name"])
        self.definition = dict(definition)
        self._caller = caller
        self._where = where
        self._name = exposed_name(server, self.tool)

    @property
    def name(self) -> str:
        return self._name

    def schema(self) -> dict[str, Any]:
        parameters = dict(self.definition.get("inputSchema") or {})
        parameters.setdefault("type", "object")
        parameters.setdefault("properties", {})
        described = str(self.definition.get("description") or self.definition.get("title") or "")
        description = f"{described} (tool {self.tool!r} of the MCP server {self.server!r})".strip()
        function = {"name": self._name, "description": description, "parameters": parameters}
        return {"type": "function", "function": function}

    def view(self, arguments: Mapping[str, Any]) -> ToolView:
        required = (self.definition.get("inputSchema") or {}).get("required") or []
        missing = [k for k in required if isinstance(k, str) and k not in arguments]
        if missing:
            names = ", ".join(repr(k) for k in missing)
            raise ToolError(f"{self._name} needs {names}; nothing was called")
        where = f" ({self._where})" if self._where else ""
        notes = [f"MCP server {self.server!r}{where}, tool {self.tool!r}"]
        notes += hint_notes(self.definition.get("annotations"))
        code = call_code(self.server, self.tool, arguments)
        return ToolView("python", code, (rule_language(self.server), self.tool), tuple(notes))

    def run(self, arguments: Mapping[str, Any]) -> Iterator[Chunk]:
        result = self._caller(self.server, self.tool, dict(arguments))
        yield from result_chunks(result)


def _console(text: str) -> Chunk:
    return {"role": "computer", "type": "console", "format": "output", "content": text}


def _resource_text(item: Mapping[str, Any]) -> tuple[str, Chunk | None]:
    """An embedded resource: its text, or an image, or a line saying what it is."""
    resource = item.get("resource") or {}
    uri, mime = resource.get("uri", ""), str(resource.get("mimeType") or "")
    if "text" in resource:
        return f"[resource {uri}]\n{resource['text']}", None
    blob = str(resource.get("blob") or "")
    if mime in _IMAGE_TYPES:
        return "", _image(blob, mime)
    return f"[resource {uri}: {mime or 'binary'}, {len(blob) * 3 // 4} bytes]", None


def _image(data: str, mime: str) -> Chunk:
    fmt = "base64." + _IMAGE_TYPES.get(mime, mime.partition("/")[2] or "png")
    return {"role": "computer", "type": "image", "format": fmt, "content": data}


def _item(item: Mapping[str, Any]) -> tuple[str, Chunk | None]:
    kind = item.get("type")
    if kind == "text":
        return str(item.get("text", "")), None
    if kind == "image":
        return "", _image(str(item.get("data", "")), str(item.get("mimeType", "image/png")))
    if kind == "resource":
        return _resource_text(item)
    if kind == "resource_link":
        name = f" ({item['name']})" if item.get("name") else ""
        return f"[resource link {item.get('uri', '')}{name}]", None
    if kind == "audio":
        size = len(str(item.get("data", ""))) * 3 // 4
        return f"[audio: {item.get('mimeType', 'audio')}, {size} bytes]", None
    return f"[{kind or 'unknown'} content]", None


def result_text(result: Mapping[str, Any]) -> str:
    """The text of a result (what the model reads), images left out."""
    parts = [text for text, _ in map(_item, result.get("content") or []) if text]
    if not parts and result.get("structuredContent") is not None:
        parts = [json.dumps(result["structuredContent"], indent=2, ensure_ascii=False)]
    text = "\n".join(parts)
    if result.get("isError"):
        return "The tool reported an error: " + (text or "(no details)")
    return text


def result_chunks(result: Mapping[str, Any]) -> Iterator[Chunk]:
    """A ``CallToolResult`` (JSON data) as computer chunks: its text, then its images."""
    text = result_text(result)
    yield _console(text if text.endswith("\n") or not text else text + "\n")
    for _, image in map(_item, result.get("content") or []):
        if image is not None:
            yield image
