"""``--local``: find the model servers (and GGUF files) on this machine, let the user pick a
model, and remember the choice in the profile.

The profile edit is a YAML round trip that keeps comments and layout
(store/profile_edit.py): only ``model`` and ``api_base`` under ``llm:`` are set (a
commented ``# api_base: ...`` line is used in place, a missing key is added under
``llm:``), so every other line and comment stays as it was. A file only PyYAML reads
(e.g. a key given twice) is rewritten from its parsed content, without comments. The file
is replaced atomically.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..llm.local_servers import LocalServer, discover
from ..store.profile_edit import set_llm_keys

__all__ = [
    "Choice",
    "LocalServer",
    "NO_LOCAL_SERVER",
    "choose_local_model",
    "find_local_server",
    "local_choices",
    "remember_model",
    "set_llm_keys",
]

NO_LOCAL_SERVER = """\
no local model server is running (looked on 127.0.0.1 for Ollama :11434, LM Studio :1234,
llama.cpp / llamafile :8080, Jan :1337 and vLLM :8000). Start one, then run --local again:
  Ollama:     ollama serve, then: ollama pull llama3.1
  LM Studio:  load a model and start its server (Developer tab)
  llamafile:  ./MODEL.llamafile --server   (llama.cpp: llama-server -m MODEL.gguf)
  GGUF file:  pip install "interpreter[local]", then: interpreter --model path/to/MODEL.gguf
Or use any OpenAI-compatible server: --api_base URL --model NAME."""


@dataclass(frozen=True)
class Choice:
    """One model the user can pick: ``api_base`` None for a GGUF file run in-process."""

    model: str
    api_base: str | None
    title: str


def find_local_server(timeout: float = 0.5) -> LocalServer | None:
    """The first running local server (in the order of ``KNOWN_SERVERS``), or None."""
    found = discover(timeout)
    return found[0] if found else None


def _gguf_files() -> list[Path]:
    """GGUF files in the local models folder, when llama-cpp-python can run them."""
    from ..store.paths import config_dir

    folder = config_dir() / "models"
    if importlib.util.find_spec("llama_cpp") is None or not folder.is_dir():
        return []
    return sorted(folder.glob("*.gguf"))


def local_choices(
    timeout: float = 0.5, current: tuple[str, str | None] | None = None
) -> list[Choice]:
    """Every model of every running local server and every GGUF file in the models folder;
    ``current`` (model, api_base), when among them, comes first."""
    choices = [
        Choice(model, server.api_base, f"{model}  ({server.name}, {server.api_base})")
        for server in discover(timeout)
        for model in server.models
    ]
    choices += [
        Choice(str(p), None, f"{p.name}  (GGUF file, runs in-process)") for p in _gguf_files()
    ]
    first = [c for c in choices if current and (c.model, c.api_base) == current]
    return first + [c for c in choices if c not in first]


def choose_local_model(
    say: Callable[[str], None],
    current: tuple[str, str | None] | None = None,
    timeout: float = 0.5,
) -> Choice | None:
    """The model to use: picked with the arrow keys in a terminal; otherwise (or when there
    is only one) the first. None when nothing runs here; KeyboardInterrupt when cancelled."""
    choices = local_choices(timeout, current)
    if len(choices) <= 1 or not (sys.stdin.isatty() and sys.stdout.isatty()):
        return choices[0] if choices else None
    from .picker import pick

    index = pick("Which local model?", [c.title for c in choices])
    if index is None:
        raise KeyboardInterrupt
    return choices[index]


# -- remembering the choice ------------------------------------------------------------


def remember_model(path: Path, model: str, api_base: str | None) -> str:
    """Save ``llm.model`` (and ``llm.api_base``) in the YAML profile at ``path``; return a
    line saying what was done."""
    from ..store.profile_edit import edit_profile, is_yaml_profile

    values = {"model": model} | ({"api_base": api_base} if api_base else {})
    if not is_yaml_profile(path):
        return f"Not saved: {path.name} is not a YAML profile."

    def change(data: dict[str, Any]) -> dict[str, Any]:
        llm = data.get("llm")
        return {**data, "llm": {**(llm if isinstance(llm, dict) else {}), **values}}

    try:
        how = edit_profile(path, lambda text: set_llm_keys(text, values), change)
    except ValueError as err:
        return f"Not saved: {path} {err}."
    return f"Saved in {path} ({how}): next time plain `interpreter` uses it."
