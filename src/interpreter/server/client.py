"""A small synchronous client for the websocket protocol (tests, benchmarks, scripts).

with LmcClient("ws://127.0.0.1:8000/", token) as client:
    chunks = client.chat("list my files")      # up to the next "complete" status
    if client.pending_code(chunks):
        chunks = client.go()
"""

from __future__ import annotations

import json
from typing import Any

COMPLETE = {"role": "server", "type": "status", "content": "complete"}


class LmcClient:
    """One websocket session, speaking Open Interpreter 0.4.3's protocol."""

    def __init__(
        self, url: str, token: str, *, timeout: float = 30.0, headers: dict[str, str] | None = None
    ) -> None:
        from websockets.sync.client import connect

        self.timeout = timeout
        self._connection = connect(url, open_timeout=timeout, additional_headers=headers)
        self.ws = self._connection.__enter__()
        self.send({"auth": token})
        self.authenticated = self.receive().get("auth") is True

    def send(self, data: dict[str, Any]) -> None:
        self.ws.send(json.dumps(data))

    def receive(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.ws.recv(timeout=self.timeout))
        return data

    def until_complete(self) -> list[dict[str, Any]]:
        """The chunks received up to (not including) the next ``complete`` status."""
        chunks: list[dict[str, Any]] = []
        while (chunk := self.receive()) != COMPLETE:
            chunks.append(chunk)
        return chunks

    def send_message(self, text: str) -> None:
        """A user message, framed with start and end flags."""
        self.send({"role": "user", "start": True})
        self.send({"role": "user", "type": "message", "content": text})
        self.send({"role": "user", "end": True})

    def chat(self, text: str) -> list[dict[str, Any]]:
        self.send_message(text)
        return self.until_complete()

    def command(self, name: str) -> None:
        """``go`` or ``stop``, framed as 0.4.3's clients send it."""
        self.send({"role": "user", "type": "command", "start": True})
        self.send({"role": "user", "type": "command", "content": name})
        self.send({"role": "user", "type": "command", "end": True})

    def go(self) -> list[dict[str, Any]]:
        self.command("go")
        return self.until_complete()

    @staticmethod
    def pending_code(chunks: list[dict[str, Any]]) -> bool:
        return any(c.get("type") == "confirmation" for c in chunks)

    def close(self) -> None:
        self._connection.__exit__(None, None, None)

    def __enter__(self) -> LmcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
