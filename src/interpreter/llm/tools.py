"""The ``execute`` tool: its schema, and the decoder that streams code out of its arguments.

``ToolCallDecoder`` reads the tool call's JSON arguments as they arrive in pieces and emits
``CodeStart(language)`` as soon as the language is known, then ``CodeDelta`` pieces of the
decoded ``code`` string (escapes decoded incrementally, never half an escape). ``close``
parses the whole arguments and emits the authoritative ``CodeEnd``, with ``error`` set when
the call cannot run. A ``CodeStart`` always comes before the ``CodeEnd``.

Tolerated like Open Interpreter: ``{"code": ...}`` without a language means python, and so
does a bare JSON string. Arguments that are not JSON (raw code) or another JSON value are
an error: they are reported to the model and never run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from .events import CodeDelta, CodeEnd, CodeStart, Event

DEFAULT_LANGUAGE = "python"
NOT_AN_OBJECT = 'the tool call\'s arguments must be a JSON object: {"language": ..., "code": ...}'

_SIMPLE_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_STRING_STOP = re.compile(r'["\\]')
_HEX4 = re.compile(r"[0-9a-fA-F]{4}\Z")
_LOW_SURROGATE_PREFIX = re.compile(r"(\\(u([dD]([c-fC-F][0-9a-fA-F]{0,2})?)?)?)?\Z")
_LOW_SURROGATE = re.compile(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}\Z")
_WHITESPACE = " \t\r\n"
_NEED_MORE = -1


def _unique_lower(languages: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(name.lower() for name in languages))


def execute_tool_schema(languages: Sequence[str]) -> dict[str, Any]:
    """The OpenAI ``tools`` entry for the one ``execute`` function."""
    names = _unique_lower(languages)
    return {
        "type": "function",
        "function": {
            "name": "execute",
            "description": (
                "Executes code on the user's machine **in the users local environment** and "
                "returns the output. Use it to run code in one of the supported languages."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "language": {
                        "type": "string",
                        "description": "The programming language (required parameter).",
                        "enum": names,
                    },
                    "code": {"type": "string", "description": "The code to execute."},
                },
                "required": ["language", "code"],
            },
        },
    }


class _StringDecoder:
    """Decodes the inside of a JSON string piece by piece; stops after the closing quote."""

    def __init__(self) -> None:
        self.done = False
        self.broken = False

    def decode(self, text: str, pos: int) -> tuple[str, int]:
        """Decode from ``pos``; return the text and where decoding stopped.

        Stops at the end of the string (``done``), at an escape not yet complete (the caller
        keeps the rest for the next piece), or at an invalid escape (``broken``).
        """
        out: list[str] = []
        while pos < len(text):
            stop = _STRING_STOP.search(text, pos)
            end = stop.start() if stop else len(text)
            out.append(text[pos:end])
            pos = end
            if stop is None:
                break
            if text[pos] == '"':
                self.done = True
                return "".join(out), pos + 1
            char, used = self._escape(text, pos)
            if not used:
                break
            out.append(char)
            pos += used
        return "".join(out), pos

    def _escape(self, text: str, pos: int) -> tuple[str, int]:
        """The escape at ``pos``: (decoded, characters used); used 0 when incomplete/broken."""
        if pos + 1 >= len(text):
            return "", 0
        kind = text[pos + 1]
        if kind in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[kind], 2
        if kind != "u":
            self.broken = True
            return "", 0
        hex4 = text[pos + 2 : pos + 6]
        if len(hex4) < 4 and all(c in "0123456789abcdefABCDEF" for c in hex4):
            return "", 0
        if not _HEX4.match(hex4):
            self.broken = True
            return "", 0
        code = int(hex4, 16)
        if not 0xD800 <= code <= 0xDBFF:
            return chr(code), 6
        follow = text[pos + 6 : pos + 12]
        if len(follow) < 6 and _LOW_SURROGATE_PREFIX.match(follow):
            return "", 0
        if _LOW_SURROGATE.match(follow):
            low = int(follow[2:], 16)
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), 12
        return chr(code), 6


class _ValueSkipper:
    """Skips a JSON value that is not a string (numbers, literals, arrays, objects)."""

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.escaped = False

    def skip(self, text: str, pos: int) -> int:
        """Advance past value characters; return the position of the ``,``/``}`` ending it."""
        while pos < len(text):
            ch = text[pos]
            if self.in_string:
                if self.escaped:
                    self.escaped = False
                elif ch == "\\":
                    self.escaped = True
                elif ch == '"':
                    self.in_string = False
            elif ch == '"':
                self.in_string = True
            elif ch in "[{":
                self.depth += 1
            elif ch in "]}" and self.depth > 0:
                self.depth -= 1
            elif ch in ",}" and self.depth == 0:
                return pos
            pos += 1
        return pos


class ToolCallDecoder:
    """Streams the ``execute`` call's arguments into code events; see the module docstring."""

    def __init__(self, languages: Sequence[str] = ()) -> None:
        """``languages``: the names accepted; empty accepts any (the caller checks them)."""
        self._languages = _unique_lower(languages)
        self._raw: list[str] = []
        self._carry = ""
        self._mode = ""  # "", "object", "string", "raw", "stopped"
        self._state = "key?"
        self._key = ""
        self._key_parts: list[str] = []
        self._lang_parts: list[str] = []
        self._language: str | None = None
        self._started = False
        self._code: list[str] = []
        self._unsent = 0
        self._string: _StringDecoder | None = None
        self._skipper: _ValueSkipper | None = None

    def feed(self, args_delta: str) -> list[Event]:
        """Take the next piece of the arguments; return the events it allows."""
        self._raw.append(args_delta)
        events: list[Event] = []
        text, self._carry = self._carry + args_delta, ""
        pos = 0
        while pos < len(text) and self._mode != "stopped":
            new_pos = self._step(text, pos, events)
            if new_pos == _NEED_MORE:
                self._carry = text[pos:]
                break
            if new_pos == pos:
                self._mode = "stopped"
            pos = new_pos
        return events

    def close(self) -> list[Event]:
        """End of the arguments: the authoritative ``CodeEnd`` (with ``error`` if unusable)."""
        raw = "".join(self._raw)
        language, code, error = self._final(raw)
        events: list[Event] = []
        if not self._started:
            self._start(language, events)
        self._flush(events)
        events.append(CodeEnd(language, code, error=error))
        return events

    # -- the authoritative parse ---------------------------------------------------------

    def _final(self, raw: str) -> tuple[str, str, str | None]:
        so_far = "".join(self._code)
        if self._mode == "raw":  # never run: the model did not say what this is
            return DEFAULT_LANGUAGE, raw, NOT_AN_OBJECT
        try:
            value = json.loads(raw, strict=False) if raw.strip() else {}
        except json.JSONDecodeError as err:
            reason = f"the tool call's arguments are not valid JSON: {err}"
            return self._language or "", so_far, reason
        if isinstance(value, str):
            return DEFAULT_LANGUAGE, value, None
        assert isinstance(value, dict)  # anything else was taken as raw code
        return self._check(value.get("language", DEFAULT_LANGUAGE), value.get("code"), so_far)

    def _check(self, language: object, code: object, so_far: str) -> tuple[str, str, str | None]:
        if not isinstance(language, str):
            return self._language or "", so_far, "argument 'language' must be a string"
        language = language.lower()
        if not isinstance(code, str):
            missing = "missing" if code is None else "not a string"
            return language, so_far, f"argument 'code' is {missing}"
        if self._languages and language not in self._languages:
            supported = ", ".join(self._languages)
            return language, code, f"language {language} is not supported; use one of: {supported}"
        return language, code, None

    # -- streaming ------------------------------------------------------------------------

    def _step(self, text: str, pos: int, events: list[Event]) -> int:
        """Consume some characters from ``pos``; return the new position (same: need more)."""
        if self._mode == "":
            return self._choose_mode(text, pos, events)
        if self._mode == "raw":
            self._add_code(text[pos:], events)
            return len(text)
        if self._string is not None:
            return self._in_string(text, pos, events)
        if self._skipper is not None:
            return self._skip_value(text, pos)
        if self._mode == "string":
            self._mode = "stopped"
            return len(text)
        return self._structure(text, pos)

    def _choose_mode(self, text: str, pos: int, events: list[Event]) -> int:
        rest = text[pos:].lstrip(_WHITESPACE)
        if not rest:
            return len(text)
        if rest[0] == "{":
            self._mode = "object"
            return len(text) - len(rest) + 1
        if rest[0] == '"':
            self._mode, self._key = "string", "code"
            self._start(DEFAULT_LANGUAGE, events)
            self._string = _StringDecoder()
            return len(text) - len(rest) + 1
        self._mode = "raw"
        self._start(DEFAULT_LANGUAGE, events)
        self._add_code("".join(self._raw), events)
        return len(text)

    def _structure(self, text: str, pos: int) -> int:
        """Whitespace, keys, colons and commas of the top-level object."""
        ch = text[pos]
        if ch in _WHITESPACE:
            return pos + 1
        if self._state == "key?" and ch == '"':
            self._key_parts, self._state = [], "key"
            self._string = _StringDecoder()
        elif self._state == ":?" and ch == ":":
            self._state = "value?"
        elif self._state == "value?" and ch == '"':
            self._state = "value"
            self._string = _StringDecoder()
        elif self._state == "value?":
            self._skipper = _ValueSkipper()
            return self._skip_value(text, pos)
        elif self._state == ",?" and ch == ",":
            self._state = "key?"
        else:
            self._mode = "stopped"
        return pos + 1

    def _skip_value(self, text: str, pos: int) -> int:
        assert self._skipper is not None
        end = self._skipper.skip(text, pos)
        if end == len(text):
            return end
        self._skipper = None
        self._state = "key?" if text[end] == "," else "end"
        return end + 1

    def _in_string(self, text: str, pos: int, events: list[Event]) -> int:
        decoder = self._string
        assert decoder is not None
        piece, new_pos = decoder.decode(text, pos)
        self._string_piece(piece, events)
        if decoder.broken:
            self._mode = "stopped"
        elif decoder.done:
            self._string = None
            self._string_done(events)
        elif new_pos == pos:
            return _NEED_MORE
        return new_pos

    def _string_piece(self, piece: str, events: list[Event]) -> None:
        if self._state == "key":
            self._key_parts.append(piece)
        elif self._key == "code" and not self._started:
            self._code.append(piece)
        elif self._key == "code" and piece:
            self._add_code(piece, events)
        elif self._key == "language":
            self._lang_parts.append(piece)

    def _string_done(self, events: list[Event]) -> None:
        if self._mode == "string":
            self._mode = "stopped"
        elif self._state == "key":
            self._key, self._state = "".join(self._key_parts), ":?"
        else:
            self._state = ",?"
            if self._key == "language" and not self._started:
                self._start("".join(self._lang_parts).lower(), events)
                self._flush(events)

    def _start(self, language: str, events: list[Event]) -> None:
        self._language, self._started = language, True
        events.append(CodeStart(language))

    def _add_code(self, piece: str, events: list[Event]) -> None:
        if piece:
            self._code.append(piece)
            self._flush(events)

    def _flush(self, events: list[Event]) -> None:
        """Send the code decoded but not sent yet (held while the language was unknown)."""
        if self._unsent < len(self._code):
            text = "".join(self._code[self._unsent :])
            self._unsent = len(self._code)
            if text:
                events.append(CodeDelta(text))
