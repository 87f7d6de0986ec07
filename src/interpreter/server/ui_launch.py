"""``interpreter --ui`` (and ``--server --ui``): the server with the web UI, opened in a browser.

``--ui`` listens on 127.0.0.1 (``INTERPRETER_HOST``) on a free port unless
``INTERPRETER_PORT`` names one; ``--server --ui`` uses the server's port (8000 by default).
The address carries the token in its fragment (``/ui/#token=...``), which browsers never
send to a server. A browser is opened only where one can be (a desktop session, or
``BROWSER`` set), through a private redirect file so the token stays off the command
line of the browser process; otherwise, and always, the address is printed. Plain ``--ui``
on a loopback address lets the page switch the model (any, unless
``INTERPRETER_ALLOWED_MODELS`` says which); ``--server --ui`` keeps the server's rule.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .security import WILDCARD_HOSTS, is_loopback

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter
    from .config import ServerSettings

__all__ = ["can_open_browser", "serve_ui", "ui_url"]


def ui_url(host: str, port: int, token: str) -> str:
    """The page's address, token in the fragment."""
    from urllib.parse import quote

    name = "127.0.0.1" if host.strip("[]") in WILDCARD_HOSTS else host
    name = f"[{name.strip('[]')}]" if ":" in name else name
    return f"http://{name}:{port}/ui/#token={quote(token, safe='')}"


def can_open_browser(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether a browser can be shown here: macOS, Windows, a desktop session, or BROWSER."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if env.get("BROWSER"):
        return True
    if platform == "darwin" or platform.startswith("win"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(128)
    return sock


def _redirect_file(url: str) -> Path:
    """A page readable by the user only that sends the browser on to ``url``."""
    from html import escape

    from ..store.atomic import atomic_write_text

    folder = Path(tempfile.mkdtemp(prefix="interpreter-ui-"))
    path = folder / "open.html"
    target = escape(url, quote=True)
    atomic_write_text(
        path,
        '<!DOCTYPE html><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0;url={target}">'
        f'<title>interpreter</title><a href="{target}">Open the interpreter</a>\n',
    )
    return path


def _open_browser(url: str) -> Path | None:
    import webbrowser

    try:
        page = _redirect_file(url)
        opened = webbrowser.open(page.as_uri())
    except (OSError, webbrowser.Error):
        return None
    return page if opened else None


def _cleanup(page: Path | None) -> None:
    if page is not None:
        import shutil

        shutil.rmtree(page.parent, ignore_errors=True)


def _settings(interp: OpenInterpreter, server_mode: bool) -> ServerSettings:
    from .config import settings_for
    from .settings_api import ANY_MODEL

    chosen = os.environ.get("INTERPRETER_PORT", "").strip()
    port = None if server_mode or chosen else 0  # 0: any free port
    settings = settings_for(interp, None, port)
    if not server_mode and not settings.allowed_models and is_loopback(settings.host):
        # the operator's own browser on this machine: the UI's model field works
        settings = dataclasses.replace(settings, allowed_models=(ANY_MODEL,))
    return settings


def serve_ui(interp: OpenInterpreter, *, server_mode: bool = False) -> int:
    """Runs the server with the UI until interrupted; returns the exit code."""
    from .app import print_banner, run_app
    from .config import ConfigError

    try:
        settings = _settings(interp, server_mode)
        sock = _bind(settings.host, settings.port)
    except ConfigError as err:
        print(f"interpreter: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"interpreter: cannot listen on {settings.host}: {err.strerror}", file=sys.stderr)
        return 1
    settings = dataclasses.replace(settings, port=sock.getsockname()[1])
    url = ui_url(settings.host, settings.port, settings.token)
    opened: list[Path | None] = []

    def announce() -> None:
        if server_mode:
            print_banner(settings)
        print(f"web UI: {url}\n(Ctrl-C stops it)", flush=True)
        opened.append(_open_browser(url) if can_open_browser() else None)

    try:
        return run_app(settings, ui=True, sock=sock, announce=announce)
    finally:
        sock.close()
        _cleanup(opened[0] if opened else None)
