"""A conversation as a Jupyter notebook (nbformat 4, validated).

User and assistant text become Markdown cells (the user's as a quote); code becomes code
cells. A Python cell's outputs and execution count are the kernel's own messages of that
run (``store/kernel_log.py``), turned into outputs by ``nbformat.v4.output_from_msg``:
streams, rich display data (images, HTML, tables), errors with their tracebacks.
Conversations without kept kernel messages (older ones, Open Interpreter 0.4.3 files)
export from their LMC messages: console output as a stream, images and HTML as display data.

Other languages become cells that run again in a Python kernel where IPython can run
them: a cell magic (``%%bash`` for shell, ``%%script node`` for JavaScript, ``%%ruby``,
``%%script Rscript -`` for R, ``%%html``, ...), so ``jupyter nbconvert --execute`` and
"Run all" work with the notebook's own kernel, nothing to install; each such cell starts
a fresh process (a shell's working directory does not carry over between cells).
Languages IPython cannot run (Java, React) are code cells tagged ``skip-execution``
(nbconvert skips them). Every code cell says its language in
``metadata.interpreter.language``. Code that was not run (declined, refused) is tagged
``skip-execution`` too, with the reason as its output; a cell whose run raised is tagged
``raises-exception``, so executing the notebook goes on past it as the conversation did.

nbformat is imported when a notebook is made, never with the package.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..lmc import Message
from ..store.kernel_log import KernelRun
from .prompts import DECLINED, EMPTY_CODE
from .safety import HASH_MISMATCH

__all__ = [
    "NOTEBOOK_HINT",
    "NotebookUnavailable",
    "build_notebook",
    "notebook_text",
    "write_notebook",
]

NOTEBOOK_HINT = "notebooks need nbformat: pip install nbformat"
#: The cell magic that runs a language in a Python kernel (IPython's script magics; a
#: failing program does not stop the notebook, as it did not stop the conversation).
CELL_MAGIC = {
    "shell": "%%bash --no-raise-error",
    "javascript": "%%script --no-raise-error node",
    "ruby": "%%ruby --no-raise-error",
    "r": "%%script --no-raise-error Rscript -",
    "powershell": "%%script --no-raise-error pwsh -NoProfile -Command -",
    "applescript": "%%script --no-raise-error osascript",
    "html": "%%html",
}
SKIP, RAISES = "skip-execution", "raises-exception"
_NOT_RUN = (
    re.compile(re.escape(DECLINED) + r"\s*$"),
    re.compile(re.escape(HASH_MISMATCH) + r"\s*$"),
    re.compile(re.escape(EMPTY_CODE) + r"\s*$"),
    re.compile(r"Code was not run: safe_mode is "),
    re.compile(r"Error: language '.*' is not supported; use one of: "),
)
_IMAGE_FORMATS = {
    "base64.png": "image/png",
    "base64.jpeg": "image/jpeg",
    "base64.jpg": "image/jpeg",
}
_RICH_CODE = {"html": "text/html", "javascript": "application/javascript"}


class NotebookUnavailable(RuntimeError):
    """nbformat is not installed; ``str()`` is the one-line install hint."""


def nbformat_module() -> Any:
    try:
        import nbformat
    except ImportError:
        raise NotebookUnavailable(NOTEBOOK_HINT) from None
    return nbformat


def canonical_language(name: str) -> str:
    """``bash`` -> ``shell``, ``py`` -> ``python``: the name of the language's class."""
    from ..execution.computer import DEFAULT_LANGUAGES, find_language

    cls = find_language(name or "python", DEFAULT_LANGUAGES)
    return cls.name.lower() if cls is not None else (name or "python").lower()


# -- matching kernel runs to code messages ----------------------------------------------


class _Runs:
    """Hands out each kernel run once: the run recorded for a message (by index and code),
    else the next unused run with the same code."""

    def __init__(self, runs: Sequence[KernelRun]) -> None:
        self.runs = list(runs)
        self.used = [False] * len(self.runs)
        self.after = 0

    def take(self, index: int, code: str) -> KernelRun | None:
        for i, run in enumerate(self.runs):
            if not self.used[i] and run.message == index and run.code == code:
                return self._use(i)
        for i in range(self.after, len(self.runs)):
            if not self.used[i] and self.runs[i].code == code:
                return self._use(i)
        return None

    def _use(self, i: int) -> KernelRun:
        self.used[i] = True
        self.after = max(self.after, i + 1)
        return self.runs[i]


# -- outputs ------------------------------------------------------------------------------


def _lines(text: str) -> str:
    return text if text.endswith("\n") or not text else text + "\n"


def _stream(text: str, name: str = "stdout") -> dict[str, Any]:
    return {"output_type": "stream", "name": name, "text": text}


