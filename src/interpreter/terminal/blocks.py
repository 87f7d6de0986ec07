"""The blocks of a streamed reply as terminal text: a message, a code block, its output.

Each block takes its streamed content, hands back the finished parts as text to print
once (``feed`` and ``finish``), and draws its unfinished end for the live region
(``preview``). Messages are Markdown (``markdown.py``), cut into sections as they arrive
(``streams.SectionSplitter``); code and output are rich panels. Everything untrusted goes
through ``sanitize`` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .inline import wrap_text
from .markdown import render_markdown
from .sanitize import escape_controls, escape_output
from .streams import CrJoiner, SectionSplitter, Tail
from .theme import Theme

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

__all__ = [
    "Block",
    "CodeBlock",
    "ConsoleBlock",
    "MessageBlock",
    "Painter",
    "code_panel",
    "output_panel",
]

CODE_THEME = "monokai"
PREVIEW_CHARS = 4000


class Painter:
    """Turns Markdown and rich renderables into lines for one console."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.theme = Theme(console)

    @property
    def width(self) -> int:
        return max(int(self.console.width), 8)

    def markdown(self, text: str, width: int | None = None) -> list[str]:
        return render_markdown(text, width or self.width, self.theme)

    def rich(self, renderable: RenderableType, width: int | None = None) -> list[str]:
        with self.console.capture() as capture:
            self.console.print(renderable, width=width or self.width)
        return capture.get().rstrip("\n").split("\n")


def _lexer(language: str) -> str:
    return {"shell": "bash", "sh": "bash", "zsh": "bash", "py": "python"}.get(language, language)


def _text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


class Block:
    """One framed block being streamed (message, code or console)."""

    kind = ""

    def __init__(self, painter: Painter) -> None:
        self.painter = painter

    def feed(self, chunk: Mapping[str, Any]) -> list[str]:
        """Take a content chunk; the finished text to print (each piece ends with a newline)."""
        return []

    def finish(self) -> list[str]:
        return []

    def preview(self, width: int, height: int) -> list[str]:
        return []


class MessageBlock(Block):
    kind = "message"

    def __init__(self, painter: Painter, role: str) -> None:
        super().__init__(painter)
        self.role = role
        self.splitter = SectionSplitter()
        self.cr = CrJoiner()
        self.printed = 0

    def feed(self, chunk: Mapping[str, Any]) -> list[str]:
        text = escape_controls(self.cr.feed(str(chunk["content"])))
        return [self._section(s) for s in self.splitter.feed(text) if s.strip()]

    def finish(self) -> list[str]:
        rest = self.cr.flush()
        if rest:
            self.splitter.feed(escape_controls(rest))
        last = self.splitter.finish()
        return [self._section(last)] if last.strip() else []

    def preview(self, width: int, height: int) -> list[str]:
        text = self.splitter.current(max(height, 3), PREVIEW_CHARS)
        if not text.strip():
            return []
        lines = self._lines(text, width)
        if self.printed:
            lines = ["", *lines]
        return lines[-height:]

    def _section(self, text: str) -> str:
        lines = self._lines(text, self.painter.width)
        if self.printed:
            lines = ["", *lines]
        self.printed += 1
        return _text(lines)

    def _lines(self, text: str, width: int) -> list[str]:
        if self.role != "user":
            return self.painter.markdown(text, width)
        theme = self.painter.theme
        bold = theme.sgr(("bold",))
        rows = [row for line in text.split("\n") for row in wrap_text(line, width - 2)]
        return [bold + "> " + row + theme.reset for row in rows]


class CodeBlock(Block):
    kind = "code"

    def __init__(self, painter: Painter, language: str) -> None:
        super().__init__(painter)
        self.language = language or "python"
        self.code = Tail()
        self.cr = CrJoiner()

    def feed(self, chunk: Mapping[str, Any]) -> list[str]:
        self.code.append(self.cr.feed(str(chunk["content"])))
        return []

    def finish(self) -> list[str]:
        self.code.append(self.cr.flush())
        return [_text(self.painter.rich(code_panel(self.language, self.code.text())))]

    def preview(self, width: int, height: int) -> list[str]:
        text = self.code.tail(PREVIEW_CHARS)
        lines = text.split("\n")[-max(height - 2, 3) :]
        panel = self.painter.rich(code_panel(self.language, "\n".join(lines)), width)
        return panel[-height:]


class ConsoleBlock(Block):
    kind = "console"

    def __init__(self, painter: Painter, code_block: CodeBlock | None, highlight: bool) -> None:
        super().__init__(painter)
        self.code_lines = code_block.code.text().split("\n") if code_block else []
        self.language = code_block.language if code_block else "text"
        self.highlight = highlight
        self.active: int | None = None
        self.output = Tail()
        self.cr = CrJoiner()

    def feed(self, chunk: Mapping[str, Any]) -> list[str]:
        if chunk.get("format") == "active_line":
            content = chunk.get("content")
            self.active = content if isinstance(content, int) else None
        else:
            self.output.append(self.cr.feed(str(chunk["content"])))
        return []

    def finish(self) -> list[str]:
        self.output.append(self.cr.flush())
        text = self.output.text()
        return [_text(self.painter.rich(output_panel(text)))] if text.strip() else []

    def preview(self, width: int, height: int) -> list[str]:
        from rich.console import Group

        parts: list[RenderableType] = []
        window = self._active_window()
        if window is not None:
            parts.append(window)
        lines = self.output.tail(PREVIEW_CHARS).split("\n")
        tail = "\n".join(lines[-max(height - 10, 3) :])
        if tail.strip():
            parts.append(output_panel(tail))
        return self.painter.rich(Group(*parts), width)[-height:] if parts else []

    def _active_window(self) -> RenderableType | None:
        from rich.syntax import Syntax

        if not self.highlight or self.active is None or not self.code_lines:
            return None
        first = max(self.active - 3, 1)
        window = self.code_lines[first - 1 : self.active + 3]
        code = escape_controls("\n".join(window))
        return Syntax(
            code,
            _lexer(self.language),
            theme=CODE_THEME,
            line_numbers=True,
            start_line=first,
            highlight_lines={self.active},
            word_wrap=True,
        )


def code_panel(language: str, code: str) -> RenderableType:
    """The code exactly as it will run (control characters shown escaped)."""
    from rich.panel import Panel
    from rich.syntax import Syntax

    syntax = Syntax(escape_controls(code), _lexer(language), theme=CODE_THEME, word_wrap=True)
    return Panel(syntax, title=escape_controls(language), title_align="left", border_style="dim")


def output_panel(text: str) -> RenderableType:
    """Program output as plain text (never markup, control characters escaped)."""
    from rich.panel import Panel
    from rich.text import Text

    body = Text(escape_output(text).rstrip("\n"))
    return Panel(body, title="output", title_align="left", border_style="bright_black")
