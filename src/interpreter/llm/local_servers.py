"""Model servers on this machine: which ones run, their models, and their context windows.

``discover()`` probes the usual ports of Ollama, LM Studio, llama.cpp / llamafile, Jan and
vLLM on 127.0.0.1 at once, with a short timeout. ``server_limits()`` asks one server how
many tokens a model reads (llama.cpp ``/props``, vLLM ``/v1/models``, Ollama
``/api/show``, LM Studio ``/api/v0/models``), once per model. Plain stdlib HTTP with no
proxy: these requests never leave the machine or its network.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "KNOWN_SERVERS",
    "LocalServer",
    "ModelLimits",
    "discover",
    "is_private_url",
    "limits_from",
    "server_limits",
]


@dataclass(frozen=True)
class KnownServer:
    """A model server program and the port it listens on by default."""

    name: str
    port: int
    ollama: bool = False


KNOWN_SERVERS: tuple[KnownServer, ...] = (
    KnownServer("Ollama", 11434, ollama=True),
    KnownServer("LM Studio", 1234),
    KnownServer("llama.cpp / llamafile", 8080),
    KnownServer("Jan", 1337),
    KnownServer("vLLM", 8000),
)


@dataclass(frozen=True)
class LocalServer:
    """A running server: its name, OpenAI-style base URL and the models it lists."""

    name: str
    api_base: str
    models: tuple[str, ...]


@dataclass(frozen=True)
class ModelLimits:
    """What a server says about a model (None: it did not say)."""

    context_window: int | None = None
    max_tokens: int | None = None


# -- HTTP ------------------------------------------------------------------------------


def _request(url: str, timeout: float, body: dict[str, Any] | None = None) -> Any:
    """The JSON a GET (or, with ``body``, POST) answers; None on any failure."""
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
    try:
        with opener.open(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError):
        return None


def _root(api_base: str) -> str:
    """``http://host:port/v1`` -> ``http://host:port``."""
    base = api_base.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


# -- discovery ---------------------------------------------------------------------------


def _model_ids(data: Any) -> list[str] | None:
    """Model ids of an OpenAI ``/v1/models`` answer (None: not one)."""
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        return None
    return [str(row["id"]) for row in data["data"] if isinstance(row, dict) and "id" in row]


def _ollama_names(data: Any) -> list[str] | None:
    """Model names of an Ollama ``/api/tags`` answer (None: not one)."""
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        return None
    rows = data["models"]
    return [str(r.get("name") or r.get("model")) for r in rows if isinstance(r, dict)]


def probe(known: KnownServer, host: str, timeout: float) -> LocalServer | None:
    """The server on ``known.port`` if it answers like a model server, else None."""
    root = f"http://{host}:{known.port}"
    found = _model_ids(_request(root + "/v1/models", timeout))
    if known.ollama:
        tags = _ollama_names(_request(root + "/api/tags", timeout))
        if tags is not None:
            found = (found or []) + [name for name in tags if name not in (found or [])]
    if found is None:
        return None
    return LocalServer(known.name, root + "/v1", tuple(found))


def discover(
    timeout: float = 0.5,
    servers: Sequence[KnownServer] = KNOWN_SERVERS,
    host: str = "127.0.0.1",
) -> list[LocalServer]:
    """The servers that answer, in ``servers`` order; all are probed at once."""
    results: list[LocalServer | None] = [None] * len(servers)

    def run(index: int) -> None:
        results[index] = probe(servers[index], host, timeout)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(servers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout * 3 + 1)
    return [server for server in results if server is not None]


# -- limits ------------------------------------------------------------------------------


def is_private_url(url: str) -> bool:
    """Whether ``url``'s host is this machine or on a private network (LAN)."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "0.0.0.0") or host.endswith((".local", ".localhost")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _from_props(data: Any) -> ModelLimits:
    """llama.cpp server ``/props``: ``default_generation_settings.n_ctx`` (and n_predict)."""
    if not isinstance(data, dict):
        return ModelLimits()
    settings = data.get("default_generation_settings") or {}
    params = settings.get("params") or {} if isinstance(settings, dict) else {}
    n_ctx = _positive(settings.get("n_ctx")) if isinstance(settings, dict) else None
    predict = settings.get("n_predict") if isinstance(settings, dict) else None
    predict = predict if predict is not None else params.get("n_predict")
    return ModelLimits(n_ctx or _positive(data.get("n_ctx")), _positive(predict))


def _from_show(data: Any) -> ModelLimits:
    """Ollama ``/api/show``: ``model_info["<arch>.context_length"]``."""
    info = data.get("model_info") if isinstance(data, dict) else None
    if not isinstance(info, dict):
        return ModelLimits()
    for key, value in info.items():
        if str(key).endswith(".context_length") and _positive(value):
            return ModelLimits(_positive(value))
    return ModelLimits()


def _row(data: Any, model: str) -> dict[str, Any]:
    rows = data.get("data") if isinstance(data, dict) else None
    for row in rows if isinstance(rows, list) else ():
        if isinstance(row, dict) and row.get("id") == model:
            return row
    return {}


def _from_models(data: Any, model: str) -> ModelLimits:
    """vLLM ``/v1/models`` (``max_model_len``) or LM Studio ``/api/v0/models``
    (``max_context_length``), for the row of ``model``."""
    row = _row(data, model)
    window = _positive(row.get("max_model_len")) or _positive(row.get("max_context_length"))
    return ModelLimits(window)


def limits_from(source: str, data: Any, model: str) -> ModelLimits:
    """Read one answer: ``source`` is ``props``, ``show``, ``models`` or ``lmstudio``."""
    if source == "props":
        return _from_props(data)
    if source == "show":
        return _from_show(data)
    return _from_models(data, model)


def _sources(root: str, model: str) -> list[tuple[str, Callable[[float], Any]]]:
    return [
        ("models", lambda t: _request(root + "/v1/models", t)),
        ("props", lambda t: _request(root + "/props", t)),
        ("show", lambda t: _request(root + "/api/show", t, {"model": model, "name": model})),
        ("lmstudio", lambda t: _request(root + "/api/v0/models", t)),
    ]


_CACHE: dict[tuple[str, str], ModelLimits] = {}
_CACHE_LOCK = threading.Lock()


def server_limits(api_base: str, model: str, timeout: float = 2.0) -> ModelLimits:
    """What the server at ``api_base`` says about ``model``; asked once per (server, model).

    Only servers on this machine or a private network are asked; others get ModelLimits().
    """
    key = (api_base.rstrip("/"), model)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        found = ModelLimits()
        if is_private_url(api_base):
            found = _ask(_root(api_base), model, timeout)
        _CACHE[key] = found
        return found


def _ask(root: str, model: str, timeout: float) -> ModelLimits:
    for source, fetch in _sources(root, model):
        limits = limits_from(source, fetch(timeout), model)
        if limits.context_window is not None:
            return limits
    return ModelLimits()
