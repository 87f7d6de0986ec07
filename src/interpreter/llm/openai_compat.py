"""The OpenAI-compatible chat-completions client: one streamed request (SSE, ``http_stream``).

Serves OpenAI, Ollama, LM Studio, llama.cpp, vLLM, OpenRouter and any ``api_base``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .errors import ProviderError
from .http_stream import SseRequest, error_message, stream_sse
from .providers import Route, host_of, known_vision
from .wire import (
    Piece,
    TextPiece,
    ToolPiece,
    UsagePiece,
    WireMessage,
    nine_alphanumeric,
    with_call_ids,
    without_call_extras,
)

if TYPE_CHECKING:
    from .local_servers import ModelLimits
    from .model import Connect, RequestSettings

# model servers whose models often have no tools (unless the user gave an api_base)
_TOOLLESS_PREFIXES = ("ollama", "ollama_chat", "lm_studio")
#: The keys of a streamed OpenAI tool call (any other is the provider's own).
_CALL_KEYS = frozenset({"index", "id", "type", "function"})
#: Hosts that refuse fields they do not know (the providers' own call fields are left out).
_STRICT_HOSTS = ("api.openai.com", "api.mistral.ai")
#: Models served with Mistral's chat template, which wants call ids of 9 letters and digits.
_MISTRAL_MODELS = re.compile(r"(^|/)(mistral|mixtral|codestral|devstral|magistral|ministral|"
                             r"pixtral|open-mistral|open-mixtral)", re.IGNORECASE)  # fmt: skip


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
    """The JSON body of a streamed chat-completions request, fitted to the server:
    Mistral's API refuses ``stream_options`` (it reports usage anyway) and, like Mistral
    models elsewhere, call ids other than nine letters and digits; strict hosts get the
    calls without the providers' own fields."""
    host = host_of(route.api_base).split(":")[0].lower()
    mistral_api = host.endswith("mistral.ai")
    if mistral_api or _MISTRAL_MODELS.search(route.model):
        wire = with_call_ids(wire, nine_alphanumeric)
    if mistral_api or host in _STRICT_HOSTS:
        wire = without_call_extras(wire)
    body: dict[str, Any] = {"model": route.model, "messages": wire, "stream": True}
    if not mistral_api:
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
                yield tool_piece(call)
            self.complete = self.complete or bool(choice.get("finish_reason"))
        usage = chunk.get("usage")
        if usage:
            yield usage_piece(usage)


def tool_piece(call: dict[str, Any]) -> ToolPiece:
    """One ``tool_calls`` entry of a delta. No ``index`` stays None (Gemini sends none), an
    empty id is none; keys beyond OpenAI's are the provider's own (Gemini's
    ``extra_content``), kept to be sent back with the call."""
    function = call.get("function") or {}
    index = call.get("index")
    extra = {k: v for k, v in call.items() if k not in _CALL_KEYS and v is not None}
    return ToolPiece(
        index if isinstance(index, int) else None,
        str(function.get("arguments") or ""),
        str(call.get("id") or "") or None,
        str(function.get("name") or "") or None,
        extra or None,
    )


def usage_piece(usage: dict[str, Any]) -> UsagePiece:
    """OpenAI's ``usage`` object (cached tokens in ``prompt_tokens_details``)."""
    details = usage.get("prompt_tokens_details") or {}
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return UsagePiece(
        usage.get("prompt_tokens") or 0,
        usage.get("completion_tokens") or 0,
        cached if isinstance(cached, int) else 0,
    )
