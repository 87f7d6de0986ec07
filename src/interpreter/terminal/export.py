"""Export a conversation as Markdown, or (from its messages alone) as a notebook."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["to_notebook", "to_markdown"]

Message = Mapping[str, Any]


def to_notebook(messages: Sequence[Message]) -> str:
    """The conversation as an ``.ipynb`` document, from its LMC messages alone (see
    ``core/notebook.py``; ``interpreter.export_notebook`` adds the kernel's own outputs)."""
    from ..core.notebook import build_notebook, notebook_text

    return notebook_text(build_notebook(list(messages)))  # type: ignore[arg-type]


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
