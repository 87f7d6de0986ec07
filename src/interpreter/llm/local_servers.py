"""Model servers on this machine: which ones run, their models, and their context windows.

``discover()`` probes the usual ports of Ollama, LM Studio, llama.cpp / llamafile, Jan and
vLLM on 127.0.0.1 at once, with a short timeout. ``server_limits()`` asks one server how
many tokens a model reads *as it runs*, which is often less than it was trained for:
vLLM ``/v1/models`` (``max_model_len``), llama.cpp ``/props`` (``n_ctx`` per slot), Ollama
``/api/ps`` (the loaded model's ``context_length``) or ``/api/show`` (a ``num_ctx``
parameter), LM Studio ``/api/v0/models`` (``loaded_context_length``) or ``/api/v1/models``
(a loaded instance's ``context_length``). When a server only tells the trained length of a
model it has not loaded yet, the window is its default for loading one (Ollama and LM
Studio: 4096) and ``ModelLimits.note`` says so in one line; such an answer is asked again
once (the first request loads the model). A sure answer is kept per (server, model).
Plain stdlib HTTP with no proxy: these requests never leave the machine or its network.
"""

from __future__ import annotations

import ipaddress
import json
import re
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
    """What a server says about a model (None: it did not say). ``note``: set when the
    window is an assumption (a one-line notice for the user), None when it is sure."""

    context_window: int | None = None
    max_tokens: int | None = None
    note: str | None = None


#: The context Ollama and LM Studio give a model they load without being told (Ollama:
#: on machines with under 24 GiB of VRAM; LM Studio's default load setting).
LOADING_DEFAULT = 4096
_NUM_CTX = re.compile(r"(?m)^\s*num_ctx\s+(\d+)")


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


def _trained(info: Any) -> int | None:
    """``model_info["<arch>.context_length"]`` of an Ollama ``/api/show`` answer."""
    if not isinstance(info, dict):
        return None
    for key, value in info.items():
        if str(key).endswith(".context_length") and _positive(value):
            return _positive(value)
    return None


def _assumed(server: str, model: str, trained: int) -> ModelLimits:
    """A model the server has not loaded yet: it will get the loading default (sure when
    the model reads no more than that anyway)."""
    if trained <= LOADING_DEFAULT:
        return ModelLimits(trained)
    window = LOADING_DEFAULT
    note = (
        f"{server} did not say how many tokens {model} gets (not loaded yet); assuming "
        f"{window} of its {trained}. Set --context_window to use more."
    )
    return ModelLimits(window, note=note)


def _from_show(data: Any, model: str) -> ModelLimits:
    """Ollama ``/api/show``: a ``num_ctx`` parameter is what the model runs with; the
    trained ``model_info["<arch>.context_length"]`` alone is only an upper bound."""
    if not isinstance(data, dict):
        return ModelLimits()
    params = data.get("parameters")
    found = _NUM_CTX.search(params) if isinstance(params, str) else None
    if found and _positive(int(found.group(1))):
        return ModelLimits(int(found.group(1)))
    trained = _trained(data.get("model_info"))
    return _assumed("Ollama", model, trained) if trained else ModelLimits()


def _same_ollama_model(name: Any, model: str) -> bool:
    """``llama3`` names ``llama3:latest``; ``llama3:8b`` only itself."""
    name = str(name or "")
    return name == model or (":" not in model and name == f"{model}:latest")


def _from_ps(data: Any, model: str) -> ModelLimits:
    """Ollama ``/api/ps``: the ``context_length`` a loaded model was given."""
    rows = data.get("models") if isinstance(data, dict) else None
    for row in rows if isinstance(rows, list) else ():
        names = (row.get("name"), row.get("model")) if isinstance(row, dict) else ()
        if any(_same_ollama_model(name, model) for name in names):
            return ModelLimits(_positive(row.get("context_length")))
    return ModelLimits()


def _row(data: Any, model: str, rows_key: str = "data", id_key: str = "id") -> dict[str, Any]:
    rows = data.get(rows_key) if isinstance(data, dict) else None
    for row in rows if isinstance(rows, list) else ():
        if isinstance(row, dict) and row.get(id_key) == model:
            return row
    return {}


