"""sanitize: control sequences are shown, never interpreted."""

from __future__ import annotations

import pytest

from interpreter.terminal.sanitize import escape_controls, escape_output, has_controls

PAYLOADS = {
    "csi erase": "\x1b[2J",
    "csi cursor": "\x1b[10;5H",
    "osc title": "\x1b]0;pwned\x07",
    "osc 52 clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07",
    "osc 8 link": "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "c1 csi": "\x9b2J",
    "bell": "\x07",
    "backspace": "abc\x08\x08\x08xyz",
    "rlo": "\u202eevil",
    "lri": "\u2066x\u2069",
    "del": "a\x7fb",
}


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=list(PAYLOADS))
def test_every_control_is_escaped(payload: str) -> None:
    shown = escape_controls("before " + payload + " after")
    assert not has_controls(shown)
    assert all(ch in "\n\t" or ch.isprintable() for ch in shown)
    assert shown.startswith("before ") and shown.endswith(" after")


def test_escape_form_is_readable() -> None:
    assert escape_controls("\x1b[2J") == "\\x1b[2J"
    assert escape_controls("\u202e") == "\\u202e"
    assert escape_controls("\x9b") == "\\x9b"


def test_newlines_tabs_and_text_pass_through() -> None:
    text = "line 1\n\tline 2 — ünïcödé 中文 [bold]x[/bold]\n"
    assert escape_controls(text) == text
    assert not has_controls(text)


def test_crlf_becomes_lf_and_lone_cr_is_visible() -> None:
    assert escape_controls("a\r\nb") == "a\nb"
    # a lone CR could hide the start of a line of code: it must be shown
    assert escape_controls("rm -rf ~\r# harmless") == "rm -rf ~\\x0d# harmless"


def test_output_turns_lone_cr_into_new_lines() -> None:
    assert escape_output("10%\r50%\r100%\r\n") == "10%\n50%\n100%\n"
    assert escape_output("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"


INVISIBLE = {
    "zero width space": "\u200b",
    "zero width non-joiner": "\u200c",
    "zero width joiner": "\u200d",
    "word joiner": "\u2060",
    "invisible plus": "\u2064",
    "byte order mark": "\ufeff",
    "tag a": "\U000e0061",
    "cancel tag": "\U000e007f",
    "soft hyphen": "\u00ad",
    "variation selector 17": "\U000e0100",
    "lre": "\u202a",
    "pdi": "\u2069",
}


@pytest.mark.parametrize("char", INVISIBLE.values(), ids=list(INVISIBLE))
def test_invisible_characters_are_escaped(char: str) -> None:
    shown = escape_controls("a" + char + "b")
    assert has_controls("a" + char + "b")
    assert char not in shown and not has_controls(shown)
    assert shown.startswith("a\\") and shown.endswith("b")


def test_a_payload_hidden_in_tag_characters_is_readable() -> None:
    hidden = "".join(chr(0xE0000 + ord(c)) for c in "rm -rf ~")
    shown = escape_controls(f"x = '{hidden}'")
    assert shown == "x = '" + "".join(f"\\U000e{ord(c):04x}" for c in "rm -rf ~") + "'"
    assert escape_controls("\u200b") == "\\u200b"


def test_visible_emoji_and_scripts_pass_through() -> None:
    text = "❤ ok ünïcödé 中文 العربية"
    assert escape_controls(text) == text
