"""Markdown to terminal lines, fast: one finished section of a reply at a time.

rich's Markdown renders about 0.3 MB/s, which falls behind a fast model; this renderer
does the common subset (paragraphs, headings, lists, quotes, rules, tables, fenced code
with highlighting, inline code, emphasis, links) at several MB/s, in rich's colours
(``markdown.*`` styles, the monokai code theme). Wrapping is done on the visible text
(``inline.py``); colours come from ``theme.py``. The text given is already escaped
(``sanitize.py``): no control character reaches the terminal from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .inline import cell_len, chop, fit, inline_spans, paint, styled_lines, take_cells
from .theme import CodeColours, Style, Theme

__all__ = ["render_code", "render_markdown"]

_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_ITEM = re.compile(r"( *)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$")
_QUOTE = re.compile(r" {0,3}> ?(.*)$")
_FENCE = re.compile(r" *(`{3,}|~{3,})[ \t]*([^`\s]*)")
_TABLE_RULE = re.compile(r" *\|? *:?-+:? *(?:\| *:?-+:? *)*\|? *$")
_BULLET = "•"
_HEADING_STYLES = {n: (f"markdown.h{n}",) for n in range(1, 7)}


# ---------------------------------------------------------------- blocks


def render_markdown(text: str, width: int, theme: Theme) -> list[str]:
    """The lines (with SGR sequences, none wider than ``width`` cells) of a Markdown text."""
    width = max(width, 1)
    return [fit(line, width) for line in _render(text, width, theme)]


def _render(text: str, width: int, theme: Theme) -> list[str]:
    out: list[str] = []
    previous = ""
    for kind, lines in _blocks(text.split("\n")):
        if out and not (kind == previous == "item"):
            out.append("")
        out.extend(_render_block(kind, lines, width, theme))
        previous = kind
    return out


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
        return styled_lines(
            " ".join(s.strip() for s in lines[:-1]), _HEADING_STYLES[level], width, theme
        )
    out: list[str] = []
    for hard_line in _hard_lines(lines):
        out.extend(styled_lines(hard_line, (), width, theme))
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
    return styled_lines(text, _HEADING_STYLES[level], width, theme)


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
        body = styled_lines(text, (), width - len(head), theme)
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
        return [line for row in rows for line in styled_lines(" | ".join(row), (), width, theme)]
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
    return paint(plain, spans, 0, len(plain), theme), cell_len(plain)


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
        return [" " + row for line in code.split("\n") for row in chop(line, inner)]
    colours = theme.code()
    background = theme.sgr(colours.background)
    rows: list[str] = []
    for line in _highlighted_lines(code, language, colours):
        rows.extend(_code_rows(line, inner, background, theme.reset))
    blank = background + " " * width + theme.reset
    return [blank, *rows, blank]


def _highlighted_lines(
    code: str, language: str, colours: CodeColours
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
            piece, text = take_cells(text, room)
            if piece:
                parts.append(sgr + piece)
                used += cell_len(piece)
            if text:
                rows.append(_code_row(parts, used, inner, background, reset))
                parts, used = [], 0
    rows.append(_code_row(parts, used, inner, background, reset))
    return rows


def _code_row(parts: list[str], used: int, inner: int, background: str, reset: str) -> str:
    return background + " " + "".join(parts) + reset + background + " " * (inner - used + 1) + reset
