"""Markdown to terminal lines, fast: one finished section of a reply at a time.

rich's Markdown renders about 0.3 MB/s, which falls behind a fast model; this renderer
does the common subset (paragraphs, headings, lists, quotes, rules, tables, fenced code
with highlighting, inline code, emphasis, links) at several MB/s, in rich's colours
(``markdown.*`` styles, the monokai code theme). Wrapping is done on the visible text
(``str.rfind`` per line for ASCII); styles are spans painted afterwards. The text given
is already escaped (``sanitize.py``): no control character reaches the terminal from it.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Theme", "render_code", "render_markdown", "wrap_text"]

Style = tuple[str, ...]  # names of rich styles, combined in order
Span = tuple[int, int, Style]  # [start, end) of the visible text, and its style

CODE_THEME = "monokai"
_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_ITEM = re.compile(r"( *)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$")
_QUOTE = re.compile(r" {0,3}> ?(.*)$")
_FENCE = re.compile(r" *(`{3,}|~{3,})[ \t]*([^`\s]*)")
_TABLE_RULE = re.compile(r" *\|? *:?-+:? *(?:\| *:?-+:? *)*\|? *$")
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
_BULLET = "•"
_HEADING_STYLES = {n: (f"markdown.h{n}",) for n in range(1, 7)}


class Theme:
    """SGR sequences for rich style names, as the console would write them (colours
    downgraded to its colour system, or none at all when it has none)."""

    def __init__(self, console: Console | None) -> None:
        self.console = console
        system = console.color_system if console is not None else None
        self.enabled = system is not None
        self.no_color = bool(console is not None and console.no_color)
        self._system: Any = getattr(console, "_color_system", None)
        self._cache: dict[Style, str] = {}
        self.reset = "\x1b[0m" if self.enabled else ""
        self._code: _CodeColours | None = None

    def sgr(self, style: Style) -> str:
        """The sequence that switches to ``style`` (empty when styles are off)."""
        if not style or not self.enabled:
            return ""
        cached = self._cache.get(style)
        if cached is None:
            cached = self._cache[style] = self._make(style)
        return cached

    def _make(self, names: Style) -> str:
        from rich.style import Style as RichStyle

        assert self.console is not None
        combined = RichStyle()
        for name in names:
            combined += self._lookup(name)
        if self.no_color:
            combined = combined.without_color
        marker = combined.render("\x00", color_system=self._system)
        return marker.split("\x00")[0]

    def _lookup(self, name: str) -> Any:
        from rich.style import Style as RichStyle

        assert self.console is not None
        if name.startswith("#") or name.startswith("on "):
            return RichStyle.parse(name)
        return self.console.get_style(name, default="none")

    def code(self) -> _CodeColours:
        if self._code is None:
            self._code = _CodeColours(self)
        return self._code


class _CodeColours:
    """The code theme's colour for each pygments token type, over its background."""

    def __init__(self, theme: Theme) -> None:
        from pygments.styles import get_style_by_name

        self.theme = theme
        self.style = get_style_by_name(CODE_THEME)
        background = self.style.background_color or "#272822"
        self.background: Style = (f"on {background}",)
        self._by_token: dict[Any, str] = {}
        self._lexers: dict[str, Any] = {}

    def token(self, ttype: Any) -> str:
        found = self._by_token.get(ttype)
        if found is None:
            spec = self.style.style_for_token(ttype)
            names: list[str] = list(self.background)
            if spec.get("color"):
                names.append("#" + spec["color"])
            found = self.theme.sgr(tuple(names)) + _attributes(spec, self.theme.enabled)
            self._by_token[ttype] = found
        return found

    def lexer(self, language: str) -> Any:
        lexer = self._lexers.get(language)
        if lexer is None:
            from pygments.lexers import get_lexer_by_name
            from pygments.util import ClassNotFound

            try:
                lexer = get_lexer_by_name(language or "text", stripnl=False, ensurenl=False)
            except ClassNotFound:
                lexer = get_lexer_by_name("text", stripnl=False, ensurenl=False)
            self._lexers[language] = lexer
        return lexer


