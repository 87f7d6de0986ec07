"""The FastAPI app (``create_app``) and the ``interpreter --server`` entry point (``serve``).

Routes: ``GET /heartbeat`` (no token), ``WS /`` (0.4.3's protocol, see
``websocket_route``), ``GET /settings``, ``GET /settings/{name}``, ``POST /settings``
(``settings_api``; with ``X-Session-Id`` for one session, else the defaults of new
sessions and the ``default`` session), ``DELETE /sessions/{id}``,
``POST /openai/chat/completions`` and ``GET /openai/models`` (``openai_route``),
``GET /conversations`` and ``GET /conversations/{name}`` (``conversations_route``), and
with ``ui=True`` the web UI under ``/ui/`` (``ui_route``; ``interpreter --ui``).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from .config import ConfigError, ServerSettings, settings_for
from .sessions import SessionLimit, SessionRegistry
from .state import ServerState

if TYPE_CHECKING:
    from fastapi import FastAPI, Request, WebSocket
    from starlette.responses import Response

    from ..core.interpreter import OpenInterpreter

__all__ = ["ServerSettings", "ServerState", "create_app", "serve"]


def _registry(settings: ServerSettings) -> SessionRegistry:
    def factory() -> OpenInterpreter:
        interp = settings.make_interpreter()
        interp.auto_run = settings.auto_run  # the operator's choice, never a client's
        return interp

    return SessionRegistry(
        factory,
        max_sessions=settings.max_sessions,
        idle_timeout=settings.idle_timeout,
        allowed_models=settings.allowed_models,
    )


def create_app(settings: ServerSettings, *, ui: bool = False) -> FastAPI:
    """The server app for ``settings`` (tests start it with uvicorn on loopback)."""
    from fastapi import FastAPI

    from .checkpoints_route import add_checkpoint_routes
    from .conversations_route import add_conversation_routes
    from .security import HostPolicy, RequestGuard
    from .ui_route import UI_PATH, add_ui_routes

    state = ServerState(settings, _registry(settings))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await state.registry.close_all()

    app = FastAPI(
        title="interpreter", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.server = state
    _add_routes(app, state)
    add_conversation_routes(app, state)
    add_checkpoint_routes(app, state)
    if ui:
        add_ui_routes(app)
    policy = HostPolicy(
        port=settings.port,
        bind_host=settings.host,
        allowed_hosts=settings.allowed_hosts,
        allowed_origins=settings.allowed_origins,
    )
    public = (UI_PATH,) if ui else ()
    app.add_middleware(RequestGuard, policy=policy, token=settings.token, public_prefixes=public)
    return app


def _json(status: int, message: str) -> Response:
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": message, "detail": message}, status)


def _add_routes(app: FastAPI, state: ServerState) -> None:
    """Starlette-style endpoints: each takes the request and returns a response."""
    from fastapi.responses import JSONResponse
    from starlette.routing import WebSocketRoute

    from . import openai_route, websocket_route

    async def heartbeat(_request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def websocket(ws: WebSocket) -> None:
        await websocket_route.websocket_endpoint(ws, state)

    async def chat_completions(request: Request) -> Response:
        return await openai_route.chat_completions(request, state)

    async def models(_request: Request) -> Response:
        return JSONResponse(openai_route.models_list())

    async def close_session(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        if state.registry.get(session_id) is None:
            return _json(404, f"no session {session_id!r}")
        await state.registry.close(session_id)
        return _json(200, "closed")

    app.add_route("/heartbeat", heartbeat, methods=["GET"])
    app.router.routes.append(WebSocketRoute("/", websocket))
    app.add_route("/openai/chat/completions", chat_completions, methods=["POST"])
    app.add_route("/openai/v1/chat/completions", chat_completions, methods=["POST"])
    app.add_route("/openai/models", models, methods=["GET"])
    app.add_route("/sessions/{session_id}", close_session, methods=["DELETE"])
    _add_settings_routes(app, state)


async def _settings_target(request: Request, state: ServerState) -> OpenInterpreter:
    """The session named by ``X-Session-Id`` (opened on demand), else a defaults template."""
    sid = request.headers.get("x-session-id")
    if sid:
        return (await state.registry.open(sid)).interp
    default = state.registry.get("default")
    return default.interp if default is not None else _defaults_view(state)


def _defaults_view(state: ServerState) -> OpenInterpreter:
    from .settings_api import apply_settings

    interp = state.registry.factory()
    if state.registry.overrides:
        apply_settings(interp, state.registry.overrides, state.settings.allowed_models)
    return interp


def _add_settings_routes(app: FastAPI, state: ServerState) -> None:
    from fastapi.responses import JSONResponse

    from .settings_api import SettingsError, jsonable, read_setting, settings_view

    async def get_settings(request: Request) -> Response:
        try:
            view = settings_view(await _settings_target(request, state))
        except SessionLimit as err:
            return _json(503, str(err))
        return JSONResponse(jsonable(view))

    async def get_setting(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            value = read_setting(await _settings_target(request, state), name)
        except SettingsError as err:
            return _json(err.status, err.message)
        except SessionLimit as err:
            return _json(503, str(err))
        return JSONResponse(jsonable({name: value}))

    async def post_settings(request: Request) -> Response:
        try:
            payload = await request.json()
        except ValueError:
            return _json(400, "the body is not JSON")
        try:
            await _change_settings(request, state, payload)
        except SettingsError as err:
            return _json(err.status, err.message)
        except SessionLimit as err:
            return _json(503, str(err))
        return JSONResponse({"status": "success"})

    app.add_route("/settings", get_settings, methods=["GET"])
    app.add_route("/settings", post_settings, methods=["POST"])
    app.add_route("/settings/{name}", get_setting, methods=["GET"])


async def _change_settings(request: Request, state: ServerState, payload: Any) -> None:
    from .settings_api import apply_settings, validate_settings

    allowed = state.settings.allowed_models
    sid = request.headers.get("x-session-id")
    if sid:
        apply_settings((await state.registry.open(sid)).interp, payload, allowed)
        return
    default = state.registry.get("default")
    validate_settings(default.interp if default else state.registry.factory(), payload, allowed)
    if default is not None:
        apply_settings(default.interp, payload, allowed)
    state.registry.overrides.update(payload)


def print_banner(settings: ServerSettings) -> None:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(
        f"interpreter server on http://{host}:{settings.port} (websocket ws://{host}:{settings.port}/)"
    )
    if settings.token_generated:
        print(f'token (send as X-API-KEY, Bearer, or {{"auth": ...}}): {settings.token}')
    if settings.auto_run:
        print("auto-run is ON: clients' code runs without approval")
    sys.stdout.flush()


def run_app(
    settings: ServerSettings,
    *,
    ui: bool = False,
    sock: Any = None,
    announce: Callable[[], None] | None = None,
) -> int:
    """Serves ``create_app(settings)`` (on ``sock`` when given) until interrupted;
    ``announce()`` runs once the app is built (it prints where to find it)."""
    try:
        import uvicorn

        app = create_app(settings, ui=ui)
    except ImportError as err:
        print(
            f"interpreter: the server needs extra packages ({err.name}): "
            "pip install 'interpreter[server]'",
            file=sys.stderr,
        )
        return 1
    if announce is not None:
        announce()
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning")
    try:
        uvicorn.Server(config).run(sockets=[sock] if sock is not None else None)
    except SystemExit as exit_:  # uvicorn exits when it cannot bind
        return exit_.code if isinstance(exit_.code, int) else 1
    except KeyboardInterrupt:
        pass
    return 0


def serve(interp: OpenInterpreter, host: str | None, port: int | None) -> int:
    """Runs the server until interrupted; returns the exit code (2: refused configuration)."""
    try:
        settings = settings_for(interp, host, port)
    except ConfigError as err:
        print(f"interpreter: {err}", file=sys.stderr)
        return 2
    return run_app(settings, announce=lambda: print_banner(settings))
