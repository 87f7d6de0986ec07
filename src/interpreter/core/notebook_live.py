"""A live notebook (``--notebook run.ipynb``): a notebook file kept up to date with the
conversation after every step, and an existing notebook read back as the conversation.

Opening an existing notebook resumes from it: its cells become the conversation's
messages (ours map back exactly through their ``metadata.interpreter``; any other
notebook's Markdown cells are user messages and its code cells assistant code with their
outputs as the computer's console output and images). Those cells are then kept as they
were, and the cells of every newer message follow them. Each write replaces the file
atomically, so JupyterLab (or anything else) reading it sees a whole notebook.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..lmc import Message
from ..store.kernel_log import KernelRun
from .notebook import NOTEBOOK_METADATA, nbformat_module, notebook_cells

__all__ = ["LiveNotebook", "NotebookError", "notebook_messages", "read_notebook"]

#: The language of a cell magic (``%%bash``), or of the program ``%%script`` runs.
_MAGIC_LANGUAGE = {
    "bash": "shell", "sh": "shell", "zsh": "shell", "ruby": "ruby", "html": "html",
    "javascript": "javascript", "js": "javascript", "node": "javascript", "Rscript": "r",
    "R": "r", "pwsh": "powershell", "osascript": "applescript", "python": "python",
    "python3": "python",
}  # fmt: skip


class NotebookError(Exception):
    """A file that cannot be read as a notebook; ``str()`` is one line: path and reason."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{Path(path)}: {' '.join(reason.split())}")


def read_notebook(path: str | os.PathLike[str]) -> Any:
    """The notebook in ``path`` (any nbformat version, upgraded to 4)."""
    nbformat = nbformat_module()
    try:
        notebook = nbformat.read(os.fspath(path), as_version=4)
    except OSError as err:
        raise NotebookError(path, err.strerror or str(err)) from None
    except Exception as err:  # nbformat raises several kinds for a file that is not one
        raise NotebookError(path, f"not a Jupyter notebook ({err})") from None
    return notebook


# -- cells back to messages ---------------------------------------------------------------


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _unquote(text: str) -> str:
    lines = text.split("\n")
    return "\n".join(line[2:] if line.startswith("> ") else line.lstrip(">") for line in lines)


def _split_magic(source: str) -> tuple[str, str]:
    """``("shell", "ls")`` for ``%%bash ...\\nls``; Python for a cell without a cell magic."""
    first, _, rest = source.partition("\n")
    words = first.split()
    if not words or not words[0].startswith("%%"):
        return "python", source
    name = words[0][2:]
    if name == "script":
        name = next((w for w in words[1:] if not w.startswith("-")), "")
    language = _MAGIC_LANGUAGE.get(name)
    return (language, rest) if language else ("python", source)


def _output_text(output: Any) -> str:
    from ..execution.languages.output import strip_ansi

    kind = output.get("output_type")
    if kind == "stream":
        text = output.get("text", "")
        return "".join(text) if isinstance(text, list) else str(text)
    if kind == "error":
        return strip_ansi("\n".join(output.get("traceback") or [])) + "\n"
    plain = (output.get("data") or {}).get("text/plain")
    if plain is None:
        return ""
    text = "".join(plain) if isinstance(plain, list) else str(plain)
    return text if text.endswith("\n") else text + "\n"


def _output_messages(outputs: Sequence[Any]) -> Iterator[Message]:
    text: list[str] = []
    for output in outputs:
        data = output.get("data") or {}
        image = next((m for m in ("image/png", "image/jpeg") if m in data), None)
        if image is not None:
            content = "".join(data[image]) if isinstance(data[image], list) else str(data[image])
            yield {"role": "computer", "type": "image", "format": f"base64.{image[6:]}",
                   "content": "".join(content.split())}  # fmt: skip
            continue
        text.append(_output_text(output))
    yield {"role": "computer", "type": "console", "format": "output", "content": "".join(text)}


