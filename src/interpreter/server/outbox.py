"""Merges the text chunks that queued up while the websocket was busy sending.

A model streams faster than a browser takes websocket messages (each costs the browser a
trip between its processes), so the chunks waiting when the sender is free again go out as
one: consecutive content chunks of the same block (same role, type and format, string
content, no start/end flag) are joined, up to ``MAX_MERGED`` characters. The stream means
the same to any client; only the piece sizes differ. Nothing waits: a chunk that arrives
alone is sent alone, at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_MERGED = 32 * 1024
_KEYS = frozenset({"role", "type", "format", "content"})


def _mergeable(event: Any) -> bool:
    return (
        isinstance(event, dict)
        and isinstance(event.get("content"), str)
        and set(event) <= _KEYS
        and event.get("format") != "active_line"
    )


def _same_block(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a.get(k) == b.get(k) for k in ("role", "type", "format"))


def merge_text(events: Iterable[Any]) -> list[Any]:
    """``events`` with runs of same-block text chunks joined (other events unchanged)."""
    out: list[Any] = []
    for event in events:
        if out and _joins(out[-1], event):
            out[-1] = {**out[-1], "content": out[-1]["content"] + event["content"]}
        else:
            out.append(event)
    return out


def _joins(last: Any, event: Any) -> bool:
    return (
        _mergeable(event)
        and _mergeable(last)
        and _same_block(last, event)
        and len(last["content"]) + len(event["content"]) <= MAX_MERGED
    )
