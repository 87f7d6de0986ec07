"""``GET /ui/``: the web UI's static files, with a strict Content-Security-Policy.

The files in ``ui/`` (HTML, CSS, ES modules; no build step, nothing fetched from
elsewhere) are public like ``/heartbeat``: they hold no secret. The page reads the token
from its URL fragment (never sent to the server) and uses it for the websocket and the
REST routes, which the usual token, Host and Origin rules guard.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from starlette.responses import Response

__all__ = ["UI_DIR", "UI_PATH", "add_ui_routes", "content_security_policy", "ui_files"]

UI_DIR = Path(__file__).resolve().parent / "ui"
UI_PATH = "/ui"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def content_security_policy(host: str) -> str:
    """The page's CSP: its own scripts and styles only, images inline, the websocket home.

    HTML outputs are shown in ``<iframe sandbox srcdoc>``: an opaque origin that inherits
    this policy, so nothing in them runs or loads from elsewhere.
    """
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            f"connect-src 'self' ws://{host} wss://{host}",
            "frame-src 'self' blob:",
            "child-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def ui_files(directory: Path = UI_DIR) -> dict[str, tuple[bytes, str]]:
    """Each served file by name: its bytes and media type (read once, at start)."""
    files: dict[str, tuple[bytes, str]] = {}
    for path in sorted(directory.iterdir()):
        media = MEDIA_TYPES.get(path.suffix)
        if media is not None and path.is_file():
            files[path.name] = (path.read_bytes(), media)
    return files


def _headers(host: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(host),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": "no-cache",
    }


def add_ui_routes(app: FastAPI) -> None:
    """``/ui`` (redirects to ``/ui/``), ``/ui/`` (the page) and ``/ui/{file}``."""
    from fastapi.responses import RedirectResponse
    from starlette.responses import Response as PlainResponse

    files = ui_files()

    async def redirect(_request: Request) -> Response:
        return RedirectResponse(f"{UI_PATH}/", status_code=307)  # the fragment stays

    async def serve(request: Request) -> Response:
        name = request.path_params.get("name") or "index.html"
        found = files.get(name)
        if found is None:
            return PlainResponse("not found", 404, media_type="text/plain")
        body, media = found
        host = request.headers.get("host", "127.0.0.1")  # already checked by RequestGuard
        return PlainResponse(body, 200, headers=_headers(host), media_type=media)

    app.add_route(UI_PATH, redirect, methods=["GET"])
    app.add_route(f"{UI_PATH}/", serve, methods=["GET"])
    app.add_route(f"{UI_PATH}/{{name}}", serve, methods=["GET"])
