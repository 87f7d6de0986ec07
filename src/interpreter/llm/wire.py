"""LMC messages -> OpenAI chat messages, and the provider-neutral pieces of a streamed reply.

Function-calling models: assistant code becomes a call of the tool ``execute`` (arguments
``{"language", "code"}``), or of the tool its ``tool`` key names, under the provider's
``call_id`` and with the provider's own fields of the call (``extra``, e.g. Gemini's
``extra_content``); a call without an id (an 0.4.3 conversation, a text model's code) gets
ours, ``generated_call_id``. The console output after it is the matching ``tool`` message
(``"No output"`` when empty, ``NOT_RUN`` when there is none). The calls of one reply stay
in one assistant message, answered in order. ``with_call_ids`` and ``without_call_extras``
fit the messages to servers that check ids (Mistral) or refuse unknown fields. Text
models: code becomes a fenced Markdown block in the assistant's text and its output a user
message. Images become ``image_url`` parts only for vision models.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..lmc import CodeMessage, Message

WireMessage = dict[str, Any]

TOOL_NAME = "execute"
NO_OUTPUT = "No output"
NOT_RUN = "Not run: the turn ended before this code ran."
CODE_OUTPUT_TEMPLATE = (
    "Code output: {content}\n\n"
    "What does this output mean / what's next (if anything, or are we done)?"
)
EMPTY_CODE_OUTPUT_TEMPLATE = (
    "The code above was executed on my machine. It produced no text output. "
    "What's next (if anything, or are we done?)"
)
NO_VISION = "[An image was shown to the user here; this model cannot see images.]"
#: The keys of an OpenAI tool call; any other key the provider sent is its own (``extra``).
_CALL_KEYS = frozenset({"id", "type", "function", "index"})
_ALPHANUMERIC = string.ascii_letters + string.digits


@dataclass(frozen=True)
class TextPiece:
    """Streamed assistant text."""

    text: str


@dataclass(frozen=True)
class ToolPiece:
    """A piece of tool call number ``index`` (None: the provider sent no index, as Gemini
    does). Its id and name come with the first piece (an id that changes starts another
    call). ``extra``: the provider's own fields of the call, kept and sent back with it
    (Gemini's ``extra_content`` with its thought signature); pieces' extras are merged."""

    index: int | None
    arguments: str
    call_id: str | None = None
    name: str | None = None
    extra: dict[str, Any] | None = None


@dataclass(frozen=True)
class UsagePiece:
    """Token usage reported by the provider. ``cached_tokens``: prompt tokens read from the
    provider's prompt cache; ``written_tokens``: prompt tokens written to it (Anthropic
    bills those higher); both part of ``prompt_tokens``."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    written_tokens: int = 0


Piece = TextPiece | ToolPiece | UsagePiece


@dataclass
class WireOptions:
    """How to write the wire messages for one model."""

    functions: bool = True
    vision: bool = False
    code_output_template: str = CODE_OUTPUT_TEMPLATE
    empty_code_output_template: str = EMPTY_CODE_OUTPUT_TEMPLATE
    #: Text models: who says the program output, "user" or "assistant" (0.4.3's setting).
    code_output_sender: str = "user"


def to_openai(
    messages: list[Message], system_message: str, options: WireOptions | None = None
) -> list[WireMessage]:
    """The OpenAI chat messages for ``messages`` (LMC), the system message first."""
    builder = _Builder(options or WireOptions())
    if system_message.strip():
        builder.out.append({"role": "system", "content": system_message})
    for message in messages:
        builder.add(message)
    builder.flush()
    return builder.out


