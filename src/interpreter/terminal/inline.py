"""Inline Markdown (code, emphasis, links, escapes) as visible text plus styled spans, and
wrapping that text to a width: at the last space that fits (``str.rfind`` per line for
ASCII, cell widths otherwise), styles painted on afterwards as SGR sequences."""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Sequence

from .theme import Style, Theme

__all__ = [
    "Span",
    "cell_len",
    "chop",
    "fit",
    "inline_spans",
    "paint",
    "styled_lines",
    "take_cells",
    "wrap_text",
]

Span = tuple[int, int, Style]  # [start, end) of the visible text, and its style

_SGR = re.compile(r"(\x1b\[[0-9;]*m)")
_SPECIAL = re.compile(r"[`*_~\[<\\!&]")
_INLINE = re.compile(
    r"(?P<code>`+)(?P<code_text>.{1,4000}?)(?P=code)"
    r"|!\[(?P<alt>[^\]]{0,500})\]\((?P<src>[^)\s]{0,2000})(?:\s+\"[^\"]*\")?\)"
    r"|\[(?P<text>(?:[^\[\]]|\[[^\]]*\]){0,1000})\]\((?P<href>[^)\s]{0,2000})(?:\s+\"[^\"]*\")?\)"
    r"|<(?P<auto>https?://[^>\s]{1,2000})>"
    r"|\*\*(?=\S)(?P<strong>(?:[^*]|\*(?!\*)){1,4000}?)(?<=\S)\*\*"
    r"|(?<!\w)__(?=\S)(?P<strong2>(?:[^_]|_(?!_)){1,4000}?)(?<=\S)__(?!\w)"
    r"|\*(?=[^\s*])(?P<em>[^*]{1,4000}?)(?<=[^\s*])\*"
    r"|(?<!\w)_(?=[^\s_])(?P<em2>[^_]{1,4000}?)(?<=[^\s_])_(?!\w)"
    r"|~~(?=\S)(?P<strike>[^~]{1,4000}?)(?<=\S)~~"
    r"|\\(?P<escaped>[!-/:-@\[-`{-~])"
)


def inline_spans(text: str, base: Style) -> tuple[str, list[Span]]:
    """The visible text of inline Markdown and its styled spans (covering all of it)."""
    parts: list[str] = []
    spans: list[Span] = []
    _inline(text, base, parts, spans, [0])
    return "".join(parts), spans


def _inline(text: str, base: Style, parts: list[str], spans: list[Span], pos: list[int]) -> None:
    if not _SPECIAL.search(text):
        _add(text, base, parts, spans, pos)
        return
    last = 0
    for match in _INLINE.finditer(text):
        if match.start() > last:
            _add(_entities(text[last : match.start()]), base, parts, spans, pos)
        _inline_match(match, base, parts, spans, pos)
        last = match.end()
    if last < len(text):
        _add(_entities(text[last:]), base, parts, spans, pos)


def _inline_match(
    match: re.Match[str], base: Style, parts: list[str], spans: list[Span], pos: list[int]
) -> None:
    group = match.group
    if group("code") is not None:
        code = group("code_text")
        stripped = code[1:-1] if len(code) > 2 and code[0] == code[-1] == " " else code
        _add(stripped, (*base, "markdown.code"), parts, spans, pos)
    elif group("src") is not None:
        _add(
            f"[image: {group('alt') or group('src')}]", (*base, "markdown.link"), parts, spans, pos
        )
    elif group("href") is not None:
        _link(group("text"), group("href"), base, parts, spans, pos)
    elif group("auto") is not None:
        _add(group("auto"), (*base, "markdown.link_url"), parts, spans, pos)
    elif group("escaped") is not None:
        _add(group("escaped"), base, parts, spans, pos)
    else:
        for name, style in (
            ("strong", "markdown.strong"),
            ("strong2", "markdown.strong"),
            ("em", "markdown.em"),
            ("em2", "markdown.em"),
            ("strike", "markdown.s"),
        ):
            inner = group(name)
            if inner is not None:
                _inline(inner, (*base, style), parts, spans, pos)
                return


def _link(
    text: str, href: str, base: Style, parts: list[str], spans: list[Span], pos: list[int]
) -> None:
    if text and text != href:
        _inline(text, (*base, "markdown.link"), parts, spans, pos)
        _add(" (", base, parts, spans, pos)
        _add(href, (*base, "markdown.link_url"), parts, spans, pos)
        _add(")", base, parts, spans, pos)
    else:
        _add(href, (*base, "markdown.link_url"), parts, spans, pos)


