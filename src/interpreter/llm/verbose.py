"""What ``verbose`` and ``debug`` print: the route, each request, retries and token use.

Lines go to stderr (stdout stays the conversation's, pure JSON with ``--json``), each
starting with ``verbose:`` or, for the details only ``debug`` shows, ``debug:``. Messages
are printed as JSON and every character that is not printable is escaped (terminal
control sequences from a model or a server never reach the terminal). API keys are never
printed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from .providers import Route
from .wire import WireMessage

__all__ = ["detail_lines", "print_line", "reply_line", "request_line", "route_line"]


def print_line(text: str, *, detail: bool = False) -> None:
    """One diagnostic line on stderr, non-printable characters escaped."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    sys.stderr.write(f"{'debug' if detail else 'verbose'}: {shown}\n")
    sys.stderr.flush()


def route_line(route: Route, *, functions: bool, vision: bool) -> str:
    """Where the request goes: ``model gpt-4o via OpenAI at https://... (tool calls, ...)``."""
    where = f" at {route.api_base}" if route.api_base else " in this process"
    tools = "tool calls" if functions else "code in Markdown blocks (no tool calls)"
    images = "images" if vision else "no images"
    return f"model {route.model} via {route.provider}{where} ({tools}, {images})"


def request_line(
    wire: Sequence[WireMessage],
    tools: Sequence[dict[str, Any]],
    *,
    tokens: int | None,
    window: int | None,
    max_tokens: int | None,
) -> str:
    """The request's size: messages, tokens, the window it was fitted to, the reply limit."""
    counted = f"{tokens} tokens" if tokens is not None else "tokens not counted"
    reply = f"replies up to {max_tokens} tokens" if max_tokens else "no reply limit"
    offered = f"{len(tools)} tool{'' if len(tools) == 1 else 's'}"
    return (
        f"sending {len(wire)} messages, {counted} (context window {window or 'unknown'}, "
        f"{reply}, {offered})"
    )


def detail_lines(wire: Sequence[WireMessage], tools: Sequence[dict[str, Any]]) -> list[str]:
    """The request's messages and tools as JSON (``debug`` only)."""
    lines = [f"message {i}: {json.dumps(m)}" for i, m in enumerate(wire)]
    lines += [f"tool: {json.dumps(tool)}" for tool in tools]
    return lines


def reply_line(prompt: int, completion: int, cost: float | None) -> str:
    price = f"${cost:.6f}" if cost is not None else "cost unknown"
    return f"reply done: {prompt} prompt + {completion} completion tokens, {price}"
