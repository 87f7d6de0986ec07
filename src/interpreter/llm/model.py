"""The Model seam: one client per route, behind one small protocol.

``Model.stream`` takes OpenAI-format wire messages, the tool schemas and the request
settings, and yields provider pieces (``wire.py``); ``Llm`` turns those into events.
``registry.py`` says which implementation serves which kind of route.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .providers import Route
from .retry import RetryPolicy
from .wire import Piece, WireMessage

if TYPE_CHECKING:
    import httpx

    from .local_servers import ModelLimits

__all__ = ["Connect", "Model", "RequestSettings"]

#: Gives the HTTP client for a route (one pool per proxy setting, owned by ``Llm``).
Connect = Callable[[Route], "httpx.Client"]


@dataclass(frozen=True)
class RequestSettings:
    """The settings of one request, from ``Llm``'s attributes."""

    temperature: float | None = None
    max_tokens: int | None = None
    context_window: int | None = None  # what the user set (an in-process model's n_ctx)
    api_version: str | None = None
    timeout: float = 600.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class Model(Protocol):
    """A client for one route."""

    route: Route

    def stream(
        self, wire: list[WireMessage], tools: list[dict[str, Any]], settings: RequestSettings
    ) -> Iterator[Piece]:
        """Send one request and yield the reply as pieces (text, tool-call deltas, usage)."""
        ...

    def supports_functions(self) -> bool:
        """Whether the model calls tools, when the user did not say."""
        ...

    def supports_vision(self) -> bool:
        """Whether the model accepts images, when the user did not say."""
        ...

    def limits(self) -> ModelLimits:
        """Context window and max tokens as the model or its server says (None: unknown)."""
        ...
