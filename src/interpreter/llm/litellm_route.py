"""The long tail of providers (``command-nightly``, ``gemini/...``, ...) through LiteLLM.

LiteLLM is optional and slow to import (about 1.5 s), so it is imported only when such a
model is used, with its cost map read locally (no network at import).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from .errors import ModelError, NoModelConfigured, ProviderError, RateLimited, StreamCut
from .providers import Route
from .retry import RetryPolicy, Transient, one_line, retrying
from .wire import Piece, TextPiece, ToolPiece, UsagePiece, WireMessage

INSTALL_HINT = 'pip install "interpreter[litellm]"'


def load_litellm() -> ModuleType:
    """Import LiteLLM, or say how to install it."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError:
        raise NoModelConfigured(
            f"this model needs LiteLLM, which is not installed: run {INSTALL_HINT}"
        ) from None
    litellm.telemetry = False
    litellm.suppress_debug_info = True
    module: ModuleType = litellm
    return module


def capability(function: str, model: str) -> bool:
    """LiteLLM's answer to ``supports_function_calling`` / ``supports_vision`` for ``model``."""
    check = getattr(load_litellm(), function)
    return bool(check(model=model))


def stream_litellm(
    route: Route,
    wire: list[WireMessage],
    *,
    tools: list[dict[str, Any]],
    temperature: float | None,
    max_tokens: int | None,
    api_version: str | None = None,
    timeout: float,
    policy: RetryPolicy,
) -> Iterator[Piece]:
    """Stream one reply through ``litellm.completion`` as pieces."""
    litellm = load_litellm()
    kwargs: dict[str, Any] = {
        "model": route.model,
        "messages": wire,
        "stream": True,
        "stream_options": {"include_usage": True},
        "num_retries": 0,
        "timeout": timeout,
    }
    for name, value in (("api_base", route.api_base or None), ("api_key", route.api_key),
                        ("temperature", temperature), ("max_tokens", max_tokens),
                        ("tools", tools or None), ("api_version", api_version)):  # fmt: skip
        if value is not None:
            kwargs[name] = value
    return retrying(policy, lambda: _attempt(litellm, kwargs))


def _attempt(litellm: ModuleType, kwargs: dict[str, Any]) -> Iterator[Piece]:
    finished = False
    try:
        for chunk in litellm.completion(**kwargs):
            yield from _pieces(chunk)
            finished = finished or any(c.finish_reason for c in chunk.choices or ())
    except Exception as err:  # noqa: BLE001 - LiteLLM raises its own exception classes
        raise _translate(litellm, err) from err
    if not finished:
        raise Transient(StreamCut("the reply from LiteLLM ended before it was complete"))


def _pieces(chunk: Any) -> Iterator[Piece]:
    for choice in chunk.choices or ():
        delta = choice.delta
        if getattr(delta, "content", None):
            yield TextPiece(delta.content)
        for call in getattr(delta, "tool_calls", None) or ():
            function = call.function
            yield ToolPiece(
                call.index or 0, function.arguments or "", call.id, getattr(function, "name", None)
            )
    usage = getattr(chunk, "usage", None)
    if usage:
        yield UsagePiece(usage.prompt_tokens or 0, usage.completion_tokens or 0)


def _translate(litellm: ModuleType, err: Exception) -> Exception:
    """A LiteLLM exception as our error (a Transient where a retry may help)."""
    if isinstance(err, (ModelError, Transient)):
        return err
    message = one_line(str(err))
    status = getattr(err, "status_code", None)
    exceptions = litellm.exceptions
    if isinstance(err, exceptions.AuthenticationError):
        return ProviderError(f"invalid API key for LiteLLM provider: {message}", status)
    if isinstance(err, exceptions.RateLimitError):
        return Transient(RateLimited(f"rate limited: {message}", status))
    transient = (exceptions.APIConnectionError, exceptions.ServiceUnavailableError,
                 exceptions.InternalServerError, exceptions.Timeout)  # fmt: skip
    if isinstance(err, transient):
        return Transient(ProviderError(f"LiteLLM provider failed: {message}", status))
    return ProviderError(f"LiteLLM provider rejected the request: {message}", status)
