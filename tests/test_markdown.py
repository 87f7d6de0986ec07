"""The terminal's Markdown renderer and live region: what they show, within the width,
safely; the live region's redraws leave exactly the finished output on screen."""

from __future__ import annotations

import io
import re
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from interpreter.terminal.live import LiveRegion
from interpreter.terminal.markdown import render_markdown
from interpreter.terminal.render import RichRenderer, make_console
from interpreter.terminal.theme import Theme
from pty_helpers import screen_text

SGR = re.compile(r"\x1b\[[0-9;]*m")


def plain(text: str, width: int = 80) -> list[str]:
    return render_markdown(text, width, Theme(make_console(file=io.StringIO(), width=width)))


def coloured(text: str, width: int = 80) -> list[str]:
    console = make_console(file=io.StringIO(), width=width, force_terminal=True)
    return render_markdown(text, width, Theme(console))


def cells(line: str) -> int:
    from rich.cells import cell_len

    return cell_len(SGR.sub("", line))


def test_blocks_and_inline_markup_render_as_text() -> None:
    text = (
        "# Title\n\nSome **bold**, *em*, ~~gone~~, `code`, snake_case_name and a "
        "[link](https://example.com/a) with \\*stars\\* &amp; more.\n\n"
        "- one\n- two\n  1. nested\n\n> quoted\n\n---\n\n![a cat](cat.png)"
    )
    lines = plain(text)
    joined = "\n".join(lines)
    assert lines[0] == "Title"
    assert (
        "Some bold, em, gone, code, snake_case_name and a link (https://example.com/a) "
        "with *stars* & more." in " ".join(joined.split("\n"))
    )
    assert " • one" in lines and " • two" in lines and "   1. nested" in lines
    assert "▌ quoted" in lines
    assert "─" * 80 in lines
    assert "[image: a cat]" in joined


def test_headings_of_both_kinds_end_their_paragraph() -> None:
    assert plain("Title\n=====\nbody") == ["Title", "", "body"]
    assert plain("text\n## Sub ##\nmore") == ["text", "", "Sub", "", "more"]
    assert coloured("# Big")[0] == "\x1b[1;4mBig\x1b[0m"


def test_styles_are_sgr_sequences_only_on_a_terminal() -> None:
    shown = coloured("**bold** and `code`")
    assert shown == ["\x1b[1mbold\x1b[0m and \x1b[1;36;40mcode\x1b[0m"]
    assert "\x1b" not in "".join(plain("**bold** and `code`"))


def test_code_blocks_are_highlighted_on_their_background() -> None:
    block = "```python\ndef f(x):\n    return x  # done\n```"
    assert plain(block) == [" def f(x):", "     return x  # done"]
    lines = coloured(block, 40)
    assert len(lines) == 4 and all(cells(line) == 40 for line in lines)  # padded rows
    assert "def" in SGR.sub("", lines[1]) and len(set(SGR.findall(lines[1]))) > 2


def test_tables_line_up_their_columns() -> None:
    lines = plain("| name | value |\n|:-----|------:|\n| alpha | 1 |\n| b | 22 |")
    assert lines == ["name  │ value", "──────┼──────", "alpha │ 1", "b     │ 22"]


def test_a_table_too_wide_is_wrapped_rows() -> None:
    lines = plain("| " + " | ".join(["wide column text"] * 8) + " |\n|" + "---|" * 8, 40)
    assert all(cells(line) <= 40 for line in lines)


@settings(max_examples=150, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("ab cd*_`[]()#>-|\\\n") + ["漢", "字", "é", "😀"]),
        max_size=400,
    ),
    st.integers(min_value=8, max_value=60),
)
def test_no_line_is_wider_than_the_terminal(text: str, width: int) -> None:
    for line in coloured(text, width):
        assert cells(line) <= width, (text, width, line)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.from_regex(r"[a-z0-9]{1,24}", fullmatch=True), min_size=1, max_size=80))
def test_wrapping_keeps_every_word_in_order(words: list[str]) -> None:
    lines = plain(" ".join(words), 24)
    assert " ".join(lines).split() == words


def test_controls_in_a_message_are_shown_escaped_in_colour_too() -> None:
    out = io.StringIO()
    renderer = RichRenderer(make_console(file=out, force_terminal=True, width=60), refresh=0)
    head = {"role": "assistant", "type": "message"}
    for piece in ("# T\x1b]0;x\x07itle\n\n", "a \x1b[2J b **c**\n\n", "`\x9b31m`"):
        renderer.feed({**head, "content": piece})
    renderer.close()
    shown = out.getvalue()
    assert "\x1b]0;" not in shown and "\x1b[2J" not in shown and "\x9b" not in shown
    assert "\\x1b]0;x\\x07" in shown and "\\x1b[2J" in shown and "\\x9b31m" in shown


def test_the_live_region_leaves_only_the_finished_output() -> None:
    written: list[str] = []
    state = {"lines": ["preview 0"]}
    region = LiveRegion(written.append, lambda: list(state["lines"]), interval=0)
    for i in range(1, 30):
        state["lines"] = [f"preview {i}", "second line", "⠋ spinner"][: 1 + i % 3]
        region.touch()
        if i % 5 == 0:
            region.commit(f"finished {i}\n")
    region.stop()
    shown = screen_text("".join(written).replace("\n", "\r\n").encode(), 40, 10)
    assert shown.split("\n") == [f"finished {i}" for i in range(5, 30, 5)]


def test_the_live_region_ticker_draws_what_changed_while_the_caller_waits() -> None:
    drawn = threading.Event()
    written: list[str] = []

    def write(text: str) -> None:
        written.append(text)
        if "late text" in text:
            drawn.set()

    state = {"text": "early text"}
    region = LiveRegion(write, lambda: [state["text"]], interval=0.05)
    region.touch()  # drawn at once
    with region.lock:
        state["text"] = "late text"
    region.mark()  # not drawn now: the ticker does it
    assert drawn.wait(5)
    region.stop()
    assert "early text" in written[1] and written[-1].endswith("\x1b[?25h")
