"""``--local``: find the model servers (and GGUF files) on this machine, let the user pick a
model, and remember the choice in the profile.

The profile edit is targeted: only the ``model`` and ``api_base`` lines under ``llm:`` are
set (a commented ``# api_base: ...`` line is uncommented in place, a missing key is added
under ``llm:``), so every other line and comment stays as it was. When the file's layout
does not allow that (e.g. ``llm: {...}`` on one line), it is rewritten from its parsed
content, without comments. The file is replaced atomically.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..llm.local_servers import LocalServer, discover

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

_COMMENT = re.compile(r"\s+#.*$")


def _block(lines: list[str], start: int) -> tuple[int, str]:
    """The end of the block under ``lines[start]`` (``llm:``) and its key indentation."""
    end, last, indent = start + 1, start + 1, ""
    while end < len(lines) and (not lines[end].strip() or lines[end][:1] in (" ", "\t")):
        if lines[end].strip():
            last = end + 1
            stripped = lines[end].lstrip()
            if not indent and not stripped.startswith("#"):
                indent = lines[end][: len(lines[end]) - len(stripped)]
        end += 1
    return last, indent or "  "


def _set_key(lines: list[str], start: int, end: int, indent: str, key: str, value: str) -> None:
    active = re.compile(rf"^{re.escape(indent)}{key}\s*:(.*)$")
    commented = re.compile(rf"^\s*#\s*{key}\s*:(.*)$")
    for pattern in (active, commented):
        for at in range(start + 1, end):
            match = pattern.match(lines[at].rstrip("\n"))
            if match:
                comment = _COMMENT.search(match.group(1))
                tail = "  " + comment.group(0).strip() if comment else ""
                lines[at] = f"{indent}{key}: {value}{tail}\n"
                return
    lines.insert(start + 1, f"{indent}{key}: {value}\n")


def set_llm_keys(text: str, values: dict[str, str]) -> str:
    """``text`` (a YAML profile) with ``llm.<key>: value`` set for each of ``values``,
    by editing only those lines. Raises ValueError when the layout does not allow it."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = next((i for i, line in enumerate(lines) if re.match(r"^llm:\s*(#.*)?$", line)), None)
    if start is None:
        if any(re.match(r"^llm\s*:", line) for line in lines):
            raise ValueError("llm is not a block")
        lines += ["llm:\n"]
        start = len(lines) - 1
    for key, value in values.items():
        end, indent = _block(lines, start)
        _set_key(lines, start, end, indent, key, json.dumps(value))
    return "".join(lines)


def _check(text: str, values: dict[str, str]) -> bool:
    import yaml

    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    llm = data.get("llm") if isinstance(data, dict) else None
    return isinstance(llm, dict) and all(llm.get(k) == v for k, v in values.items())


def remember_model(path: Path, model: str, api_base: str | None) -> str:
    """Save ``llm.model`` (and ``llm.api_base``) in the YAML profile at ``path``; return a
    line saying what was done."""
    from ..store.atomic import atomic_write_text

    values = {"model": model} | ({"api_base": api_base} if api_base else {})
    if path.suffix.lower() not in (".yaml", ".yml"):
        return f"Not saved: {path.name} is not a YAML profile."
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        new = set_llm_keys(old, values)
    except ValueError:
        new = ""
    how = "updated"
    if not _check(new, values):
        new, how = _rewritten(old, values), "rewritten (its comments were lost)"
    atomic_write_text(path, new)
    return f"Saved in {path} ({how}): next time plain `interpreter` uses it."


def _rewritten(old: str, values: dict[str, str]) -> str:
    import yaml

    data: Any = yaml.safe_load(old) if old.strip() else {}
    data = data if isinstance(data, dict) else {}
    llm = data.get("llm") if isinstance(data.get("llm"), dict) else {}
    data["llm"] = {**llm, **values}
    return str(yaml.safe_dump(data, sort_keys=False))