def _attributes(spec: dict[str, Any], enabled: bool) -> str:
    if not enabled:
        return ""
    codes = [
        code for key, code in (("bold", "1"), ("italic", "3"), ("underline", "4")) if spec[key]
    ]
    return f"\x1b[{';'.join(codes)}m" if codes else ""


# ---------------------------------------------------------------- blocks


def render_markdown(text: str, width: int, theme: Theme) -> list[str]:
    """The lines (with SGR sequences, none wider than ``width`` cells) of a Markdown text."""
    width = max(width, 1)
    return [_fit(line, width) for line in _render(text, width, theme)]


def _render(text: str, width: int, theme: Theme) -> list[str]:
    out: list[str] = []
    previous = ""
    for kind, lines in _blocks(text.split("\n")):
        if out and not (kind == previous == "item"):
            out.append("")
        out.extend(_render_block(kind, lines, width, theme))
        previous = kind
    return out


def _fit(line: str, width: int) -> str:
    """``line`` cut to ``width`` cells when deep nesting made it wider (SGR kept)."""
    if line.isascii() and len(line) <= width:
        return line
    visible = _SGR.sub("", line)
    if _cell_len(visible) <= width:
        return line
    out: list[str] = []
    used = 0
    for piece in _SGR.split(line):
        if piece.startswith("\x1b["):
            out.append(piece)
            continue
        head, rest = _take_cells(piece, width - used)
        out.append(head)
        used += _cell_len(head)
        if rest:
            break
    return "".join(out) + ("\x1b[0m" if "\x1b[" in line else "")


def _blocks(lines: list[str]) -> Iterator[tuple[str, list[str]]]:
    """Split lines into (kind, lines) blocks: fence, heading, rule, quote, table, item,
    paragraph."""
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        kind = _kind(line, lines[i + 1] if i + 1 < n else None)
        end = _block_end(kind, lines, i)
        yield kind, lines[i:end]
        i = end


def _kind(line: str, following: str | None) -> str:
    stripped = line.lstrip()
    first = stripped[:1]
    if first in "`~" and _FENCE.match(line):
        return "fence"
    if first == "#" and _HEADING.match(line):
        return "heading"
    if first in "-*_" and _RULE.match(line):
        return "rule"
    if first == ">":
        return "quote"
    if (first in "-*+" or first.isdigit()) and _ITEM.match(line):
        return "item"
    if "|" in line and following is not None and _TABLE_RULE.match(following):
        return "table"
    return "paragraph"


def _block_end(kind: str, lines: list[str], start: int) -> int:
    n = len(lines)
    if kind in ("heading", "rule"):
        return start + 1
    if kind == "fence":
        return _fence_end(lines, start)
    i = start + 1
    while i < n and lines[i].strip():
        line = lines[i]
        if kind == "paragraph" and _is_setext(line):
            return i + 1  # the underline of a heading
        if kind == "quote" and not line.lstrip().startswith(">"):
            break
        if kind == "table" and "|" not in line:
            break
        if kind in ("paragraph", "item") and _starts_block(line):
            break
        i += 1
    return i


def _starts_block(line: str) -> bool:
    return _kind(line, None) != "paragraph"


