"""The long tail of providers (``command-nightly``, ``gemini/...``, ...) through LiteLLM.

LiteLLM is optional and slow to import (about 1.5 s), so it is imported only when such a
model is used, told to stay offline for its own catalogs and tokenizers (cost map, Hugging
Face tokenizers, Anthropic beta headers): the only network traffic is the model request.
Retries are ours (``retry.py``), not LiteLLM's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .errors import ModelError, NoModelConfigured, ProviderError, RateLimited, StreamCut
from .retry import RetryPolicy, Transient, one_line, parse_retry_after, retrying
from .wire import Piece, TextPiece, ToolPiece, UsagePiece, WireMessage

if TYPE_CHECKING:
    from .local_servers import ModelLimits
    from .model import RequestSettings
    from .providers import Route

INSTALL_HINT = 'pip install "interpreter[litellm]"'

# LiteLLM's switches for what it would otherwise fetch by itself (setdefault: the user wins)
_OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "true",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
}
# keys LiteLLM's validate_environment misses but its providers accept
_KEY_ALIASES = {"COHERE_API_KEY": ("CO_API_KEY",), "GEMINI_API_KEY": ("GOOGLE_API_KEY",)}
# "litellm.RateLimitError: RateLimitError: CohereException - " before the provider's words
_NOISE = re.compile(r"^(litellm\.\w+: )*(\w+Error: )*(\w+Exception - )?")


def load_litellm() -> ModuleType:
    """Import LiteLLM, or say how to install it."""
    for name, value in _OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
    try:
        import litellm
    except ImportError:
        raise NoModelConfigured(
            f"this model needs LiteLLM, which is not installed: run {INSTALL_HINT}"
        ) from None
    litellm.telemetry = False
    litellm.suppress_debug_info = True
    litellm.disable_hf_tokenizer_download = True
    module: ModuleType = litellm
    return module


class LiteLLMModel:
    """A Model for every provider we have no client of our own for, through LiteLLM."""

    def __init__(self, route: Route) -> None:
        self.route = route

    def stream(
        self, wire: list[WireMessage], tools: list[dict[str, Any]], settings: RequestSettings
    ) -> Iterator[Piece]:
        return stream_litellm(
            self.route,
            wire,
            tools=tools,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            api_version=settings.api_version,
            timeout=settings.timeout,
            policy=settings.retry,
        )

    def supports_functions(self) -> bool:
        return capability("supports_function_calling", self.route.model)

    def supports_vision(self) -> bool:
        return capability("supports_vision", self.route.model)

    def limits(self) -> ModelLimits:
        from .local_servers import ModelLimits

        return ModelLimits()


def capability(function: str, model: str) -> bool:
    """LiteLLM's answer to ``supports_function_calling`` / ``supports_vision`` for ``model``
    (False when LiteLLM is missing or does not know the model)."""
    try:
        check = getattr(load_litellm(), function)
        return bool(check(model=model))
    except Exception:  # noqa: BLE001 - an unknown model simply has no known capability
        return False


def check_keys(litellm: ModuleType, route: Route) -> None:
    """Raise NoModelConfigured, naming the variable to set, when the provider's API key is
    missing (only for plain API keys: cloud credentials may live in files LiteLLM reads)."""
    if route.api_key or route.custom_base:
        return
    try:
        missing = list(litellm.validate_environment(model=route.model)["missing_keys"])
    except Exception:  # noqa: BLE001 - an unknown provider: LiteLLM will say so itself
        return
    if not missing or not all(key.endswith("_API_KEY") for key in missing):
        return
    named = [name for key in missing for name in (key, *_KEY_ALIASES.get(key, ()))]
    if any(os.environ.get(name) for name in named):
        return
    first = missing[0]
    raise NoModelConfigured(
        f"No API key for {route.model}: set {' or '.join(missing)} (export {first}=...), "
        "or pass --api_key / set interpreter.llm.api_key."
    )


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
    check_keys(litellm, route)
    kwargs: dict[str, Any] = {
        "model": route.model,
        "messages": wire,
        "stream": True,
        "stream_options": {"include_usage": True},
        "num_retries": 0,
        "max_retries": 0,
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
    stream = None
    try:
        stream = litellm.completion(**kwargs)
        for chunk in stream:
            yield from _pieces(chunk)
            finished = finished or any(c.finish_reason for c in chunk.choices or ())
    except Exception as err:  # noqa: BLE001 - LiteLLM raises its own exception classes
        where = _where(err, kwargs.get("api_base"))
        raise _translate(litellm, err, where, streaming=stream is not None) from err
    if not finished:
        raise Transient(StreamCut("the reply from LiteLLM ended before it was complete"))


def _pieces(chunk: Any) -> Iterator[Piece]:
    for choice in chunk.choices or ():
        delta = choice.delta
        if getattr(delta, "content", None):
            yield TextPiece(delta.content)
        for call in getattr(delta, "tool_calls", None) or ():
            function = call.function
            index = call.index if isinstance(call.index, int) else None
            name = getattr(function, "name", None)
            yield ToolPiece(index, function.arguments or "", call.id or None, name or None)
    usage = getattr(chunk, "usage", None)
    if usage:
        yield UsagePiece(usage.prompt_tokens or 0, usage.completion_tokens or 0)


def _translate(litellm: ModuleType, err: Exception, where: str, *, streaming: bool) -> Exception:
    """A LiteLLM exception as our error (a Transient where a retry may help); ``where``
    names the server (``_where``)."""
    if isinstance(err, (ModelError, Transient)):
        return err
    message = _message(err)
    status = getattr(err, "status_code", None)
    if streaming and _is_cut(err):
        return Transient(StreamCut(f"the reply from {where} was cut off: {message}"))
    exceptions = litellm.exceptions
    answered = f"{where} answered HTTP {status}" if status else f"{where} answered"
    if isinstance(err, exceptions.AuthenticationError):
        return ProviderError(f"{answered} (invalid API key): {message}", status)
    if isinstance(err, exceptions.RateLimitError):
        error = RateLimited(f"{answered} (rate limited): {message}", status)
        return Transient(error, parse_retry_after(_header(err, "retry-after")))
    transient = (exceptions.APIConnectionError, exceptions.ServiceUnavailableError,
                 exceptions.InternalServerError, exceptions.Timeout)  # fmt: skip
    if isinstance(err, transient):
        return Transient(ProviderError(f"{where} failed: {message}", status))
    return ProviderError(f"{answered} (request rejected): {message}", status)


def _message(err: Exception) -> str:
    """The provider's own words: LiteLLM's prefixes dropped, a JSON error body unwrapped."""
    from .http_stream import error_message

    text = _NOISE.sub("", one_line(str(err)))
    return (error_message(text) if text.startswith("{") else text) or type(err).__name__


def _where(err: Exception, api_base: str | None) -> str:
    """The server an error came from: the host of the ``api_base`` the user set, else the
    provider LiteLLM named."""
    from .providers import server_at

    provider = getattr(err, "llm_provider", None)
    via = f"via LiteLLM, {provider}" if provider else "via LiteLLM"
    if api_base:
        return f"{server_at(api_base)} ({via})"
    return f"{provider} (via LiteLLM)" if provider else "LiteLLM"


def _is_cut(err: Exception) -> bool:
    """Whether the connection dropped mid-stream (not an error status nor bad data)."""
    import httpx

    seen: list[BaseException] = []
    cause: BaseException | None = err
    while cause is not None and cause not in seen:
        if isinstance(cause, (httpx.TransportError, ConnectionError)):
            return True
        seen.append(cause)
        cause = getattr(cause, "original_exception", None) or cause.__cause__ or cause.__context__
    return False


def _header(err: Exception, name: str) -> str | None:
    """A response header of the failed request, wherever this LiteLLM version keeps it."""
    response = getattr(err, "response", None)
    for headers in (getattr(err, "litellm_response_headers", None), getattr(err, "headers", None),
                    getattr(response, "headers", None)):  # fmt: skip
        value = headers.get(name) if headers else None
        if value is not None:
            return str(value)
    return None