def _code_messages(cell: Any) -> Iterator[Message]:
    meta = (cell.get("metadata") or {}).get("interpreter") or {}
    language, code = _split_magic(_source(cell))
    language = str(meta.get("language") or language)
    if not code.strip():
        return
    yield {"role": "assistant", "type": "code", "format": language, "content": code}
    if meta.get("not_run"):
        reason = str(meta["not_run"])
        yield {"role": "computer", "type": "console", "format": "output", "content": reason}
        return
    messages = list(_output_messages(cell.get("outputs") or []))
    images = [m for m in messages if m["type"] == "image"]
    console = [m for m in messages if m["type"] == "console"]
    yield from console  # the output first (what the model is told), then any images
    yield from images


def _markdown_messages(cell: Any) -> Iterator[Message]:
    meta = (cell.get("metadata") or {}).get("interpreter") or {}
    role = str(meta.get("role") or "user")
    if meta.get("type") == "image":
        for bundle in (cell.get("attachments") or {}).values():
            for mime in ("image/png", "image/jpeg"):
                if mime in bundle:
                    content = str(bundle[mime])
                    yield {"role": "user", "type": "image", "format": f"base64.{mime[6:]}",
                           "content": content}  # fmt: skip
        return
    text = _source(cell)
    if meta.get("type") == "file":
        yield {"role": "user", "type": "file", "format": "path", "content": text.strip("`")}
        return
    if role == "user" and meta:
        text = _unquote(text)
    if text.strip():
        yield {"role": "assistant" if role == "assistant" else "user", "type": "message",
               "content": text}  # fmt: skip


def notebook_messages(notebook: Any) -> list[Message]:
    """The conversation a notebook holds (see the module docstring)."""
    messages: list[Message] = []
    for cell in notebook.get("cells") or []:
        kind = cell.get("cell_type")
        if kind == "code":
            messages.extend(_code_messages(cell))
        elif kind == "markdown":
            messages.extend(_markdown_messages(cell))
    return messages


# -- the live file ------------------------------------------------------------------------


class LiveNotebook:
    """The notebook at ``path``, rewritten from the conversation by ``write``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser().absolute()
        self.base_cells: list[Any] = []
        self.base_messages: list[Message] = []
        self.metadata: dict[str, Any] = dict(NOTEBOOK_METADATA)

    def open(self) -> list[Message]:
        """Read the notebook if it exists; the messages its cells hold (else none)."""
        if not self.path.exists():
            return []
        notebook = read_notebook(self.path)
        self.base_cells = list(notebook.cells)
        self.metadata = {**dict(NOTEBOOK_METADATA), **dict(notebook.metadata)}
        self.base_messages = notebook_messages(notebook)
        return [dict(m) for m in self.base_messages]  # type: ignore[misc]

    def notebook(self, messages: Sequence[Message], runs: Sequence[KernelRun]) -> Any:
        """The notebook for ``messages``: the cells read at ``open``, then the cells of
        the messages after those (all of them once the conversation no longer starts with
        the notebook's: after a reset, say)."""
        nbformat = nbformat_module()
        known = len(self.base_messages)
        start = known if list(messages[:known]) == self.base_messages else 0
        cells = _unique_ids(self.base_cells, notebook_cells(messages, runs, start))
        notebook = nbformat.from_dict(
            {
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": self.metadata,
                "cells": [*self.base_cells, *cells],
            }  # fmt: skip
        )
        nbformat.validate(notebook)
        return notebook

    def write(self, messages: Sequence[Message], runs: Sequence[KernelRun]) -> Path:
        from .notebook import write_notebook

        return write_notebook(self.path, self.notebook(messages, runs))


def _unique_ids(base: Sequence[Any], cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """New cells whose ids differ from the kept cells' ids."""
    taken = {str(cell.get("id")) for cell in base}
    for cell in cells:
        while cell["id"] in taken:
            cell["id"] = f"{cell['id']}-n"
        taken.add(cell["id"])
    return cells
