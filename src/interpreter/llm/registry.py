"""Which Model serves which kind of route, imported only when that route is used.

``open_model(route, connect)`` picks the implementation for ``route.kind``: ``"openai"``
(any OpenAI-compatible HTTP endpoint, ``openai_compat.py``), ``"anthropic"`` (the
Messages API, ``anthropic.py``), ``"gguf"`` (a file run in this process, ``gguf.py``) and
``"litellm"`` (every other provider, ``litellm_route.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from .model import Connect, Model
from .providers import Kind, Route

__all__ = ["MODELS", "open_model"]


def _openai(route: Route, connect: Connect) -> Model:
    from .openai_compat import OpenAIChat

    return OpenAIChat(route, connect)


def _anthropic(route: Route, connect: Connect) -> Model:
    from .anthropic import AnthropicMessages

    return AnthropicMessages(route, connect)


def _gguf(route: Route, connect: Connect) -> Model:
    from .gguf import GgufModel

    return GgufModel(route)


def _litellm(route: Route, connect: Connect) -> Model:
    from .litellm_route import LiteLLMModel

    return LiteLLMModel(route)


MODELS: dict[Kind, Callable[[Route, Connect], Model]] = {
    "openai": _openai,
    "anthropic": _anthropic,
    "gguf": _gguf,
    "litellm": _litellm,
}


def open_model(route: Route, connect: Connect) -> Model:
    """The client for ``route`` (HTTP clients come from ``connect`` when a request is sent)."""
    return MODELS[route.kind](route, connect)