def _append(outputs: list[Any], output: Any) -> None:
    """Add an output; a stream right after one of the same name is joined to it."""
    last = outputs[-1] if outputs else None
    if (
        output["output_type"] == "stream"
        and last is not None
        and last["output_type"] == "stream"
        and last["name"] == output["name"]
    ):
        last["text"] = str(last["text"]) + str(output["text"])
        return
    outputs.append(output)


def _message_content(kind: str, content: dict[str, Any]) -> dict[str, Any]:
    """The content keys ``output_from_msg`` reads, with defaults for missing ones."""
    if kind == "stream":
        return {"name": content.get("name", "stdout"), "text": str(content.get("text", ""))}
    if kind == "error":
        frames = [str(f) for f in content.get("traceback") or []]
        return {"ename": str(content.get("ename", "")), "evalue": str(content.get("evalue", "")),
                "traceback": frames}  # fmt: skip
    out: dict[str, Any] = {"data": dict(content.get("data") or {})}
    out["metadata"] = dict(content.get("metadata") or {})
    if kind == "execute_result":
        out["execution_count"] = content.get("execution_count")
    return out


def run_outputs(run: KernelRun) -> list[Any]:
    """The notebook outputs of a kernel run, as Jupyter would have shown them."""
    nbformat = nbformat_module()
    outputs: list[Any] = []
    displays: dict[str, list[Any]] = {}
    clear_next = False
    for msg in run.messages:
        kind, content = str(msg.get("msg_type")), dict(msg.get("content") or {})
        if kind == "clear_output":
            clear_next = bool(content.get("wait"))
            if not clear_next:
                outputs.clear()
            continue
        if kind == "update_display_data":
            _update_display(displays, content)
            continue
        if kind not in ("stream", "display_data", "execute_result", "error"):
            continue
        if kind == "stream" and not content.get("text"):
            continue
        output = nbformat.v4.output_from_msg(
            {"header": {"msg_type": kind}, "content": _message_content(kind, content)}
        )
        if clear_next:
            outputs.clear()
            clear_next = False
        display_id = (content.get("transient") or {}).get("display_id")
        if display_id and kind in ("display_data", "execute_result"):
            displays.setdefault(str(display_id), []).append(output)
        _append(outputs, output)
    outputs.extend(_run_notes(run))
    return outputs


def _update_display(displays: dict[str, list[Any]], content: dict[str, Any]) -> None:
    display_id = (content.get("transient") or {}).get("display_id")
    for output in displays.get(str(display_id), []):
        output["data"] = dict(content.get("data") or {})
        output["metadata"] = dict(content.get("metadata") or {})


def _run_notes(run: KernelRun) -> Iterator[dict[str, Any]]:
    if run.dropped:
        yield _stream(f"... {run.dropped} more output message(s) were not kept\n", "stderr")
    if run.ended in ("dead", "restarting", "lost"):
        yield _stream(f"(the kernel stopped during this run: {run.ended})\n", "stderr")


def lmc_outputs(messages: Sequence[Message]) -> list[Any]:
    """Outputs made from the computer's LMC messages after a code message."""
    outputs: list[Any] = []
    for message in messages:
        kind, fmt, content = message["type"], message.get("format"), message.get("content")
        if kind == "console":
            if fmt in (None, "output") and content:
                _append(outputs, _stream(str(content)))
        elif kind == "image" and fmt in _IMAGE_FORMATS:
            data = {_IMAGE_FORMATS[str(fmt)]: str(content), "text/plain": "<image>"}
            outputs.append({"output_type": "display_data", "data": data, "metadata": {}})
        elif kind == "code" and fmt in _RICH_CODE:
            data = {_RICH_CODE[str(fmt)]: str(content)}
            outputs.append({"output_type": "display_data", "data": data, "metadata": {}})
        elif content:
            _append(outputs, _stream(_lines(str(content))))
    return outputs


_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b", re.M)


def _looks_raised(output: dict[str, Any]) -> bool:
    """A stream that shows a Python exception (conversations without kernel messages)."""
    return output["output_type"] == "stream" and bool(_TRACEBACK.search(str(output["text"])))


def _not_run_reason(messages: Sequence[Message]) -> str | None:
    """Why the code was not run, when the first output after it is one of our refusals."""
    for message in messages:
        if message["type"] == "console" and message.get("format") in (None, "output"):
            text = str(message.get("content", ""))
            return text if any(p.match(text) for p in _NOT_RUN) else None
    return None


# -- cells --------------------------------------------------------------------------------


@dataclass
class _CodeBlock:
    """A code message and the computer's messages after it."""

    index: int
    language: str
    code: str
    after: list[Message] = field(default_factory=list)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def _markdown_cell(message: Message, index: int) -> dict[str, Any]:
    role, content = message["role"], str(message.get("content", ""))
    source = _quote(content) if role == "user" else content
    meta = {"interpreter": {"role": role}}
    return {"cell_type": "markdown", "id": f"m{index}", "metadata": meta, "source": source}


