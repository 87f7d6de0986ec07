"""Bounded retries for model requests: which failures are worth retrying, and how long to wait.

A provider raises ``Transient`` for a failure that may pass (429, 5xx, a connection that
could not be made); ``retrying`` retries it with exponential backoff and jitter, honouring
``Retry-After``, but only while nothing of the reply has been yielded yet, so a retry is
never glued to a partial answer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from .errors import ModelError, ProviderError, RateLimited
from .progress import Retrying

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


class Transient(Exception):
    """A failure that may pass: ``error`` is raised once the retries run out."""

    def __init__(self, error: ModelError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


@dataclass
class RetryPolicy:
    """How often and how long to retry: ``max_retries`` tries after the first, each wait at
    most ``max_wait`` seconds, all waits together at most ``total_wait`` seconds."""

    max_retries: int = 4
    base: float = 0.5
    max_wait: float = 20.0
    total_wait: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    #: Told about each retry before its wait (``verbose`` prints it, the terminal shows it).
    notify: Callable[[Retrying], None] | None = None

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        if retry_after is not None:
            extra: float = random.uniform(0.0, 0.1)
            return max(0.0, retry_after) + extra
        backoff = min(self.max_wait, self.base * float(2**attempt))
        jitter: float = random.uniform(0.5, 1.0)
        return backoff * jitter


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def status_error(
    status: int, server: str, message: str, retry_after: str | None, url: str | None = None
) -> Exception:
    """The error for an HTTP error status from ``server`` (``Route.server``): a
    ``Transient`` when worth retrying. A 404 names the ``url`` asked."""
    message = one_line(message) or f"HTTP {status}"
    answered = f"{server} answered HTTP {status}"
    if status in (401, 403):
        what = "invalid API key" if status == 401 else "access denied"
        return ProviderError(f"{answered} ({what}): {message}", status)
    if status == 429 and "quota" in message.lower():
        return RateLimited(f"{answered} (quota exceeded): {message}", status)
    if status == 429:
        error: ModelError = RateLimited(f"{answered} (rate limited): {message}", status)
        return Transient(error, parse_retry_after(retry_after))
    if status in RETRYABLE_STATUS:
        error = ProviderError(f"{answered} (server error): {message}", status)
        return Transient(error, parse_retry_after(retry_after))
    if status == 404 and url:
        return ProviderError(f"{answered} (not found: POST {url}): {message}", status)
    return ProviderError(f"{answered} (request rejected): {message}", status)


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def retrying(policy: RetryPolicy, attempt: Callable[[], Iterator[T]]) -> Iterator[T]:
    """Yield from ``attempt()``, calling it again after a ``Transient`` failure that came
    before its first item, within the policy's bounds."""
    waited = 0.0
    tries = 0
    while True:
        started = False
        try:
            for item in attempt():
                started = True
                yield item
            return
        except Transient as failure:
            if started:
                raise failure.error from failure
            wait = policy.delay(tries, failure.retry_after)
            if tries >= policy.max_retries or waited + wait > policy.total_wait:
                raise failure.error from failure
            if policy.notify is not None:
                policy.notify(Retrying(tries + 2, policy.max_retries + 1, wait, failure.error))
            policy.sleep(wait)
            waited += wait
            tries += 1
