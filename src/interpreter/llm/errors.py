"""Errors from the model side: each says in one line what went wrong and what to do."""

from __future__ import annotations


class ModelError(Exception):
    """Any failure talking to a model. ``str(err)`` is a one-line message for the user."""


class NoModelConfigured(ModelError):
    """No API key / server for the chosen model."""


class ProviderError(ModelError):
    """The provider answered with an error status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(ProviderError):
    """429 after the bounded retries ran out."""


class StreamCut(ModelError):
    """The stream ended before the provider said it was complete."""


class ContextOverflow(ModelError):
    """The messages cannot be fitted to the context window (or cannot be counted)."""


class BudgetExceeded(ModelError):
    """The next request would exceed ``llm.max_budget``."""


class UnpricedBudget(BudgetExceeded):
    """``max_budget`` is set but the model's price is unknown (and none was given)."""