def _is_setext(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and (set(stripped) == {"="} or set(stripped) == {"-"})


def _fence_end(lines: list[str], start: int) -> int:
    match = _FENCE.match(lines[start])
    mark = match.group(1) if match else "```"
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith(mark) and not stripped.strip(mark[0]):
            return i + 1
    return len(lines)


def _render_block(kind: str, lines: list[str], width: int, theme: Theme) -> list[str]:
    if kind == "fence":
        return _fence(lines, width, theme)
    if kind == "heading":
        return _heading(lines[0], width, theme)
    if kind == "rule":
        return [theme.sgr(("markdown.hr",)) + "─" * width + theme.reset]
    if kind == "quote":
        return _quote(lines, width, theme)
    if kind == "item":
        return _items(lines, width, theme)
    if kind == "table":
        return _table(lines, width, theme)
    return _paragraph(lines, width, theme)


def _paragraph(lines: list[str], width: int, theme: Theme) -> list[str]:
    if len(lines) > 1 and _is_setext(lines[-1]):
        level = 1 if lines[-1].strip()[0] == "=" else 2
        return _styled(
            " ".join(s.strip() for s in lines[:-1]), _HEADING_STYLES[level], width, theme
        )
    out: list[str] = []
    for hard_line in _hard_lines(lines):
        out.extend(_styled(hard_line, (), width, theme))
    return out


def _hard_lines(lines: list[str]) -> list[str]:
    """Source lines joined into lines that end with a hard break (two spaces or ``\\``)."""
    joined: list[str] = []
    current: list[str] = []
    for line in lines:
        hard = line.endswith("  ") or (line.endswith("\\") and not line.endswith("\\\\"))
        current.append(line.strip().rstrip("\\") if hard else line.strip())
        if hard:
            joined.append(" ".join(current))
            current = []
    if current:
        joined.append(" ".join(current))
    return joined


def _heading(line: str, width: int, theme: Theme) -> list[str]:
    match = _HEADING.match(line)
    level = len(match.group(1)) if match else 1
    text = (match.group(2) or "") if match else line
    return _styled(text, _HEADING_STYLES[level], width, theme)


def _quote(lines: list[str], width: int, theme: Theme) -> list[str]:
    inner = []
    for line in lines:
        match = _QUOTE.match(line)
        inner.append(match.group(1) if match else line)
    bar = theme.sgr(("markdown.block_quote",)) + "▌ " + theme.reset
    return [bar + line for line in _render("\n".join(inner), max(width - 2, 1), theme)]


def _items(lines: list[str], width: int, theme: Theme) -> list[str]:
    out: list[str] = []
    for indent, marker, text in _list_items(lines):
        level = min(indent // 2, 6)
        bullet = _BULLET if marker in "-*+" else marker
        head = " " * (2 * level) + " " + bullet + " "
        pad = " " * len(head)
        style: Style = ("markdown.item.bullet",) if marker in "-*+" else ("markdown.item.number",)
        body = _styled(text, (), width - len(head), theme)
        painted = " " * (2 * level) + " " + theme.sgr(style) + bullet + theme.reset + " "
        out.extend((painted if i == 0 else pad) + row for i, row in enumerate(body or [""]))
    return out


def _list_items(lines: list[str]) -> list[tuple[int, str, str]]:
    items: list[tuple[int, str, list[str]]] = []
    for line in lines:
        match = _ITEM.match(line)
        if match:
            items.append((len(match.group(1)), match.group(2), [match.group(3) or ""]))
        elif items:
            items[-1][2].append(line.strip())
        else:
            items.append((0, "-", [line.strip()]))
    return [(indent, marker, " ".join(parts)) for indent, marker, parts in items]


def _table(lines: list[str], width: int, theme: Theme) -> list[str]:
    rows = [_cells(line) for i, line in enumerate(lines) if i != 1]
    columns = max(len(row) for row in rows)
    rows = [row + [""] * (columns - len(row)) for row in rows]
    painted = [[_one_line(cell, theme) for cell in row] for row in rows]
    widths = [
        max(cell_width for _, cell_width in (row[c] for row in painted)) for c in range(columns)
    ]
    if sum(widths) + 3 * (columns - 1) > width:
        return [line for row in rows for line in _styled(" | ".join(row), (), width, theme)]
    border = theme.sgr(("markdown.table.border",))
    sep = border + " │ " + theme.reset
    out = []
    for r, row in enumerate(painted):
        cells = [text + " " * (widths[c] - w) for c, (text, w) in enumerate(row)]
        if r == 0:
            header = theme.sgr(("markdown.table.header",))
            cells = [header + cell + theme.reset for cell in cells]
        out.append(sep.join(cells).rstrip())
        if r == 0:
            out.append(border + "─┼─".join("─" * w for w in widths) + theme.reset)
    return out


def _cells(line: str) -> list[str]:
    stripped = line.strip()
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|") and not stripped.endswith("\\|"):
        stripped = stripped[:-1]
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", stripped)]


def _one_line(text: str, theme: Theme) -> tuple[str, int]:
    plain, spans = inline_spans(text, ())
    return _paint(plain, spans, 0, len(plain), theme), _cell_len(plain)


def _fence(lines: list[str], width: int, theme: Theme) -> list[str]:
    match = _FENCE.match(lines[0])
    language = match.group(2) if match else ""
    body = lines[1:]
    mark = match.group(1) if match else "```"
    if body and body[-1].strip().startswith(mark[:3]):
        body = body[:-1]
    return render_code("\n".join(body), language, width, theme)


def render_code(code: str, language: str, width: int, theme: Theme) -> list[str]:
    """Highlighted code on the theme's background, one cell of padding each side, long
    lines wrapped (a code block inside a Markdown message)."""
    inner = max(width - 2, 4)
    if not theme.enabled:
        return [" " + row for line in code.split("\n") for row in _chop(line, inner)]
    colours = theme.code()
    background = theme.sgr(colours.background)
    rows: list[str] = []
    for line in _highlighted_lines(code, language, colours):
        rows.extend(_code_rows(line, inner, background, theme.reset))
    blank = background + " " * width + theme.reset
    return [blank, *rows, blank]


def _highlighted_lines(
    code: str, language: str, colours: _CodeColours
) -> list[list[tuple[str, str]]]:
    lines: list[list[tuple[str, str]]] = [[]]
    for ttype, value in colours.lexer(language).get_tokens(code):
        parts = value.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append([])
            if part:
                lines[-1].append((colours.token(ttype), part))
    if len(lines) > 1 and not lines[-1] and code.endswith("\n"):
        lines.pop()
    return lines


def _code_rows(tokens: list[tuple[str, str]], inner: int, background: str, reset: str) -> list[str]:
    rows: list[str] = []
    parts: list[str] = []
    used = 0
    for sgr, text in tokens:
        while text:
            room = inner - used
            piece, text = _take_cells(text, room)
            if piece:
                parts.append(sgr + piece)
                used += _cell_len(piece)
            if text:
                rows.append(_code_row(parts, used, inner, background, reset))
                parts, used = [], 0
    rows.append(_code_row(parts, used, inner, background, reset))
    return rows


def _code_row(parts: list[str], used: int, inner: int, background: str, reset: str) -> str:
    return background + " " + "".join(parts) + reset + background + " " * (inner - used + 1) + reset


# ---------------------------------------------------------------- inline and wrapping


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


def _styled(text: str, base: Style, width: int, theme: Theme) -> list[str]:
    """Inline Markdown wrapped to ``width`` cells and painted."""
    plain, spans = inline_spans(text, base)
    width = max(width, 4)
    if len(spans) == 1 and not spans[0][2]:
        return [plain[a:b] for a, b in _breaks(plain, width)]
    starts = [span[0] for span in spans]
    return [_paint(plain, spans, a, b, theme, starts) for a, b in _breaks(plain, width)]


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
        cells = _cell_len(char)
        if used + cells > width:
            if last_space > start:
                out.append((start, last_space))
                start = last_space + 1
                used = _cell_len(text[start:i])
            else:
                out.append((start, i))
                start, used = i, 0
            last_space = -1
        if char == " ":
            last_space = i
        used += cells
    out.append((start, len(text)))
    return out


def _paint(
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


def _cell_len(text: str) -> int:
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def _take_cells(text: str, cells: int) -> tuple[str, str]:
    """The head of ``text`` that fits ``cells`` cells, and the rest."""
    if text.isascii():
        return text[:cells], text[cells:]
    used = 0
    for i, char in enumerate(text):
        used += _cell_len(char)
        if used > cells:
            return text[:i], text[i:]
    return text, ""


def _chop(line: str, width: int) -> list[str]:
    rows = []
    while True:
        head, line = _take_cells(line, width)
        rows.append(head)
        if not line:
            return rows
