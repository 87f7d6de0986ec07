"""The OpenAI-compatible chat-completions client: one streamed request (SSE, ``http_stream``).

Serves OpenAI, Ollama, LM Studio, llama.cpp, vLLM, OpenRouter and any ``api_base``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .errors import ProviderError
from .http_stream import SseRequest, error_message, stream_sse
from .providers import Route, known_vision
from .wire import Piece, TextPiece, ToolPiece, UsagePiece, WireMessage

if TYPE_CHECKING:
    from .local_servers import ModelLimits
    from .model import Connect, RequestSettings

# model servers whose models often have no tools (unless the user gave an api_base)
_TOOLLESS_PREFIXES = ("ollama", "ollama_chat", "lm_studio")


class OpenAIChat:
    """A Model for an OpenAI-compatible ``/chat/completions`` endpoint."""

    def __init__(self, route: Route, connect: Connect) -> None:
        self.route = route
        self._connect = connect

    def stream(
        self, wire: list[WireMessage], tools: list[dict[str, Any]], settings: RequestSettings
    ) -> Iterator[Piece]:
        body = chat_body(
            self.route,
            wire,
            tools=tools,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
        )
        headers = {"authorization": f"Bearer {self.route.api_key}"} if self.route.api_key else {}
        request = SseRequest(self.route, self.route.api_base + "/chat/completions", body, headers)
        client = self._connect(self.route)
        return stream_sse(client, request, lambda: _ChatReply(self.route), settings.retry)

    def supports_functions(self) -> bool:
        """Tools by default, except for local model servers chosen by prefix."""
        return self.route.custom_base or self.route.prefix not in _TOOLLESS_PREFIXES

    def supports_vision(self) -> bool:
        return known_vision(self.route.model)

    def limits(self) -> ModelLimits:
        """What the server says (only servers on this machine or a private network)."""
        from .local_servers import server_limits

        return server_limits(self.route.api_base, self.route.model)


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


class _ChatReply:
    """Pieces from chat-completion chunks; complete once a choice has a finish_reason."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.complete = False
        self.stopped = False  # the reader stops at ``data: [DONE]``

    def pieces(self, chunk: dict[str, Any]) -> Iterator[Piece]:
        if chunk.get("error"):
            message = error_message(json.dumps(chunk))
            raise ProviderError(f"{self.route.server} failed while answering: {message}")
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
            self.complete = self.complete or bool(choice.get("finish_reason"))
        usage = chunk.get("usage")
        if usage:
            yield usage_piece(usage)


def usage_piece(usage: dict[str, Any]) -> UsagePiece:
    """OpenAI's ``usage`` object (cached tokens in ``prompt_tokens_details``)."""
    details = usage.get("prompt_tokens_details") or {}
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return UsagePiece(
        usage.get("prompt_tokens") or 0,
        usage.get("completion_tokens") or 0,
        cached if isinstance(cached, int) else 0,
    )