@dataclass
class _Builder:
    """Writes the wire messages one LMC message at a time.

    Function-calling models: the code messages of one reply (nothing but text between
    them) become one assistant message with a tool call each, under the provider's ids;
    the console outputs that follow answer those calls in order (a console message starts
    the next call's answer; images and rich outputs after it belong to it). A call left
    without output is answered ``NOT_RUN``.
    """

    options: WireOptions
    out: list[WireMessage] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # ids of calls waiting for output
    answers: list[list[str]] = field(default_factory=list)  # their outputs, in order
    after_code: bool = False  # text models: output follows a code block
    outputs: list[str] = field(default_factory=list)  # text models: output since the code
    images: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0
    used: set[str] = field(default_factory=set)  # the call ids of this request

    def add(self, m: Message) -> None:
        role, kind, fmt = m.get("role"), m.get("type"), m.get("format")
        if role == "assistant" and kind == "code" and m["type"] == "code":
            self.code(m)
        elif role == "computer" and kind == "console":
            if fmt != "active_line":
                self.output(str(m.get("content") or ""), starts_answer=True)
        elif kind == "image":
            self.image(m)
        elif role == "computer" and kind == "code":
            self.output(f"({fmt} output was displayed to the user)")
        elif kind == "message" and role == "assistant" and self.pending and not self.answers:
            self.text("assistant", str(m.get("content", "")), into_calls=True)  # same reply
        elif kind == "message" and role in ("user", "assistant", "system"):
            self.flush()
            self.text("user" if role == "system" else str(role), str(m.get("content", "")))
        elif kind == "file":
            self.flush()
            self.text("user", f"File: {m.get('content', '')}")

    def output(self, text: str, *, starts_answer: bool = False) -> None:
        if not self.options.functions:
            self.outputs.append(text)
        elif starts_answer or not self.answers:
            self.answers.append([text])
        else:
            self.answers[-1].append(text)

    def code(self, m: CodeMessage) -> None:
        """An ``execute`` call (or another tool's, with ``tool``), under the provider's id."""
        language, code = str(m.get("format") or "python"), str(m.get("content", ""))
        if not self.options.functions:
            self.flush()
            self.text("assistant", f"```{language}\n{code}\n```")
            self.after_code = True
            return
        if self.answers or self.images:
            self.flush()  # the outputs so far answer the calls before this one
        call_id = self._call_id(m.get("call_id"))
        tool = m.get("tool")
        if tool is not None:
            function = {"name": tool["name"], "arguments": json.dumps(tool["arguments"])}
        else:
            arguments = json.dumps({"language": language, "code": code})
            function = {"name": TOOL_NAME, "arguments": arguments}
        extra = {k: v for k, v in (m.get("extra") or {}).items() if k not in _CALL_KEYS}
        call: dict[str, Any] = {"id": call_id, "type": "function", "function": function, **extra}
        last = self.out[-1] if self.out else None
        if last is not None and last["role"] == "assistant":
            last.setdefault("tool_calls", []).append(call)
        else:
            self.out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        self.pending.append(call_id)

    def _call_id(self, given: str | None) -> str:
        """The provider's id; ours (``call00000``, ``call00001``, ...: valid for every
        provider, Mistral's 9 letters and digits too, and the same in every request) for a
        call without one, or whose id an earlier call of this request already has."""
        self.calls += 1
        call_id = given
        number = self.calls - 1
        while not call_id or call_id in self.used:
            call_id, number = generated_call_id(number), number + 1_000_000
        self.used.add(call_id)
        return call_id

    def image(self, m: Message) -> None:
        if not self.options.vision:
            if m.get("role") == "computer":
                self.output(NO_VISION)
            else:
                self.flush()
                self.text("user", NO_VISION)
            return
        part = _image_part(str(m.get("format", "")), str(m.get("content", "")))
        if m.get("role") == "computer":
            self.images.append(part)
        else:
            self.flush()
            self.parts("user", [part])

    def flush(self) -> None:
        """Answer the calls waiting (text models: say the output since the code)."""
        if self.pending:
            self._answer_calls()
        elif self.after_code or any(self.outputs):
            self._say_output("\n".join(o for o in self.outputs if o).strip())
        if self.images:
            self.parts("user", self.images)
        self.pending, self.answers, self.after_code, self.outputs, self.images = (
            [],
            [],
            False,
            [],
            [],
        )

    def _answer_calls(self) -> None:
        answers = self.answers
        if len(answers) > len(self.pending):  # more outputs than calls: the last call's
            answers = [*answers[: len(self.pending) - 1], sum(answers[len(self.pending) - 1 :], [])]
        for i, call_id in enumerate(self.pending):
            if i < len(answers):
                content = "\n".join(o for o in answers[i] if o).strip() or NO_OUTPUT
            else:
                content = NOT_RUN
            self.out.append({"role": "tool", "tool_call_id": call_id, "content": content})

    def _say_output(self, output: str) -> None:
        o = self.options
        text = (
            o.code_output_template.replace("{content}", output)
            if output
            else o.empty_code_output_template
        )
        self.text("assistant" if o.code_output_sender == "assistant" else "user", text)

    def text(self, role: str, text: str, *, into_calls: bool = False) -> None:
        last = self.out[-1] if self.out else None
        if last is None or last["role"] != role or (last.get("tool_calls") and not into_calls):
            self.out.append({"role": role, "content": text})
        elif isinstance(last["content"], list):
            last["content"].append({"type": "text", "text": text})
        else:
            last["content"] = f"{last['content']}\n\n{text}" if last["content"] else text

    def parts(self, role: str, parts: list[dict[str, Any]]) -> None:
        last = self.out[-1] if self.out else None
        if last is None or last["role"] != role or last.get("tool_calls"):
            self.out.append({"role": role, "content": list(parts)})
            return
        if isinstance(last["content"], str):
            last["content"] = [{"type": "text", "text": last["content"]}] if last["content"] else []
        last["content"].extend(parts)


