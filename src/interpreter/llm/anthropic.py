"""Anthropic's Messages API (SSE, ``http_stream``), from OpenAI-format wire messages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .errors import ProviderError
from .http_stream import SseRequest, stream_sse
from .providers import Route, known_vision
from .retry import Transient, one_line
from .wire import Piece, TextPiece, ToolPiece, UsagePiece, WireMessage, with_call_ids

if TYPE_CHECKING:
    from .local_servers import ModelLimits
    from .model import Connect, RequestSettings

API_VERSION = "2023-06-01"
_TOOL_USE_ID = re.compile(r"[a-zA-Z0-9_-]+")
DEFAULT_MAX_TOKENS = 8192
Block = dict[str, Any]


def to_anthropic(wire: list[WireMessage]) -> tuple[str, list[dict[str, Any]]]:
    """(system, messages) in Anthropic's format: tool calls become ``tool_use`` blocks,
    tool messages ``tool_result`` blocks in a user turn; same-role turns are merged."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for message in wire:
        role = message["role"]
        if role == "system":
            system.append(str(message["content"]))
            continue
        blocks = _blocks(message)
        if not blocks:
            continue
        turn = "assistant" if role == "assistant" else "user"
        if out and out[-1]["role"] == turn:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": turn, "content": blocks})
    return "\n\n".join(system), out


def _blocks(message: WireMessage) -> list[Block]:
    if message["role"] == "tool":
        text = str(message.get("content") or "")
        return [{"type": "tool_result", "tool_use_id": message["tool_call_id"], "content": text}]
    blocks = _content_blocks(message.get("content"))
    for call in message.get("tool_calls") or ():
        try:
            arguments = json.loads(call["function"]["arguments"])
        except ValueError:
            arguments = {}
        blocks.append(
            {
                "type": "tool_use",
                "id": call["id"],
                "name": call["function"]["name"],
                "input": arguments,
            }
        )
    return blocks


def _content_blocks(content: Any) -> list[Block]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content.strip() else []
    blocks: list[Block] = []
    for part in content or ():
        if part.get("type") == "text" and part.get("text", "").strip():
            blocks.append({"type": "text", "text": part["text"]})
        elif part.get("type") == "image_url":
            blocks.append(_image_block(part["image_url"]["url"]))
    return blocks


def _image_block(url: str) -> Block:
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media = header[5:].split(";")[0] or "image/png"
        return {"type": "image", "source": {"type": "base64", "media_type": media, "data": data}}
    return {"type": "image", "source": {"type": "url", "url": url}}


def anthropic_id(call_id: str) -> bool:
    """Whether Anthropic takes ``call_id`` as a ``tool_use`` id (letters, digits, _ and -)."""
    return _TOOL_USE_ID.fullmatch(call_id) is not None


