"""``--local``: find an OpenAI-compatible model server running on this machine."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

__all__ = ["LocalServer", "find_local_server", "LOCAL_SERVERS", "NO_LOCAL_SERVER"]

LOCAL_SERVERS = (
    ("Ollama", "http://127.0.0.1:11434/v1"),
    ("LM Studio", "http://127.0.0.1:1234/v1"),
    ("llamafile / llama.cpp", "http://127.0.0.1:8080/v1"),
)

NO_LOCAL_SERVER = (
    "No local model server found (looked for Ollama on port 11434, LM Studio on 1234, "
    "llamafile/llama.cpp on 8080). Start one (e.g. `ollama serve` and `ollama pull llama3.1`), "
    "or point at any OpenAI-compatible server with --api_base URL --model NAME."
)


@dataclass(frozen=True)
class LocalServer:
    name: str
    api_base: str
    models: tuple[str, ...]


def _models(api_base: str, timeout: float) -> tuple[str, ...] | None:
    try:
        with urllib.request.urlopen(api_base + "/models", timeout=timeout) as response:
            data = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    rows = data.get("data", []) if isinstance(data, dict) else []
    return tuple(str(row["id"]) for row in rows if isinstance(row, dict) and "id" in row)


def find_local_server(timeout: float = 0.5) -> LocalServer | None:
    """The first known local server that answers ``GET /models``, or None."""
    for name, api_base in LOCAL_SERVERS:
        models = _models(api_base, timeout)
        if models is not None:
            return LocalServer(name, api_base, models)
    return None
