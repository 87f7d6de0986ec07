"""One streamed HTTP request to a model API: the reader the OpenAI-compatible and the
Anthropic clients share.

``stream_sse`` POSTs a JSON body, turns an error status into a one-line error (a
``Transient`` when worth retrying, honouring ``Retry-After``), reads the Server-Sent
Events with httpx-sse and hands each event's JSON object to the provider's ``SseReply``,
which says what pieces it holds and whether the reply is complete. A connection that
cannot be made is retried; a stream that breaks or ends before the provider said the
reply was complete is a ``StreamCut`` (retried only while nothing was yielded, see
``retry.py``). httpx and httpx-sse are imported on the first request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .errors import ProviderError, StreamCut
from .providers import Route
from .retry import RetryPolicy, Transient, one_line, retrying, status_error
from .wire import Piece

if TYPE_CHECKING:
    import httpx

__all__ = ["SseReply", "SseRequest", "error_message", "load_event", "load_modules", "stream_sse"]

DONE = "[DONE]"  # OpenAI's last ``data:`` line


class SseReply(Protocol):
    """What a provider makes of one stream's events (a fresh one for every attempt)."""

    #: The provider said the reply is whole (a stream that ends before is cut off).
    complete: bool
    #: Nothing more to read (the reply is whole and nothing else is expected).
    stopped: bool

    def pieces(self, event: dict[str, Any]) -> Iterable[Piece]:
        """The pieces in one event; raises ModelError (or Transient) for an in-stream error."""
        ...


@dataclass(frozen=True)
class SseRequest:
    """A streamed POST: where it goes, with which headers and body."""

    route: Route
    url: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def stream_sse(
    client: httpx.Client,
    request: SseRequest,
    reply: Callable[[], SseReply],
    policy: RetryPolicy,
) -> Iterator[Piece]:
    """Stream one reply as pieces; retries (before the first piece) per ``policy``."""
    return retrying(policy, lambda: _attempt(client, request, reply()))


def load_modules() -> None:
    """Import what the first request needs (httpx, httpx-sse), ahead of it."""
    import httpx  # noqa: F401
    import httpx_sse  # noqa: F401


def _attempt(client: httpx.Client, request: SseRequest, reply: SseReply) -> Iterator[Piece]:
    import httpx

    route = request.route
    headers = {"accept": "text/event-stream", **request.headers}
    try:
        with client.stream("POST", request.url, json=request.body, headers=headers) as response:
            if response.status_code >= 400:
                response.read()
                raise status_error(
                    response.status_code,
                    route.server,
                    error_message(response.text),
                    response.headers.get("retry-after"),
                    request.url,
                )
            yield from _read(response, route, reply)
    except httpx.TransportError as err:
        reason = one_line(str(err)) or type(err).__name__
        raise Transient(ProviderError(f"cannot reach {route.server}: {reason}")) from err


def _read(response: httpx.Response, route: Route, reply: SseReply) -> Iterator[Piece]:
    import httpx
    from httpx_sse import EventSource, SSEError

    try:
        for sse in EventSource(response).iter_sse():
            if sse.data == DONE:
                return
            if not sse.data:
                continue
            yield from reply.pieces(load_event(sse.data, route))
            if reply.stopped:
                return
    except SSEError:
        kind = response.headers.get("content-type") or "no content type"
        raise ProviderError(
            f"{route.server} did not stream its answer "
            f"(Content-Type: {one_line(kind, 80)}, expected text/event-stream)"
        ) from None
    except httpx.TransportError as err:
        cut = StreamCut(f"the reply from {route.server} was cut off: {one_line(str(err))}")
        raise Transient(cut) from err
    if not reply.complete:
        raise Transient(StreamCut(f"the reply from {route.server} ended before it was complete"))


def error_message(text: str) -> str:
    """The provider's error message from an error body (JSON or plain text), on one line."""
    try:
        data = json.loads(text)
    except ValueError:
        return one_line(text)
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict):
        error = error.get("message") or error.get("detail") or json.dumps(error)
    return one_line(str(error))


def load_event(data: str, route: Route) -> dict[str, Any]:
    """One SSE event's JSON object; a clear ProviderError when it is not one."""
    try:
        event = json.loads(data)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise ProviderError(f"{route.server} sent a malformed stream event: {one_line(data, 80)}")
    return event
