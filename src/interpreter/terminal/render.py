"""Render the LMC chunk stream in the terminal.

Finished parts (Markdown sections, code blocks, program output) are printed once; only
the unfinished end of the current block is redrawn, in a small live region refreshed at
most a few times a second. Rendering time is therefore linear in the length of a reply.
Every piece of untrusted text goes through :mod:`.sanitize` and into rich ``Text`` or
``Markdown`` objects, never into markup strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .media import describe
from .sanitize import escape_controls, escape_output
from .streams import CrJoiner, SectionSplitter, Tail

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

__all__ = ["ChunkRenderer", "RichRenderer", "PlainRenderer", "make_console"]

CODE_THEME = "monokai"
PREVIEW_CHARS = 4000


class ChunkRenderer(Protocol):
    """Anything that shows a chunk stream."""

    def feed(self, chunk: Mapping[str, Any]) -> None: ...

    def pause(self) -> None: ...

    def close(self) -> None: ...


def make_console(*, plain: bool = False, **kwargs: Any) -> Console:
    """A rich Console that never interprets markup, emoji or highlighting in strings."""
    from rich.console import Console

    if plain:
        kwargs.setdefault("no_color", True)
    return Console(markup=False, emoji=False, highlight=False, **kwargs)


def _lexer(language: str) -> str:
    return {"shell": "bash", "sh": "bash", "zsh": "bash", "py": "python"}.get(language, language)


class _Block:
    """One framed block being streamed (message, code or console)."""

    kind = ""

    def feed(self, content: Any) -> list[RenderableType]:
        return []

    def finish(self) -> list[RenderableType]:
        return []

    def preview(self, height: int) -> RenderableType | None:
        return None


class _MessageBlock(_Block):
    kind = "message"

    def __init__(self, role: str) -> None:
        self.role = role
        self.splitter = SectionSplitter()
        self.cr = CrJoiner()
        self.printed = 0

    def feed(self, content: Any) -> list[RenderableType]:
        text = escape_controls(self.cr.feed(str(content)))
        return [self._section(s) for s in self.splitter.feed(text)]

    def finish(self) -> list[RenderableType]:
        rest = self.cr.flush()
        if rest:
            self.splitter.feed(escape_controls(rest))
        last = self.splitter.finish()
        return [self._section(last)] if last.strip() else []

    def preview(self, height: int) -> RenderableType | None:
        text = self.splitter.current(max(height - 2, 3), PREVIEW_CHARS)
        return self._markdown(text) if text.strip() else None

    def _section(self, text: str) -> RenderableType:
        from rich.console import Group

        self.printed += 1
        if self.printed == 1 or _starts_with_spacing(text):
            return self._markdown(text)
        return Group("", self._markdown(text))

    def _markdown(self, text: str) -> RenderableType:
        from rich.markdown import Markdown
        from rich.text import Text

        if self.role == "user":
            return Text("> " + text, style="bold")
        return Markdown(text, code_theme=CODE_THEME, hyperlinks=False)


def _starts_with_spacing(text: str) -> bool:
    """Whether rich's Markdown already puts a blank line before this section (lists,
    tables, code blocks)."""
    head = text.lstrip()[:3]
    return head[:1] in ("-", "*", "+", "|", "`", "~") or (head[:1].isdigit() and "." in head)


class _CodeBlock(_Block):
    kind = "code"

    def __init__(self, language: str) -> None:
        self.language = language or "python"
        self.code = Tail()
        self.cr = CrJoiner()

    def feed(self, content: Any) -> list[RenderableType]:
        self.code.append(self.cr.feed(str(content)))
        return []

    def finish(self) -> list[RenderableType]:
        self.code.append(self.cr.flush())
        return [code_panel(self.language, self.code.text())]

    def preview(self, height: int) -> RenderableType | None:
        text = self.code.tail(PREVIEW_CHARS)
        lines = text.split("\n")[-max(height - 3, 3) :]
        return code_panel(self.language, "\n".join(lines))


class _ConsoleBlock(_Block):
    kind = "console"

    def __init__(self, code_block: _CodeBlock | None, highlight: bool) -> None:
        self.code_lines = code_block.code.text().split("\n") if code_block else []
        self.language = code_block.language if code_block else "text"
        self.highlight = highlight
        self.active: int | None = None
        self.output = Tail()
        self.cr = CrJoiner()

    def feed(self, content: Any) -> list[RenderableType]:
        return []

    def feed_chunk(self, chunk: Mapping[str, Any]) -> None:
        if chunk.get("format") == "active_line":
            content = chunk.get("content")
            self.active = content if isinstance(content, int) else None
        elif "content" in chunk:
            self.output.append(self.cr.feed(str(chunk["content"])))

    def finish(self) -> list[RenderableType]:
        self.output.append(self.cr.flush())
        text = self.output.text()
        return [output_panel(text)] if text.strip() else []

    def preview(self, height: int) -> RenderableType | None:
        from rich.console import Group

        parts: list[RenderableType] = []
        window = self._active_window()
        if window is not None:
            parts.append(window)
        lines = self.output.tail(PREVIEW_CHARS).split("\n")
        tail = "\n".join(lines[-max(height - 12, 3) :])
        if tail.strip():
            parts.append(output_panel(tail))
        return Group(*parts) if parts else None

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


class RichRenderer:
    """Renders chunks with rich: Markdown, highlighted code and a small live preview."""

    def __init__(
        self, console: Console, *, highlight_active_line: bool = True, refresh: float = 0.08
    ) -> None:
        self.console = console
        self.highlight = highlight_active_line
        self.refresh_interval = refresh
        self.block: _Block | None = None
        self.last_code: _CodeBlock | None = None
        self._live: Live | None = None

    def feed(self, chunk: Mapping[str, Any]) -> None:
        """Show one chunk (framing flags start/end included)."""
        kind = chunk.get("type")
        if kind == "confirmation":
            self.pause()
            return
        if kind not in ("message", "code", "console"):
            self._other(chunk)
            return
        if chunk.get("start") or self.block is None or self.block.kind != kind:
            self._finish_block()
            self.block = self._new_block(chunk)
        if chunk.get("end"):
            self._finish_block()
            return
        if "content" in chunk:
            self._content(chunk)
        self._tick()

    def pause(self) -> None:
        """Finish what is on screen and stop the live region (before asking something)."""
        self._finish_block()
        if self._live is not None:
            self._live.stop()
            self._live = None

    def close(self) -> None:
        self.pause()
        self.last_code = None

    def _new_block(self, chunk: Mapping[str, Any]) -> _Block:
        kind = chunk.get("type")
        if kind == "code":
            self.last_code = _CodeBlock(str(chunk.get("format") or "python"))
            return self.last_code
        if kind == "console":
            return _ConsoleBlock(self.last_code, self.highlight)
        return _MessageBlock(str(chunk.get("role", "assistant")))

    def _content(self, chunk: Mapping[str, Any]) -> None:
        assert self.block is not None
        if isinstance(self.block, _ConsoleBlock):
            self.block.feed_chunk(chunk)
            return
        for renderable in self.block.feed(chunk["content"]):
            self.console.print(renderable)

    def _finish_block(self) -> None:
        block, self.block = self.block, None
        if block is None:
            return
        for renderable in block.finish():
            self.console.print(renderable)
        if isinstance(block, _ConsoleBlock):
            self.last_code = None

    def _other(self, chunk: Mapping[str, Any]) -> None:
        from rich.text import Text

        self._finish_block()
        if "content" in chunk and not chunk.get("start") and not chunk.get("end"):
            label = escape_controls(describe(chunk))
            self.console.print(Text(label, style="dim"))

    def _preview(self) -> RenderableType:
        from rich.text import Text

        block = self.block
        height = max(self.console.size.height // 2, 6)
        shown = block.preview(height) if block is not None else None
        return shown if shown is not None else Text("")

    def _tick(self) -> None:
        """Start the live region; it redraws itself ``1 / refresh`` times a second
        (``refresh=0``: after every chunk, for tests)."""
        if not self.console.is_terminal or self.block is None:
            return
        if self._live is None:
            from rich.live import Live

            auto = self.refresh_interval > 0
            self._live = Live(
                console=self.console,
                get_renderable=self._preview,
                auto_refresh=auto,
                refresh_per_second=1 / self.refresh_interval if auto else 4,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
                vertical_overflow="crop",
            )
            self._live.start()
        if self.refresh_interval <= 0:
            self._live.refresh()


class PlainRenderer:
    """Writes the stream as plain text as it arrives (for --plain and pipes)."""

    def __init__(self, write: Any) -> None:
        self.write = write
        self.kind: str | None = None

    def feed(self, chunk: Mapping[str, Any]) -> None:
        kind = chunk.get("type")
        if chunk.get("start"):
            self._start(chunk)
        elif chunk.get("end"):
            self._end(kind)
        elif kind in ("message", "code"):
            self.write(escape_controls(str(chunk.get("content", ""))))
        elif kind == "console" and chunk.get("format") == "output":
            self.write(escape_output(str(chunk.get("content", ""))))
        elif kind == "image" and "content" in chunk:
            self.write(escape_controls(describe(chunk)) + "\n")

    def _start(self, chunk: Mapping[str, Any]) -> None:
        kind = chunk.get("type")
        if kind == "code":
            self.write("\n```" + escape_controls(str(chunk.get("format") or "")) + "\n")
        elif kind == "message" and chunk.get("role") == "user":
            self.write("> ")
        self.kind = kind

    def _end(self, kind: Any) -> None:
        self.write("\n```\n" if kind == "code" else "\n")
        self.kind = None

    def pause(self) -> None:
        pass

    def close(self) -> None:
        pass
