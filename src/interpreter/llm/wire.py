"""LMC messages -> OpenAI chat messages, and the provider-neutral pieces of a streamed reply.

Function-calling models: assistant code becomes a call of the one tool ``execute``
(arguments ``{"language", "code"}``) and the console output after it the matching ``tool``
message (``"No output"`` when empty). Text models: code becomes a fenced Markdown block in
the assistant's text and its output a user message. Images become ``image_url`` parts only
for vision models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..lmc import Message

WireMessage = dict[str, Any]

TOOL_NAME = "execute"
NO_OUTPUT = "No output"
CODE_OUTPUT_TEMPLATE = (
    "Code output: {content}\n\n"
    "What does this output mean / what's next (if anything, or are we done)?"
)
EMPTY_CODE_OUTPUT_TEMPLATE = (
    "The code above was executed on my machine. It produced no text output. "
    "What's next (if anything, or are we done?)"
)
NO_VISION = "[An image was shown to the user here; this model cannot see images.]"


@dataclass(frozen=True)
class TextPiece:
    """Streamed assistant text."""

    text: str


@dataclass(frozen=True)
class ToolPiece:
    """A piece of tool call number ``index``: its id and name come with the first piece."""

    index: int
    arguments: str
    call_id: str | None = None
    name: str | None = None


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
    options: WireOptions
    out: list[WireMessage] = field(default_factory=list)
    call_id: str | None = None  # the tool call waiting for its output
    after_code: bool = False  # text models: output follows a code block
    outputs: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0

    def add(self, m: Message) -> None:
        role, kind, fmt = m.get("role"), m.get("type"), m.get("format")
        if role == "assistant" and kind == "code":
            self.code(str(fmt or "python"), str(m.get("content", "")))
        elif role == "computer" and kind == "console":
            if fmt != "active_line":
                self.outputs.append(str(m.get("content") or ""))
        elif kind == "image":
            self.image(m)
        elif role == "computer" and kind == "code":
            self.outputs.append(f"({fmt} output was displayed to the user)")
        elif kind == "message" and role in ("user", "assistant", "system"):
            self.flush()
            self.text("user" if role == "system" else str(role), str(m.get("content", "")))
        elif kind == "file":
            self.flush()
            self.text("user", f"File: {m.get('content', '')}")

    def code(self, language: str, code: str) -> None:
        self.flush()
        if not self.options.functions:
            self.text("assistant", f"```{language}\n{code}\n```")
            self.after_code = True
            return
        self.call_id = f"call_{self.calls}"
        self.calls += 1
        arguments = json.dumps({"language": language, "code": code})
        function = {"name": TOOL_NAME, "arguments": arguments}
        call: dict[str, Any] = {"id": self.call_id, "type": "function", "function": function}
        last = self.out[-1] if self.out else None
        if last is not None and last["role"] == "assistant":
            last.setdefault("tool_calls", []).append(call)
        else:
            self.out.append({"role": "assistant", "content": None, "tool_calls": [call]})

    def image(self, m: Message) -> None:
        if not self.options.vision:
            if m.get("role") == "computer":
                self.outputs.append(NO_VISION)
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
        """Write the output collected since the last code block."""
        output = "\n".join(o for o in self.outputs if o).strip()
        if self.call_id is not None:
            self.out.append(
                {"role": "tool", "tool_call_id": self.call_id, "content": output or NO_OUTPUT}
            )
        elif self.after_code or output:
            o = self.options
            text = (
                o.code_output_template.replace("{content}", output)
                if output
                else o.empty_code_output_template
            )
            self.text("assistant" if o.code_output_sender == "assistant" else "user", text)
        if self.images:
            self.parts("user", self.images)
        self.call_id, self.after_code, self.outputs, self.images = None, False, [], []

    def text(self, role: str, text: str) -> None:
        last = self.out[-1] if self.out else None
        if last is None or last["role"] != role or last.get("tool_calls"):
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
