"""What a front end hears about a turn's model requests while it waits: a sign of life.

``Llm.progress`` (a callable, None by default) is told ``RequestStarted`` before each
request is sent and ``Retrying`` before each retry's wait (``retry.py``). It is called
in the thread that drives the turn; a listener must return quickly (it only records).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import ModelError, ProviderError, RateLimited, StreamCut

__all__ = ["Listener", "Progress", "RequestStarted", "Retrying"]


@dataclass(frozen=True)
class RequestStarted:
    """A request to the model is about to be sent."""

    model: str


@dataclass(frozen=True)
class Retrying:
    """A failed request will be tried again: try number ``attempt`` of ``tries`` (2 is
    the first retry), after waiting ``wait`` seconds, because of ``error``."""

    attempt: int
    tries: int
    wait: float
    error: ModelError

    @property
    def reason(self) -> str:
        """Why, in a few words: ``HTTP 500``, ``HTTP 429 (rate limit)``, ``a cut-off reply``."""
        error = self.error
        if isinstance(error, RateLimited):
            return f"HTTP {error.status or 429} (rate limit)"
        if isinstance(error, ProviderError) and error.status:
            return f"HTTP {error.status}"
        if isinstance(error, StreamCut):
            return "a cut-off reply"
        return "no connection"

    def line(self) -> str:
        """One line for ``verbose``: ``retry 1 of 4 in 0.6 s after: <the error>``."""
        return (
            f"retry {self.attempt - 1} of {self.tries - 1} in {self.wait:.1f} s after: {self.error}"
        )


Progress = RequestStarted | Retrying
Listener = Callable[[Progress], None]
