"""``interpreter --server``: Open Interpreter 0.4.3's websocket and REST protocol, an
OpenAI-compatible endpoint, and many isolated sessions, behind a token.

``serve(interp, host, port) -> int`` runs it; ``create_app(ServerSettings(...))`` builds
the FastAPI app (``ui=True`` adds the web UI under ``/ui/``; ``ui_launch.serve_ui`` is
``interpreter --ui``). FastAPI and uvicorn are imported only when these are called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ServerSettings", "create_app", "serve"]

if TYPE_CHECKING:
    from .app import create_app, serve
    from .config import ServerSettings


def __getattr__(name: str) -> Any:
    if name in ("create_app", "serve"):
        from . import app

        return getattr(app, name)
    if name == "ServerSettings":
        from .config import ServerSettings

        return ServerSettings
    raise AttributeError(f"module 'interpreter.server' has no attribute {name!r}")