def anthropic_tool(schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI tool schema as an Anthropic tool."""
    function = schema.get("function", schema)
    return {
        "name": function["name"],
        "description": function.get("description", ""),
        "input_schema": function.get("parameters", {"type": "object", "properties": {}}),
    }


def messages_body(
    route: Route,
    wire: list[WireMessage],
    *,
    tools: list[dict[str, Any]],
    temperature: float | None,
    max_tokens: int | None,
) -> dict[str, Any]:
    """The JSON body of a streamed Messages API request (call ids Anthropic refuses, from
    a conversation begun elsewhere, replaced: ``with_call_ids``)."""
    system, messages = to_anthropic(with_call_ids(wire, anthropic_id))
    mark_cache_point(messages)
    body: dict[str, Any] = {"model": route.model, "messages": messages, "stream": True}
    body["max_tokens"] = max_tokens or DEFAULT_MAX_TOKENS
    if system:
        body["system"] = system
    if temperature is not None:
        body["temperature"] = temperature
    if tools:
        body["tools"] = [anthropic_tool(t) for t in tools]
    return body


def mark_cache_point(messages: list[dict[str, Any]]) -> None:
    """Anthropic caches a prompt only up to a block marked ``cache_control``: marking the
    last block makes each request read the one before it from the cache (the tools, the
    system prompt and every earlier message) and write itself for the next. Prompts too
    short to cache are sent as they are, at no extra cost."""
    blocks = messages[-1]["content"] if messages else None
    if blocks:
        blocks[-1] = {**blocks[-1], "cache_control": {"type": "ephemeral"}}


def messages_url(api_base: str) -> str:
    base = api_base.rstrip("/")
    return base + ("/messages" if base.endswith("/v1") else "/v1/messages")


class AnthropicMessages:
    """A Model for Anthropic's Messages API."""

    def __init__(self, route: Route, connect: Connect) -> None:
        self.route = route
        self._connect = connect

    def stream(
        self, wire: list[WireMessage], tools: list[dict[str, Any]], settings: RequestSettings
    ) -> Iterator[Piece]:
        body = messages_body(
            self.route,
            wire,
            tools=tools,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
        )
        headers = {"anthropic-version": API_VERSION}
        if self.route.api_key:
            headers["x-api-key"] = self.route.api_key
        request = SseRequest(self.route, messages_url(self.route.api_base), body, headers)
        client = self._connect(self.route)
        return stream_sse(client, request, lambda: _MessagesReply(self.route), settings.retry)

    def supports_functions(self) -> bool:
        return True

    def supports_vision(self) -> bool:
        return known_vision(self.route.model)

    def limits(self) -> ModelLimits:
        from .local_servers import ModelLimits

        return ModelLimits()


class _MessagesReply:
    """Pieces, usage and stop state across one Anthropic stream."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.input_tokens = 0
        self.cached_tokens = 0
        self.written_tokens = 0
        self.output_tokens = 0
        self.complete = False
        self.stopped = False

    def pieces(self, event: dict[str, Any]) -> Iterator[Piece]:
        kind = event.get("type")
        if kind == "content_block_delta":
            delta = event.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                yield TextPiece(delta["text"])
            elif delta.get("type") == "input_json_delta":
                yield ToolPiece(event.get("index", 0), delta.get("partial_json") or "")
        elif kind == "content_block_start":
            block = event.get("content_block") or {}
            if block.get("type") == "tool_use":
                yield ToolPiece(event.get("index", 0), "", block.get("id"), block.get("name"))
            elif block.get("type") == "text" and block.get("text"):
                yield TextPiece(block["text"])
        elif kind == "message_start":
            self._read_usage((event.get("message") or {}).get("usage") or {})
        elif kind == "message_delta":
            self._read_usage(event.get("usage") or {})
        elif kind == "message_stop":
            self.complete = self.stopped = True
            yield UsagePiece(
                self.input_tokens, self.output_tokens, self.cached_tokens, self.written_tokens
            )
        elif kind == "error":
            raise _stream_error(event, self.route)

    def _read_usage(self, usage: dict[str, Any]) -> None:
        """Anthropic counts cache reads and writes apart from ``input_tokens``; here they
        are all prompt tokens, the reads also ``cached_tokens``."""
        if "input_tokens" in usage or "cache_read_input_tokens" in usage:
            read = usage.get("cache_read_input_tokens") or 0
            written = usage.get("cache_creation_input_tokens") or 0
            self.input_tokens = (usage.get("input_tokens") or 0) + read + written
            self.cached_tokens, self.written_tokens = read, written
        if usage.get("output_tokens"):
            self.output_tokens = usage["output_tokens"]


def _stream_error(event: dict[str, Any], route: Route) -> Exception:
    """An in-stream error event as our error (a Transient when the provider is overloaded)."""
    error = event.get("error") or {}
    message = f"{route.server} failed while answering: {one_line(str(error.get('message')))}"
    if error.get("type") in ("overloaded_error", "api_error", "rate_limit_error"):
        return Transient(ProviderError(message))
    return ProviderError(message)
