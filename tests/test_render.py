"""render: what is shown, safely, in time linear in the reply's length."""

from __future__ import annotations

import io
import time
from typing import Any

from interpreter.terminal.render import PlainRenderer, RichRenderer, make_console
from interpreter.terminal.streams import SectionSplitter, Tail


def _stream(kind: str, content: str, size: int, role: str = "assistant", fmt: str | None = None):
    head: dict[str, Any] = {"role": role, "type": kind}
    if fmt:
        head["format"] = fmt
    yield {**head, "start": True}
    for i in range(0, len(content), size):
        yield {**head, "content": content[i : i + size]}
    yield {**head, "end": True}


def _render(chunks: Any, *, terminal: bool = False, refresh: float = 0.08) -> str:
    out = io.StringIO()
    console = make_console(file=out, force_terminal=terminal, width=100, height=40)
    renderer = RichRenderer(console, refresh=refresh)
    for chunk in chunks:
        renderer.feed(chunk)
    renderer.close()
    return out.getvalue()


def _long_reply(size: int) -> str:
    parts: list[str] = []
    total, i = 0, 0
    while total < size:
        part = f"Paragraph {i} with **bold**, `code` and [a link](https://example.com/{i}).\n"
        if i % 4 == 0:
            part += "\n"
        if i % 40 == 0:
            part += "```python\n" + "x = 1\n" * 20 + "```\n\n"
        parts.append(part)
        total += len(part)
        i += 1
    return "".join(parts)


def test_200kb_reply_in_4_char_chunks_renders_in_linear_time() -> None:
    reply = _long_reply(200_000)
    start = time.perf_counter()
    shown = _render(_stream("message", reply, 4), terminal=True)
    elapsed = time.perf_counter() - start
    assert elapsed < 8.0, f"rendering took {elapsed:.1f}s"
    assert "Paragraph 0 " in shown and f"Paragraph {reply.count('Paragraph') - 1} " in shown


def test_time_grows_linearly_not_quadratically() -> None:
    def cost(size: int) -> float:
        reply = _long_reply(size)
        start = time.perf_counter()
        _render(_stream("message", reply, 4), terminal=True)
        return time.perf_counter() - start

    small, large = cost(25_000), cost(100_000)
    assert large < small * 4 * 2.5, (small, large)  # 4x the text: well under 16x the time


def test_one_giant_line_of_code_is_linear() -> None:
    code = "x" * 200_000
    start = time.perf_counter()
    shown = _render(_stream("code", code, 4, fmt="python"), terminal=True)
    assert time.perf_counter() - start < 5.0
    assert shown.count("x") >= 200_000


def test_every_section_is_printed_exactly_once() -> None:
    reply = "".join(f"para{i:03d} text\n\n" for i in range(50))
    shown = _render(_stream("message", reply, 3))
    for i in range(50):
        assert shown.count(f"para{i:03d}") == 1


def test_live_preview_on_every_chunk_still_prints_the_final_text() -> None:
    reply = _long_reply(3_000)
    shown = _render(_stream("message", reply, 7), terminal=True, refresh=0.0)
    assert "Paragraph 0 " in shown and "Paragraph 30 " in shown


def test_markdown_code_and_output_with_controls_and_markup() -> None:
    chunks = [
        *_stream("message", "Hi **there** [/bold] \x1b]52;c;AAAA\x07 done", 5),
        *_stream("code", "print('\x1b[2J')\nprint('[/red]')", 4, fmt="python"),
        {"role": "computer", "type": "console", "start": True},
        {"role": "computer", "type": "console", "format": "active_line", "content": 1},
        {"role": "computer", "type": "console", "format": "output", "content": "[/bold]\x1b[2J\n"},
        {"role": "computer", "type": "console", "format": "active_line", "content": None},
        {"role": "computer", "type": "console", "end": True},
    ]
    shown = _render(chunks)
    assert "\x1b" not in shown and "\x07" not in shown
    assert "\\x1b]52;c;AAAA\\x07" in shown
    assert "print('\\x1b[2J')" in shown and "[/red]" in shown
    assert shown.count("[/bold]") == 2


def test_terminal_output_has_no_payload_escapes() -> None:
    # with colours on, rich writes its own ESC codes; the payload's must not appear
    chunks = [*_stream("message", "x \x1b[2J \x1b]0;title\x07 y", 2)]
    shown = _render(chunks, terminal=True)
    assert "\x1b[2J" not in shown and "\x1b]0;" not in shown and "\x07" not in shown
    assert "\\x1b[2J" in shown


def test_links_show_their_target() -> None:
    shown = _render(_stream("message", "see [docs](https://evil.example/x)\n", 4))
    assert "https://evil.example/x" in shown
    assert "\x1b]8" not in _render(_stream("message", "[a](https://b.c)", 4), terminal=True)


def test_chunks_without_framing_still_render() -> None:
    shown = _render([{"role": "computer", "type": "console", "format": "output", "content": "hi"}])
    assert "hi" in shown


def test_plain_renderer_writes_as_it_arrives() -> None:
    out: list[str] = []
    renderer = PlainRenderer(out.append)
    for chunk in [*_stream("message", "Hello \x1b[2J", 3), *_stream("code", "ls", 1, fmt="shell")]:
        renderer.feed(chunk)
    text = "".join(out)
    assert "Hello \\x1b[2J" in text and "```shell\nls\n```" in text


def test_section_splitter_keeps_fences_whole() -> None:
    splitter = SectionSplitter()
    text = "a\n\n```py\nx = 1\n\ny = 2\n```\nb\n"
    sections = [s for ch in text for s in splitter.feed(ch)]
    sections.append(splitter.finish())
    assert sections == ["a", "```py\nx = 1\n\ny = 2\n```", "b"]


def test_tail_returns_the_end() -> None:
    tail = Tail(keep=10)
    for i in range(100):
        tail.append(str(i % 10))
    assert tail.tail(5) == "56789"
    assert tail.text() == "0123456789" * 10


_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def test_images_are_saved_and_shown_by_path() -> None:
    import re
    from pathlib import Path

    image = {"role": "computer", "type": "image", "format": "base64.png"}
    chunks = [{**image, "start": True}, {**image, "content": _PNG}, {**image, "end": True}]
    for text in (_render(chunks), _plain(chunks)):
        found = re.search(r"\[image: (\S+\.png)\]", text)
        assert found, text
        assert Path(found.group(1)).read_bytes().startswith(b"\x89PNG")
        assert Path(found.group(1)).stat().st_mode & 0o777 == 0o600


def _plain(chunks: list[dict[str, Any]]) -> str:
    out: list[str] = []
    renderer = PlainRenderer(out.append)
    for chunk in chunks:
        renderer.feed(chunk)
    return "".join(out)
