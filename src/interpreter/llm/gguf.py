"""``--model path/to/model.gguf``: the model runs in this process through llama-cpp-python.

No server: the file is loaded once (kept while it is the model in use), its own chat
template formats the messages, and ``create_chat_completion(stream=True)`` streams the
reply as text pieces. Such models get no tools: code comes back as fenced blocks.
llama-cpp-python is the optional extra ``interpreter[local]``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ModelError, NoModelConfigured, ProviderError
from .providers import Route, known_vision
from .wire import Piece, TextPiece, UsagePiece, WireMessage

if TYPE_CHECKING:
    from .local_servers import ModelLimits
    from .model import RequestSettings

__all__ = [
    "DEFAULT_CONTEXT",
    "INSTALL_HINT",
    "GgufModel",
    "MissingExtra",
    "context_window",
    "is_gguf",
    "load",
    "model_path",
    "stream_gguf",
    "unload",
]

INSTALL_HINT = 'pip install "interpreter[local]"'
DEFAULT_CONTEXT = 8192


class MissingExtra(ModelError):
    """llama-cpp-python is not installed (one line saying how to install it)."""


_lock = threading.RLock()  # one generation at a time: a llama.cpp context is not shared
_loaded: dict[tuple[str, int], Any] = {}


def is_gguf(model: str) -> bool:
    """Whether the model string names a GGUF file (``*.gguf``)."""
    return model.strip().lower().endswith(".gguf")


def model_path(model: str) -> Path:
    """The file ``model`` names: a path, or a file name in the local models folder."""
    path = Path(model.strip()).expanduser()
    if path.is_file() or path.is_absolute() or len(path.parts) > 1:
        return path
    from ..store.paths import config_dir

    in_folder = config_dir() / "models" / path
    return in_folder if in_folder.is_file() else path


def _import_llama() -> Any:
    import importlib

    try:
        module = importlib.import_module("llama_cpp")
    except ImportError:
        raise MissingExtra(
            f"running a .gguf model needs llama-cpp-python, which is not installed: "
            f"run {INSTALL_HINT}"
        ) from None
    return module.Llama


def load(model: str, n_ctx: int | None = None) -> Any:
    """The loaded ``llama_cpp.Llama`` for ``model`` (loaded once; a new file replaces it)."""
    path = model_path(model)
    Llama = _import_llama()
    if not path.is_file():
        raise NoModelConfigured(f"no such model file: {path}")
    key = (str(path.resolve()), n_ctx or DEFAULT_CONTEXT)
    with _lock:
        if key not in _loaded:
            _loaded.clear()  # one model in memory at a time
            _loaded[key] = _open(Llama, key[0], key[1])
        return _loaded[key]


def _open(llama_class: Any, path: str, n_ctx: int) -> Any:
    try:
        llama = llama_class(
            model_path=path, n_ctx=n_ctx, n_threads=os.cpu_count() or 1, verbose=False
        )
    except (ValueError, RuntimeError, OSError) as err:
        raise ProviderError(f"cannot load {path}: {str(err).splitlines()[0]}") from None
    _pick_format(llama)
    return llama


# chat formats for files that carry no chat template, by architecture (llama-cpp-python's
# own fallback is Llama 2's format, which other families do not know)
_FORMATS = (
    ("gemma", "gemma"),
    ("qwen", "qwen"),
    ("phi", "chatml"),
    ("mistral", "mistral-instruct"),
)


def _pick_format(llama: Any) -> None:
    metadata = getattr(llama, "metadata", None) or {}
    if "tokenizer.chat_template" in metadata or llama.chat_format != "llama-2":
        return
    arch = str(metadata.get("general.architecture", ""))
    for family, chat_format in _FORMATS:
        if arch.startswith(family):
            llama.chat_format = chat_format
            return


def unload() -> None:
    """Free the loaded model."""
    with _lock:
        _loaded.clear()


def context_window(model: str, n_ctx: int | None = None) -> int:
    """The context window of the loaded model, in tokens."""
    return int(load(model, n_ctx).n_ctx())


class GgufModel:
    """A Model for a GGUF file run in this process (no tools: code comes back fenced)."""

    def __init__(self, route: Route) -> None:
        self.route = route

    def stream(
        self, wire: list[WireMessage], tools: list[dict[str, Any]], settings: RequestSettings
    ) -> Iterator[Piece]:
        return stream_gguf(
            self.route.model,
            wire,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            n_ctx=settings.context_window,
        )

    def supports_functions(self) -> bool:
        return False

    def supports_vision(self) -> bool:
        return known_vision(self.route.model)

    def limits(self) -> ModelLimits:
        """The loaded model's context window (loading the file)."""
        from .local_servers import ModelLimits

        return ModelLimits(context_window(self.route.model))


def _merged(wire: list[WireMessage]) -> list[dict[str, Any]]:
    """Text-only messages, consecutive ones of the same role joined (chat templates such as
    Gemma's insist on alternating user/assistant turns)."""
    out: list[dict[str, Any]] = []
    for message in wire:
        content = message.get("content") or ""
        if isinstance(content, list):
            content = "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        role = message.get("role", "user")
        if out and out[-1]["role"] == role:
            out[-1]["content"] += "\n\n" + content
        else:
            out.append({"role": role, "content": content})
    return out


def stream_gguf(
    model: str,
    wire: list[WireMessage],
    *,
    temperature: float | None,
    max_tokens: int | None,
    n_ctx: int | None = None,
) -> Iterator[Piece]:
    """Stream one reply of the in-process model as pieces (text, then usage)."""
    llama = load(model, n_ctx)
    messages = _merged(wire)
    with _lock:
        chunks = llama.create_chat_completion(
            messages=messages,
            stream=True,
            temperature=0.0 if temperature is None else temperature,
            max_tokens=max_tokens,
        )
        completion = 0
        try:
            for chunk in chunks:
                for choice in chunk.get("choices") or ():
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        completion += 1
                        yield TextPiece(text)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
    yield UsagePiece(_prompt_tokens(llama, messages), completion)


def _prompt_tokens(llama: Any, messages: list[dict[str, Any]]) -> int:
    text = "\n".join(str(m["content"]) for m in messages)
    try:
        return len(llama.tokenize(text.encode("utf-8"), add_bos=False))
    except (RuntimeError, ValueError):
        return 0
