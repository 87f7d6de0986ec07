"""The web UI under test: our server with ``ui=True`` on loopback, and Debian's Chromium
driven by Playwright (the installed system browser; nothing is downloaded)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from helpers import make_interpreter
from interpreter.server import ServerSettings, create_app
from interpreter.server.runner import ServerThread, listen
from interpreter.testing.fake_server import FakeModelServer

CHROMIUM = (
    os.environ.get("INTERPRETER_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)  # Debian's chromium package (.ci/run installs it)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "ui-test-token-0123456789"


def page_url(server: ServerThread, token: str = TOKEN) -> str:
    return f"http://127.0.0.1:{server.port}/ui/#token={token}"


@contextmanager
def ui_servers(model: FakeModelServer, token: str = TOKEN) -> Iterator[Callable[..., ServerThread]]:
    """``start(**settings)``: our server with the UI on a free port; all stop on exit."""
    servers: list[ServerThread] = []

    def start(**settings: Any) -> ServerThread:
        sock = listen()
        config = ServerSettings(
            make_interpreter=lambda: make_interpreter(model),
            token=token,
            port=sock.getsockname()[1],
            **settings,
        )
        server = ServerThread(create_app(config, ui=True), sock).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@contextmanager
def chromium() -> Iterator[Any]:
    """A Playwright browser context of the system Chromium, with a fresh profile and home."""
    from playwright.sync_api import sync_playwright

    home = tempfile.mkdtemp(prefix="interpreter-chromium-")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "XDG_CONFIG_HOME": f"{home}/config",
        "XDG_CACHE_HOME": f"{home}/cache",
        "TMPDIR": tempfile.gettempdir(),
    }
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                f"{home}/profile",
                executable_path=CHROMIUM,
                args=CHROMIUM_ARGS,
                env=env,
                headless=True,
                viewport={"width": 1100, "height": 760},
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)