def _image_part(fmt: str, content: str) -> dict[str, Any]:
    """An ``image_url`` part for a base64 image or an image file path."""
    import base64
    import mimetypes
    from pathlib import Path

    if fmt == "path":
        mime = mimetypes.guess_type(content)[0] or "image/png"
        try:
            content = base64.b64encode(Path(content).expanduser().read_bytes()).decode()
        except OSError:
            return {"type": "text", "text": f"[image file not readable: {content}]"}
    else:
        mime = "image/" + (fmt.split(".")[-1] or "png").replace("jpg", "jpeg")
    url = content if content.startswith("data:") else f"data:{mime};base64,{content}"
    return {"type": "image_url", "image_url": {"url": url}}


def generated_call_id(number: int) -> str:
    """Our id for call ``number`` of a request: ``call`` and five digits (``call00007``), or
    nine letters and digits past 99999: what every provider accepts (Mistral wants exactly
    nine ``[a-zA-Z0-9]``)."""
    if number < 100_000:
        return f"call{number:05d}"
    return short_id(f"call-{number}")


def short_id(text: str) -> str:
    """A stable id of nine letters and digits for ``text``."""
    value = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    out = []
    for _ in range(9):
        value, digit = divmod(value, len(_ALPHANUMERIC))
        out.append(_ALPHANUMERIC[digit])
    return "".join(out)


NINE_ALPHANUMERIC = re.compile(r"[a-zA-Z0-9]{9}")


def nine_alphanumeric(call_id: str) -> bool:
    """Whether Mistral accepts ``call_id``: exactly nine letters and digits."""
    return NINE_ALPHANUMERIC.fullmatch(call_id) is not None


def with_call_ids(wire: list[WireMessage], valid: Callable[[str], bool]) -> list[WireMessage]:
    """``wire`` with each call id that ``valid`` refuses replaced, in the call and in its
    answer, by a stable one of nine letters and digits (a conversation begun with another
    provider, sent to one that checks ids); the rest is unchanged."""
    mapping: dict[str, str] = {}
    taken = {call["id"] for m in wire for call in m.get("tool_calls") or () if valid(call["id"])}

    def new_id(old: str) -> str:
        if old not in mapping:
            candidate, salt = short_id(old), 0
            while candidate in taken:
                salt += 1
                candidate = short_id(f"{old}#{salt}")
            mapping[old] = candidate
            taken.add(candidate)
        return mapping[old]

    out: list[WireMessage] = []
    for message in wire:
        calls = message.get("tool_calls")
        if calls:
            fixed = [c if valid(c["id"]) else {**c, "id": new_id(c["id"])} for c in calls]
            message = {**message, "tool_calls": fixed}
        answered = message.get("tool_call_id")
        if isinstance(answered, str) and not valid(answered):
            message = {**message, "tool_call_id": new_id(answered)}
        out.append(message)
    return out


def without_call_extras(wire: list[WireMessage]) -> list[WireMessage]:
    """``wire`` with the providers' own fields taken off the tool calls (for a server that
    refuses fields it does not know)."""
    out: list[WireMessage] = []
    for message in wire:
        calls = message.get("tool_calls")
        if calls and any(set(c) - _CALL_KEYS for c in calls):
            message = {**message, "tool_calls": [
                {k: v for k, v in c.items() if k in _CALL_KEYS} for c in calls
            ]}  # fmt: skip
        out.append(message)
    return out