def _attachment_cell(message: Message, index: int) -> dict[str, Any]:
    """A user's image (as a Markdown attachment) or file (its path)."""
    fmt, content = str(message.get("format") or ""), str(message.get("content", ""))
    meta = {"interpreter": {"role": message["role"], "type": message["type"]}}
    cell: dict[str, Any] = {"cell_type": "markdown", "id": f"m{index}", "metadata": meta}
    if message["type"] == "image" and fmt in _IMAGE_FORMATS:
        name = f"image{index}.{fmt.rsplit('.', 1)[-1]}"
        cell["attachments"] = {name: {_IMAGE_FORMATS[fmt]: content}}
        cell["source"] = f"![{name}](attachment:{name})"
    else:
        cell["source"] = f"`{content}`" if content else f"({message['type']})"
    return cell


def _code_cell(block: _CodeBlock, runs: _Runs) -> dict[str, Any]:
    meta: dict[str, Any] = {"interpreter": {"language": block.language}}
    magic = CELL_MAGIC.get(block.language)
    source = f"{magic}\n{block.code}" if magic else block.code
    run = runs.take(block.index, block.code) if block.language == "python" else None
    outputs = run_outputs(run) if run is not None else lmc_outputs(block.after)
    reason = None if run is not None else _not_run_reason(block.after)
    if reason is not None:
        meta["interpreter"]["not_run"] = reason.strip()
    tags = _tags(block.language, magic, reason, outputs)
    if tags:
        meta["tags"] = tags
    count = run.execution_count if run is not None else None
    return {"cell_type": "code", "id": f"m{block.index}", "metadata": meta, "source": source,
            "execution_count": count, "outputs": outputs}  # fmt: skip


def _tags(language: str, magic: str | None, reason: str | None, outputs: list[Any]) -> list[str]:
    """``skip-execution`` for code that did not run or cannot run in a Python kernel;
    ``raises-exception`` for a run that raised."""
    if reason is not None or (magic is None and language != "python"):
        return [SKIP]
    if any(o["output_type"] == "error" for o in outputs):
        return [RAISES]
    if language == "python" and any(_looks_raised(o) for o in outputs):
        return [RAISES]
    return []


def _cells(messages: Sequence[Message], start: int) -> Iterator[_CodeBlock | dict[str, Any]]:
    block: _CodeBlock | None = None
    for index in range(start, len(messages)):
        message = messages[index]
        role, kind = message["role"], message["type"]
        if role == "computer" and block is not None:
            block.after.append(message)
            continue
        if block is not None:
            yield block
            block = None
        if role == "assistant" and kind == "code":
            language = canonical_language(str(message.get("format") or "python"))
            block = _CodeBlock(index, language, str(message.get("content", "")))
        elif kind == "message" and role in ("user", "assistant"):
            yield _markdown_cell(message, index)
        elif role == "user" and kind in ("image", "file"):
            yield _attachment_cell(message, index)
        elif role == "computer":
            yield {"cell_type": "markdown", "id": f"m{index}", "metadata": {},
                   "source": f"```\n{message.get('content', '')}\n```"}  # fmt: skip
    if block is not None:
        yield block


def notebook_cells(
    messages: Sequence[Message], runs: Sequence[KernelRun], start: int = 0
) -> list[dict[str, Any]]:
    """The cells of ``messages[start:]`` (indices stay those of ``messages``)."""
    matcher = _Runs(runs)
    cells = []
    for item in _cells(messages, start):
        cells.append(_code_cell(item, matcher) if isinstance(item, _CodeBlock) else item)
    return cells


NOTEBOOK_METADATA: dict[str, Any] = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}


def build_notebook(
    messages: Sequence[Message],
    runs: Sequence[KernelRun] = (),
    *,
    conversation: str | None = None,
) -> Any:
    """The notebook (an nbformat ``NotebookNode``, validated) of a conversation."""
    nbformat = nbformat_module()
    metadata = {**NOTEBOOK_METADATA, "interpreter": {"conversation": conversation}}
    cells = notebook_cells(messages, runs)
    notebook = nbformat.from_dict(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": cells}
    )
    nbformat.validate(notebook)
    return notebook


def notebook_text(notebook: Any) -> str:
    """The ``.ipynb`` text of a notebook (validated)."""
    nbformat = nbformat_module()
    nbformat.validate(notebook)
    return str(nbformat.writes(notebook, version=4)) + "\n"


def write_notebook(path: str | os.PathLike[str], notebook: Any) -> Path:
    """Write ``notebook`` to ``path`` atomically (a reader, JupyterLab say, sees the old
    file or the new one); a new file is 0644, an existing one keeps its mode."""
    from ..store.atomic import atomic_write_text

    target = Path(path).expanduser()
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        mode = 0o644
    atomic_write_text(target, notebook_text(notebook), mode)
    return target
