"""Anthropic's Messages API over httpx (SSE), from OpenAI-format wire messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .errors import ProviderError, StreamCut
from .openai_compat import error_message, load_event
from .providers import Route
from .retry import RetryPolicy, Transient, one_line, retrying, status_error
from .wire import Piece, TextPiece, ToolPiece, UsagePiece, WireMessage

if TYPE_CHECKING:
    import httpx

API_VERSION = "2023-06-01"
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
    """The JSON body of a streamed Messages API request."""
    system, messages = to_anthropic(wire)
    body: dict[str, Any] = {"model": route.model, "messages": messages, "stream": True}
    body["max_tokens"] = max_tokens or DEFAULT_MAX_TOKENS
    if system:
        body["system"] = system
    if temperature is not None:
        body["temperature"] = temperature
    if tools:
        body["tools"] = [anthropic_tool(t) for t in tools]
    return body


def messages_url(api_base: str) -> str:
    base = api_base.rstrip("/")
    return base + ("/messages" if base.endswith("/v1") else "/v1/messages")


def stream_messages(
    client: httpx.Client, route: Route, body: dict[str, Any], policy: RetryPolicy
) -> Iterator[Piece]:
    """Stream one reply as pieces; retries (before the first piece) per ``policy``."""
    return retrying(policy, lambda: _attempt(client, route, body))


def _attempt(client: httpx.Client, route: Route, body: dict[str, Any]) -> Iterator[Piece]:
    import httpx

    headers = {"accept": "text/event-stream", "anthropic-version": API_VERSION}
    if route.api_key:
        headers["x-api-key"] = route.api_key
    try:
        with client.stream("POST", messages_url(route.api_base), json=body, headers=headers) as r:
            if r.status_code >= 400:
                r.read()
                message = error_message(r.text)
                raise status_error(
                    r.status_code, route.provider, message, r.headers.get("retry-after")
                )
            yield from _read(r, route)
    except httpx.TransportError as err:
        reason = one_line(str(err)) or type(err).__name__
        raise Transient(
            ProviderError(f"cannot reach {route.provider} at {route.api_base}: {reason}")
        ) from err


def _read(response: httpx.Response, route: Route) -> Iterator[Piece]:
    import httpx

    state = _State()
    try:
        for line in response.iter_lines():
            if line.startswith("data:"):
                yield from state.handle(_event(line[5:].strip(), route), route)
                if state.stopped:
                    return
    except httpx.TransportError as err:
        cut = StreamCut(f"the reply from {route.provider} was cut off: {one_line(str(err))}")
        raise Transient(cut) from err
    raise Transient(StreamCut(f"the reply from {route.provider} ended before it was complete"))


def _event(data: str, route: Route) -> dict[str, Any]:
    event = load_event(data, route)
    if event.get("type") == "error":
        error = event.get("error") or {}
        message = f"{route.provider} failed while answering: {one_line(str(error.get('message')))}"
        if error.get("type") in ("overloaded_error", "api_error", "rate_limit_error"):
            raise Transient(ProviderError(message))
        raise ProviderError(message)
    return event


class _State:
    """Usage and stop state across one Anthropic stream."""

    def __init__(self) -> None:
        self.input_tokens = 0
        self.output_tokens = 0
        self.stopped = False

    def handle(self, event: dict[str, Any], route: Route) -> Iterator[Piece]:
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
            usage = (event.get("message") or {}).get("usage") or {}
            self.input_tokens = usage.get("input_tokens") or 0
        elif kind == "message_delta":
            self.output_tokens = (event.get("usage") or {}).get("output_tokens") or 0
        elif kind == "message_stop":
            self.stopped = True
            yield UsagePiece(self.input_tokens, self.output_tokens)
