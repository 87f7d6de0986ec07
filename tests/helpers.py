"""Shared test helpers: an interpreter wired to the fake model server."""

from __future__ import annotations

from typing import Any

from interpreter import OpenInterpreter
from interpreter.testing.fake_server import FakeModelServer


def make_interpreter(server: FakeModelServer, **settings: Any) -> OpenInterpreter:
    interp = OpenInterpreter(load_profile=False)
    interp.llm.model = "gpt-4o"
    interp.llm.api_base = server.url
    interp.llm.api_key = "sk-test-secret"
    for key, value in settings.items():
        setattr(interp, key, value)
    return interp


def blocks(chunks: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    """The (flag, role/type, format) framing events of a chunk stream."""
    out = []
    for chunk in chunks:
        for flag in ("start", "end"):
            if chunk.get(flag):
                out.append((flag, f"{chunk['role']}/{chunk['type']}", chunk.get("format")))
    return out


def tool_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in request["messages"] if m["role"] == "tool"]
