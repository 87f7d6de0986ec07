"""HTML: the page is saved to a file and shown (as an ``html`` code chunk and its path)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import ClassVar

from ...lmc import Chunk
from ..base import Language
from .output import active_line, output


def save_page(html: str) -> str:
    """Write the page to a new file in the temp folder (kept) and return its path."""
    folder = os.path.join(tempfile.gettempdir(), "interpreter-html")
    os.makedirs(folder, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix="page-", suffix=".html", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(html)
    return path


def page_chunks(html: str, what: str) -> Iterator[Chunk]:
    """The chunks that show a saved page: the HTML itself and a line with its path."""
    path = save_page(html)
    yield {"type": "code", "format": "html", "content": html}
    yield output(f"{what} saved to {path} (open it in a browser to view it).\n")
    yield active_line(None)


class HTML(Language):
    """HTML pages: nothing runs here; the page is saved for the user to open."""

    name: ClassVar[str] = "HTML"
    aliases: ClassVar[tuple[str, ...]] = ("htm",)
    file_extension: ClassVar[str] = "html"

    def run(self, code: str) -> Iterator[Chunk]:
        yield from page_chunks(code, "HTML")

    def interrupt(self) -> None:
        """Nothing runs."""

    def terminate(self) -> None:
        """Nothing runs."""