def _from_models(data: Any, model: str) -> ModelLimits:
    """vLLM ``/v1/models``: ``max_model_len`` of the row of ``model``."""
    return ModelLimits(_positive(_row(data, model).get("max_model_len")))


def _from_lmstudio(data: Any, model: str) -> ModelLimits:
    """LM Studio ``/api/v0/models``: ``loaded_context_length`` of a loaded model; a model
    not loaded yet has only its trained ``max_context_length``."""
    row = _row(data, model)
    loaded = _positive(row.get("loaded_context_length"))
    if loaded:
        return ModelLimits(loaded)
    trained = _positive(row.get("max_context_length"))
    return _assumed("LM Studio", model, trained) if trained else ModelLimits()


def _from_lmstudio_v1(data: Any, model: str) -> ModelLimits:
    """LM Studio ``/api/v1/models``: ``loaded_instances[].config.context_length``."""
    row = _row(data, model, rows_key="models", id_key="key")
    for instance in row.get("loaded_instances") or ():
        config = instance.get("config") if isinstance(instance, dict) else None
        if isinstance(config, dict) and _positive(config.get("context_length")):
            return ModelLimits(_positive(config.get("context_length")))
    trained = _positive(row.get("max_context_length"))
    return _assumed("LM Studio", model, trained) if trained else ModelLimits()


_READERS: dict[str, Callable[[Any, str], ModelLimits]] = {
    "props": lambda data, model: _from_props(data),
    "show": _from_show,
    "ps": _from_ps,
    "models": _from_models,
    "lmstudio": _from_lmstudio,
    "lmstudio_v1": _from_lmstudio_v1,
}


def limits_from(source: str, data: Any, model: str) -> ModelLimits:
    """Read one answer: ``source`` is ``props``, ``show``, ``ps``, ``models``, ``lmstudio``
    or ``lmstudio_v1``."""
    return _READERS[source](data, model)


def _sources(root: str, model: str) -> list[tuple[str, Callable[[float], Any]]]:
    """Where to ask, sure answers first: vLLM, llama.cpp, a loaded Ollama model, then the
    answers that may only know the trained length."""
    return [
        ("models", lambda t: _request(root + "/v1/models", t)),
        ("props", lambda t: _request(root + "/props", t)),
        ("ps", lambda t: _request(root + "/api/ps", t)),
        ("lmstudio", lambda t: _request(root + "/api/v0/models", t)),
        ("lmstudio_v1", lambda t: _request(root + "/api/v1/models", t)),
        ("show", lambda t: _request(root + "/api/show", t, {"model": model, "name": model})),
    ]


_CACHE: dict[tuple[str, str], tuple[ModelLimits, int]] = {}
_CACHE_LOCK = threading.Lock()
_ASK_UNSURE = 2  # an assumed window is asked about again once (the model loads meanwhile)


def server_limits(api_base: str, model: str, timeout: float = 2.0) -> ModelLimits:
    """What the server at ``api_base`` says about ``model``: a sure answer is asked once
    per (server, model), an assumed one (``note`` set) twice.

    Only servers on this machine or a private network are asked; others get ModelLimits().
    """
    key = (api_base.rstrip("/"), model)
    with _CACHE_LOCK:
        cached, asked = _CACHE.get(key, (None, 0))
        if cached is not None and (cached.note is None or asked >= _ASK_UNSURE):
            return cached
        found = ModelLimits()
        if is_private_url(api_base):
            found = _ask(_root(api_base), model, timeout)
        _CACHE[key] = (found, asked + 1)
        return found


def _ask(root: str, model: str, timeout: float) -> ModelLimits:
    unsure: ModelLimits | None = None
    for source, fetch in _sources(root, model):
        limits = limits_from(source, fetch(timeout), model)
        if limits.context_window is None:
            continue
        if limits.note is None:
            return limits
        unsure = unsure or limits
    return unsure or ModelLimits()