def _entities(text: str) -> str:
    return html.unescape(text) if "&" in text else text


def _add(text: str, style: Style, parts: list[str], spans: list[Span], pos: list[int]) -> None:
    if not text:
        return
    start = pos[0]
    parts.append(text)
    pos[0] = start + len(text)
    if spans and spans[-1][2] == style and spans[-1][1] == start:
        spans[-1] = (spans[-1][0], pos[0], style)
    else:
        spans.append((start, pos[0], style))


def styled_lines(text: str, base: Style, width: int, theme: Theme) -> list[str]:
    """Inline Markdown wrapped to ``width`` cells and painted."""
    plain, spans = inline_spans(text, base)
    width = max(width, 4)
    if len(spans) == 1 and not spans[0][2]:
        return [plain[a:b] for a, b in _breaks(plain, width)]
    starts = [span[0] for span in spans]
    return [paint(plain, spans, a, b, theme, starts) for a, b in _breaks(plain, width)]


def wrap_text(text: str, width: int) -> list[str]:
    """Plain text (one line) wrapped to ``width`` cells."""
    return [text[a:b] for a, b in _breaks(text, max(width, 4))]


def _breaks(text: str, width: int) -> list[tuple[int, int]]:
    """[start, end) of each wrapped line: at the last space that fits, else a hard cut."""
    if not text.isascii():
        return _breaks_wide(text, width)
    out: list[tuple[int, int]] = []
    pos, n = 0, len(text)
    while n - pos > width:
        cut = text.rfind(" ", pos, pos + width + 1)
        if cut <= pos:
            out.append((pos, pos + width))
            pos += width
        else:
            out.append((pos, cut))
            pos = cut + 1
    out.append((pos, n))
    return out


def _breaks_wide(text: str, width: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = 0
    used = 0
    last_space = -1
    for i, char in enumerate(text):
        cells = cell_len(char)
        if used + cells > width:
            if last_space > start:
                out.append((start, last_space))
                start = last_space + 1
                used = cell_len(text[start:i])
            else:
                out.append((start, i))
                start, used = i, 0
            last_space = -1
        if char == " ":
            last_space = i
        used += cells
    out.append((start, len(text)))
    return out


def paint(
    text: str,
    spans: Sequence[Span],
    a: int,
    b: int,
    theme: Theme,
    starts: Sequence[int] | None = None,
) -> str:
    """``text[a:b]`` with each span's style switched on (and reset at the end);
    ``starts`` (the spans' starts) finds the first span at once."""
    index = max(bisect_right(starts, a) - 1, 0) if starts is not None else 0
    out: list[str] = []
    styled = False
    for start, end, style in spans[index:]:
        if end <= a:
            continue
        if start >= b:
            break
        sgr = theme.sgr(style)
        if styled and not sgr:
            out.append(theme.reset)
        elif sgr:
            out.append((theme.reset if styled else "") + sgr)
        styled = bool(sgr)
        out.append(text[max(start, a) : min(end, b)])
    if styled:
        out.append(theme.reset)
    return "".join(out)


def cell_len(text: str) -> int:
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def take_cells(text: str, cells: int) -> tuple[str, str]:
    """The head of ``text`` that fits ``cells`` cells, and the rest."""
    if text.isascii():
        return text[:cells], text[cells:]
    used = 0
    for i, char in enumerate(text):
        used += cell_len(char)
        if used > cells:
            return text[:i], text[i:]
    return text, ""


def chop(line: str, width: int) -> list[str]:
    rows = []
    while True:
        head, line = take_cells(line, width)
        rows.append(head)
        if not line:
            return rows


def fit(line: str, width: int) -> str:
    """``line`` cut to ``width`` cells when deep nesting made it wider (SGR kept)."""
    if line.isascii() and len(line) <= width:
        return line
    visible = _SGR.sub("", line)
    if cell_len(visible) <= width:
        return line
    out: list[str] = []
    used = 0
    for piece in _SGR.split(line):
        if piece.startswith("\x1b["):
            out.append(piece)
            continue
        head, rest = take_cells(piece, width - used)
        out.append(head)
        used += cell_len(head)
        if rest:
            break
    return "".join(out) + ("\x1b[0m" if "\x1b[" in line else "")
