"""Real API servers on loopback, wired to the fake model: start any number, stop them all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from helpers import make_interpreter
from interpreter.server import ServerSettings, create_app
from interpreter.server.runner import ServerThread, listen
from interpreter.testing.fake_server import FakeModelServer

Start = Callable[..., ServerThread]


@contextmanager
def running_servers(model: FakeModelServer, token: str) -> Iterator[Start]:
    """A ``start(**settings)`` that serves on a free port; every server stops on exit."""
    servers: list[ServerThread] = []

    def start(**settings: Any) -> ServerThread:
        sock = listen()
        config = ServerSettings(
            make_interpreter=lambda: make_interpreter(model),
            token=token,
            port=sock.getsockname()[1],
            **settings,
        )
        server = ServerThread(create_app(config), sock).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
