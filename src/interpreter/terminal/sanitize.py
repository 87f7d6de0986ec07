"""Make untrusted text safe to show in a terminal.

Model text, code and program output may carry terminal control sequences (cursor
movement, screen erase, window titles, OSC 52 clipboard writes, OSC 8 hyperlinks),
bidirectional overrides that make what is shown differ from what runs, or invisible
characters (zero-width spaces and joiners, the byte order mark, Unicode TAG characters,
variation selectors of the supplement) that can hide a whole payload in what looks like
an empty string. Every such character is shown as a visible escape (``\\x1b``,
``\\u202e``, ``\\U000e0061``) instead of being interpreted; only newlines and tabs pass
through.
"""

from __future__ import annotations

import re

__all__ = ["escape_controls", "escape_output", "has_controls"]

# C0 controls except \t and \n, DEL, C1 controls, the soft hyphen, the invisible
# direction marks and bidi embeddings/overrides/isolates, zero-width spaces and joiners,
# invisible operators and deprecated format characters, the Hangul fillers, the byte order
# mark, and the TAG characters and supplementary variation selectors (planes 14).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u034f\u061c\u115f\u1160\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\uffa0"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def has_controls(text: str) -> bool:
    """Whether ``text`` holds any character that :func:`escape_controls` would escape."""
    return _UNSAFE.search(text.replace("\r\n", "\n")) is not None


def escape_controls(text: str) -> str:
    """Return ``text`` with every control character shown as a visible escape.

    ``\\r\\n`` becomes ``\\n``; a lone ``\\r`` (which could hide a line's start) is
    escaped like any other control, so the text shown is exactly the text given.
    """
    return _UNSAFE.sub(_visible, text.replace("\r\n", "\n"))


def escape_output(text: str) -> str:
    """Like :func:`escape_controls`, for program output: a lone ``\\r`` (progress bars)
    starts a new line instead of being escaped, so nothing is ever overwritten."""
    return escape_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
