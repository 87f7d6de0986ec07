"""Export a conversation as a Jupyter notebook (nbformat 4 JSON) or as Markdown."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["to_notebook", "to_markdown"]

Message = Mapping[str, Any]

_CELL_MAGIC = {"shell": "%%bash", "bash": "%%bash", "sh": "%%bash", "javascript": "%%javascript"}
_CELL_MAGIC.update({"html": "%%html", "ruby": "%%ruby", "r": "%%R"})


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _code_cell(language: str, code: str) -> dict[str, Any]:
    magic = _CELL_MAGIC.get(language.lower())
    source = f"{magic}\n{code}" if magic else code
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": _lines(source),
    }


def _markdown_cell(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": _lines(text)}


def to_notebook(messages: Sequence[Message]) -> str:
    """The conversation as an ``.ipynb`` document: messages become Markdown cells, code
    becomes code cells and program output is attached to the code that printed it."""
    cells: list[dict[str, Any]] = []
    last_code: dict[str, Any] | None = None
    for message in messages:
        kind, content = message.get("type"), message.get("content")
        if kind == "code" and message.get("role") == "assistant":
            last_code = _code_cell(str(message.get("format") or "python"), str(content))
            cells.append(last_code)
        elif kind == "console" and message.get("format") == "output" and content:
            output = {"output_type": "stream", "name": "stdout", "text": _lines(str(content))}
            if last_code is not None:
                last_code["outputs"].append(output)
            else:
                cells.append(_markdown_cell(f"```\n{content}\n```"))
        elif kind == "message":
            prefix = "> " if message.get("role") == "user" else ""
            cells.append(_markdown_cell(prefix + str(content)))
            last_code = None
    notebook = {
        "cells": cells,
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number}"
    return json.dumps(notebook, indent=1) + "\n"


def to_markdown(messages: Sequence[Message]) -> str:
    """The conversation as a Markdown document."""
    parts: list[str] = []
    role_shown: str | None = None
    for message in messages:
        role, kind = str(message.get("role")), message.get("type")
        content = message.get("content")
        if role != role_shown and role in ("user", "assistant"):
            parts.append(f"## {role.capitalize()}")
            role_shown = role
        if kind == "message":
            parts.append(str(content))
        elif kind == "code":
            parts.append(f"```{message.get('format') or ''}\n{content}\n```")
        elif kind == "console" and message.get("format") == "output" and content:
            parts.append(f"```\n{content}\n```")
    return "\n\n".join(parts) + "\n"
