"""Server settings: from ``serve()``'s arguments, the environment and the operator's interpreter.

Environment: ``INTERPRETER_HOST``, ``INTERPRETER_PORT``, ``INTERPRETER_API_KEY`` (the
token), ``INTERPRETER_MAX_SESSIONS``, ``INTERPRETER_AUTH_TIMEOUT`` (seconds a websocket
client has to authenticate), ``INTERPRETER_ALLOWED_ORIGINS`` and
``INTERPRETER_ALLOWED_HOSTS`` (comma-separated), ``INTERPRETER_ALLOWED_MODELS``
(comma-separated models a client may switch its session to, ``*`` for any; by default the
model is the operator's alone). Without a configured token one is generated, but only for
a loopback address: exposing the server needs an explicit token.
"""

from __future__ import annotations

import copy
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..settings import SETTINGS, Setting, holder
from .security import is_loopback

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_AUTH_TIMEOUT = 10.0

#: What each session copies from the operator's interpreter: every setting of the table
#: (interpreter/settings.py) marked ``inherit``, the permissions and the sandbox included.
INHERITED: tuple[Setting, ...] = tuple(s for s in SETTINGS if s.inherit and s.attribute)


class ConfigError(Exception):
    """A server configuration that must not start (one-line message)."""


@dataclass
class ServerSettings:
    """Everything ``create_app`` needs. ``make_interpreter`` builds each session's interpreter."""

    make_interpreter: Callable[[], OpenInterpreter]
    token: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    auto_run: bool = False
    max_sessions: int = 32
    idle_timeout: float = 1800.0
    auth_timeout: float = DEFAULT_AUTH_TIMEOUT
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    #: The models a client may switch to (``*``: any); none: the operator's model only.
    allowed_models: tuple[str, ...] = ()
    token_generated: bool = field(default=False, compare=False)


def clone_interpreter(interp: OpenInterpreter) -> OpenInterpreter:
    """A fresh interpreter with ``interp``'s settings (no messages, no processes)."""
    from ..core.interpreter import OpenInterpreter

    new = OpenInterpreter(load_profile=False)
    for item in INHERITED:
        value = getattr(holder(interp, item), item.name)
        setattr(holder(new, item), item.name, copy.deepcopy(value))
    return new


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None


def _seconds_env(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ConfigError(f"{name} must be a number of seconds above 0, not {raw!r}")
    return value


def _list_env(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in env.get(name, "").split(",") if v.strip())


def _allowed_models(env: Mapping[str, str], operator_model: str) -> tuple[str, ...]:
    """``INTERPRETER_ALLOWED_MODELS``, with the operator's model (to switch back to)."""
    listed = _list_env(env, "INTERPRETER_ALLOWED_MODELS")
    return (*listed, operator_model) if listed and operator_model not in listed else listed


def settings_for(
    interp: OpenInterpreter,
    host: str | None = None,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
) -> ServerSettings:
    """The settings ``serve()`` uses; raises ``ConfigError`` for an unsafe or bad setup."""
    env = os.environ if env is None else env
    host = host or env.get("INTERPRETER_HOST", "").strip() or DEFAULT_HOST
    port = port if port is not None else _int_env(env, "INTERPRETER_PORT", DEFAULT_PORT)
    if not 0 <= port <= 65535:
        raise ConfigError(f"port {port} is out of range (0-65535)")
    token = env.get("INTERPRETER_API_KEY", "").strip()
    generated = not token
    if generated and not is_loopback(host):
        raise ConfigError(
            f"refusing to listen on {host} without a token: set INTERPRETER_API_KEY "
            "(or use --host 127.0.0.1)"
        )
    max_sessions = _int_env(env, "INTERPRETER_MAX_SESSIONS", 32)
    if max_sessions < 1:
        raise ConfigError("INTERPRETER_MAX_SESSIONS must be at least 1")
    return ServerSettings(
        make_interpreter=lambda: clone_interpreter(interp),
        token=token or secrets.token_urlsafe(32),
        host=host,
        port=port,
        auto_run=bool(interp.auto_run),
        max_sessions=max_sessions,
        auth_timeout=_seconds_env(env, "INTERPRETER_AUTH_TIMEOUT", DEFAULT_AUTH_TIMEOUT),
        allowed_origins=_list_env(env, "INTERPRETER_ALLOWED_ORIGINS"),
        allowed_hosts=_list_env(env, "INTERPRETER_ALLOWED_HOSTS"),
        allowed_models=_allowed_models(env, interp.llm.model),
        token_generated=generated,
    )
