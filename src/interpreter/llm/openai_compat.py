"""The OpenAI-compatible chat-completions client: one streamed request over httpx (SSE).

Serves OpenAI, Ollama, LM Studio, llama.cpp, vLLM, OpenRouter and any ``api_base``.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

from .errors import ProviderError, StreamCut
from .providers import Route
from .retry import RetryPolicy, Transient, one_line, retrying, status_error
from .wire import Piece, TextPiece, ToolPiece, UsagePiece, WireMessage

if TYPE_CHECKING:
    import httpx


def chat_body(
    route: Route,
    wire: list[WireMessage],
    *,
    tools: list[dict[str, Any]],
    temperature: float | None,
    max_tokens: int | None,
) -> dict[str, Any]:
    """The JSON body of a streamed chat-completions request."""
    body: dict[str, Any] = {"model": route.model, "messages": wire, "stream": True}
    body["stream_options"] = {"include_usage": True}
    reasoning = route.model.startswith(("o1", "o3", "o4"))
    if temperature is not None and not reasoning:
        body["temperature"] = temperature
    if max_tokens:
        body["max_completion_tokens" if reasoning else "max_tokens"] = max_tokens
    if tools:
        body["tools"] = tools
    return body


def stream_chat(
    client: httpx.Client, route: Route, body: dict[str, Any], policy: RetryPolicy
) -> Iterator[Piece]:
    """Stream one reply as pieces; retries (before the first piece) per ``policy``."""
    return retrying(policy, lambda: _attempt(client, route, body))


def _attempt(client: httpx.Client, route: Route, body: dict[str, Any]) -> Iterator[Piece]:
    import httpx

    headers = {"accept": "text/event-stream"}
    if route.api_key:
        headers["authorization"] = f"Bearer {route.api_key}"
    url = route.api_base + "/chat/completions"
    try:
        with client.stream("POST", url, json=body, headers=headers) as response:
            if response.status_code >= 400:
                response.read()
                raise status_error(
                    response.status_code,
                    route.provider,
                    error_message(response.text),
                    response.headers.get("retry-after"),
                )
            yield from _read(response, route)
    except httpx.TransportError as err:
        reason = one_line(str(err)) or type(err).__name__
        raise Transient(
            ProviderError(f"cannot reach {route.provider} at {route.api_base}: {reason}")
        ) from err


def error_message(text: str) -> str:
    """The provider's error message from an error body (JSON or plain text)."""
    try:
        data = json.loads(text)
    except ValueError:
        return one_line(text)
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict):
        error = error.get("message") or error.get("detail") or json.dumps(error)
    return one_line(str(error))


def _read(response: httpx.Response, route: Route) -> Iterator[Piece]:
    import httpx

    finished = False
    try:
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            chunk = parse_chunk(data, route)
            done = yield from _pieces(chunk)
            finished = finished or done
    except httpx.TransportError as err:
        cut = StreamCut(f"the reply from {route.provider} was cut off: {one_line(str(err))}")
        raise Transient(cut) from err
    if not finished:
        raise Transient(StreamCut(f"the reply from {route.provider} ended before it was complete"))


def load_event(data: str, route: Route) -> dict[str, Any]:
    """One SSE event's JSON object; a clear ProviderError when it is not one."""
    try:
        event = json.loads(data)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise ProviderError(f"{route.provider} sent a malformed stream event: {one_line(data, 80)}")
    return event


def parse_chunk(data: str, route: Route) -> dict[str, Any]:
    """One chat-completion chunk; an in-stream error is raised as a ProviderError."""
    chunk = load_event(data, route)
    if chunk.get("error"):
        message = error_message(json.dumps(chunk))
        raise ProviderError(f"{route.provider} failed while answering: {message}")
    return chunk


def _pieces(chunk: dict[str, Any]) -> Generator[Piece, None, bool]:
    """The pieces in one chunk; returns whether a choice finished."""
    finished = False
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") or {}
        content = delta.get("content")
        if content:
            yield TextPiece(content)
        for call in delta.get("tool_calls") or ():
            function = call.get("function") or {}
            yield ToolPiece(
                call.get("index") or 0,
                function.get("arguments") or "",
                call.get("id"),
                function.get("name"),
            )
        finished = finished or bool(choice.get("finish_reason"))
    usage = chunk.get("usage")
    if usage:
        yield UsagePiece(usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0)
    return finished
