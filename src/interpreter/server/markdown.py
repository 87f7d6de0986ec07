"""Renders a reply's LMC chunks as Markdown text, piece by piece (for the OpenAI route).

Assistant text passes through; code becomes a fenced block tagged with its language;
console output becomes an untagged fenced block; images and rich output are named.
"""

from __future__ import annotations

from ..lmc import Chunk

APPROVAL_QUESTION = "\n\nDo you want to run this code?"


class MarkdownRenderer:
    """Feed chunks in order; each call returns the Markdown they add."""

    def __init__(self) -> None:
        self.output_open = False

    def feed(self, chunk: Chunk) -> str:
        kind = chunk.get("type")
        if kind == "message":
            return str(chunk.get("content", "")) if chunk.get("role") != "user" else ""
        if kind == "code" and chunk.get("role") == "assistant":
            return self._code(chunk)
        if kind == "console":
            return self._console(chunk)
        if kind == "confirmation":
            return APPROVAL_QUESTION
        if kind == "image" and chunk.get("content"):
            return "\n\n[image]\n\n"
        if kind == "code" and chunk.get("content"):
            return f"\n\n[{chunk.get('format', 'rich')} output]\n\n"
        return ""

    def _code(self, chunk: Chunk) -> str:
        if chunk.get("start"):
            return f"\n\n```{chunk.get('format') or ''}\n"
        if chunk.get("end"):
            return "\n```\n\n"
        return str(chunk.get("content", ""))

    def _console(self, chunk: Chunk) -> str:
        if chunk.get("end"):
            if not self.output_open:
                return ""
            self.output_open = False
            return "\n```\n\n"
        if chunk.get("format") != "output" or not chunk.get("content"):
            return ""
        text = str(chunk["content"])
        if not self.output_open:
            self.output_open = True
            return "\n```\n" + text
        return text
