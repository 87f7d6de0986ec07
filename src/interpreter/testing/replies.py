"""Scripted replies of the fake model server, and how each is sent in the OpenAI and the
Anthropic wire formats (streamed as SSE events, or as one JSON body).

``Reply`` and ``ToolCall`` are documented in ``fake_server``; users import them from there
(or from ``interpreter.testing``).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

__all__ = [
    "MODEL_NAME",
    "Reply",
    "ToolCall",
    "anthropic_events",
    "anthropic_message",
    "openai_completion",
    "openai_events",
    "raw_events",
]

MODEL_NAME = "fake-model"
_WORDS = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True)
class ToolCall:
    """One tool call in a reply: the raw ``arguments`` string streams in pieces."""

    arguments: str
    name: str = "execute"
    call_id: str | None = None
    chunk_size: int | None = None


@dataclass(frozen=True)
class Reply:
    """What the fake server answers to one request."""

    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    chunk_size: int | None = None
    status_code: int = 200
    retry_after: str | None = None
    body: str | None = None
    cut_after: int | None = None
    malformed_event: bool = False
    chunk_delay: float = 0.0
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int = 0
    raw: bytes | None = None

    @classmethod
    def raw_sse(cls, stream: str | bytes) -> Reply:
        """A provider's stream as it came, byte for byte (sent whatever the route)."""
        return cls(raw=stream.encode() if isinstance(stream, str) else stream)

    @classmethod
    def transcript(cls, path: str | Path) -> Reply:
        """``raw_sse`` of a transcript file (tests/fixtures/wire/*.sse)."""
        return cls.raw_sse(Path(path).read_bytes())

    @classmethod
    def text(cls, content: str, chunk_size: int | None = None) -> Reply:
        return cls(content=content, chunk_size=chunk_size)

    @classmethod
    def tool_call(
        cls, language: str, code: str, chunk_size: int | None = None, call_id: str | None = None
    ) -> Reply:
        args = json.dumps({"language": language, "code": code})
        return cls(tool_calls=(ToolCall(args, call_id=call_id, chunk_size=chunk_size),))

    @classmethod
    def raw_arguments(
        cls, args_string: str, name: str = "execute", call_id: str | None = None
    ) -> Reply:
        return cls(tool_calls=(ToolCall(args_string, name=name, call_id=call_id),))

    @classmethod
    def status(
        cls, code: int, retry_after: float | str | None = None, body: str | None = None
    ) -> Reply:
        after = None if retry_after is None else str(retry_after)
        return cls(status_code=code, retry_after=after, body=body)

    @classmethod
    def cut(cls, reply: Reply, after_events: int) -> Reply:
        return replace(reply, cut_after=after_events)

    @classmethod
    def malformed(cls, reply: Reply | None = None) -> Reply:
        return replace(reply or cls.text("Hello there"), malformed_event=True)

    @classmethod
    def delay(cls, seconds: float, reply: Reply | None = None) -> Reply:
        return replace(reply or cls(), chunk_delay=seconds)

    def __add__(self, other: Reply) -> Reply:
        return replace(
            self,
            content=self.content + other.content,
            tool_calls=self.tool_calls + other.tool_calls,
            chunk_size=self.chunk_size or other.chunk_size,
            cut_after=self.cut_after if other.cut_after is None else other.cut_after,
            malformed_event=self.malformed_event or other.malformed_event,
            chunk_delay=max(self.chunk_delay, other.chunk_delay),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        """Build a reply from JSON: keys ``text``, ``tool_call`` {language, code},
        ``raw_arguments``, ``status`` (+ ``retry_after``, ``body``), ``chunk_size``,
        ``cut_after``, ``malformed``, ``delay``, ``prompt_tokens``, ``completion_tokens``,
        ``cached_tokens``; or ``raw_sse`` (the stream as text) or ``transcript`` (a file),
        with ``cut_after`` and ``delay``."""
        if "status" in data:
            return cls.status(int(data["status"]), data.get("retry_after"), data.get("body"))
        if "raw_sse" in data or "transcript" in data:
            raw = (
                cls.raw_sse(str(data["raw_sse"]))
                if "raw_sse" in data
                else cls.transcript(str(data["transcript"]))
            )
            delay = float(data.get("delay", 0.0))
            return replace(raw, cut_after=data.get("cut_after"), chunk_delay=delay)
        reply = cls.text(str(data.get("text", "")), data.get("chunk_size"))
        if "tool_call" in data:
            tc = data["tool_call"]
            reply += cls.tool_call(tc["language"], tc["code"], data.get("chunk_size"))
        if "raw_arguments" in data:
            reply += cls.raw_arguments(str(data["raw_arguments"]))
        return replace(
            reply,
            cut_after=data.get("cut_after"),
            malformed_event=bool(data.get("malformed", False)),
            chunk_delay=float(data.get("delay", 0.0)),
            prompt_tokens=data.get("prompt_tokens"),
            completion_tokens=data.get("completion_tokens"),
            cached_tokens=int(data.get("cached_tokens") or 0),
        )

    def usage(self, request: dict[str, Any]) -> tuple[int, int]:
        """(prompt_tokens, completion_tokens): as scripted, else a rough estimate."""
        prompt = self.prompt_tokens
        if prompt is None:
            prompt = max(1, len(json.dumps(request.get("messages", []))) // 4)
        completion = self.completion_tokens
        if completion is None:
            text = self.content + "".join(tc.arguments for tc in self.tool_calls)
            completion = max(1, len(text) // 4)
        return prompt, completion

    def openai_usage(self, request: dict[str, Any]) -> dict[str, Any]:
        """The ``usage`` object of an OpenAI reply (cached tokens in its details)."""
        prompt, completion = self.usage(request)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": min(self.cached_tokens, prompt)},
        }

    def anthropic_input(self, request: dict[str, Any]) -> dict[str, int]:
        """Anthropic's input counts: cache reads apart from ``input_tokens``."""
        prompt, _ = self.usage(request)
        cached = min(self.cached_tokens, prompt)
        return {"input_tokens": prompt - cached, "cache_read_input_tokens": cached}


def _pieces(text: str, size: int | None, default_words: int = 3) -> list[str]:
    """Split ``text`` into ``size``-character pieces (None: a few words each)."""
    if not text:
        return []
    if size:
        return [text[i : i + size] for i in range(0, len(text), size)]
    words = _WORDS.findall(text)
    return ["".join(words[i : i + default_words]) for i in range(0, len(words), default_words)]


_EVENT = re.compile(rb".*?(?:\r\n\r\n|\n\n|\r\r)|.+", re.DOTALL)


def raw_events(raw: bytes) -> list[bytes]:
    """A raw stream cut after each event (its blank line kept), the bytes unchanged."""
    return [m.group(0) for m in _EVENT.finditer(raw)]


def _call_id(tc: ToolCall, index: int) -> str:
    return tc.call_id or f"call_{index}_{uuid.uuid4().hex[:12]}"


# ---------------------------------------------------------------- OpenAI wire format


def _openai_chunk(cid: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL_NAME,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def openai_events(reply: Reply, request: dict[str, Any]) -> list[str]:
    """The SSE ``data:`` payloads of a streamed chat completion (ends with ``[DONE]``)."""
    cid = f"chatcmpl-{uuid.uuid4().hex[:16]}"
    dumps = json.dumps
    out = [dumps(_openai_chunk(cid, {"role": "assistant", "content": ""}))]
    out += [
        dumps(_openai_chunk(cid, {"content": p})) for p in _pieces(reply.content, reply.chunk_size)
    ]
    for i, tc in enumerate(reply.tool_calls):
        head = {"index": i, "id": _call_id(tc, i), "type": "function"}
        head["function"] = {"name": tc.name, "arguments": ""}
        out.append(dumps(_openai_chunk(cid, {"tool_calls": [head]})))
        for piece in _pieces(tc.arguments, tc.chunk_size or reply.chunk_size or 16):
            delta = {"tool_calls": [{"index": i, "function": {"arguments": piece}}]}
            out.append(dumps(_openai_chunk(cid, delta)))
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    out.append(dumps(_openai_chunk(cid, {}, finish)))
    if (request.get("stream_options") or {}).get("include_usage"):
        last = _openai_chunk(cid, {})
        last["choices"], last["usage"] = [], reply.openai_usage(request)
        out.append(dumps(last))
    if reply.malformed_event:
        out.insert(1, '{"choices": [{"delta": {"content": "oops"')
    out.append("[DONE]")
    return [f"data: {line}\n\n" for line in out]


def openai_completion(reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
    """A non-streamed ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": _call_id(tc, i),
                "type": "function",
                "function": {"name": tc.name, "arguments": tc.arguments},
            }
            for i, tc in enumerate(reply.tool_calls)
        ]
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_NAME,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": reply.openai_usage(request),
    }


# ---------------------------------------------------------------- Anthropic wire format


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def _block(index: int, start: dict[str, Any], deltas: list[dict[str, Any]]) -> list[str]:
    """One Anthropic content block: start, deltas, stop."""
    out = [
        _sse(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        )
    ]
    for delta in deltas:
        out.append(
            _sse(
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        )
    out.append(_sse("content_block_stop", {"type": "content_block_stop", "index": index}))
    return out


def _anthropic_blocks(reply: Reply) -> list[str]:
    out: list[str] = []
    if reply.content:
        pieces = _pieces(reply.content, reply.chunk_size)
        out += _block(
            0, {"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in pieces]
        )
    for i, tc in enumerate(reply.tool_calls, start=1 if reply.content else 0):
        tid = tc.call_id or f"toolu_{uuid.uuid4().hex[:16]}"
        start: dict[str, Any] = {"type": "tool_use", "id": tid, "name": tc.name, "input": {}}
        pieces = _pieces(tc.arguments, tc.chunk_size or reply.chunk_size or 16)
        out += _block(i, start, [{"type": "input_json_delta", "partial_json": p} for p in pieces])
    return out


def anthropic_events(reply: Reply, request: dict[str, Any]) -> list[str]:
    """The SSE events of a streamed Anthropic Messages API response."""
    _, completion = reply.usage(request)
    message = {
        "id": f"msg_{uuid.uuid4().hex[:16]}",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": request.get("model", MODEL_NAME),
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**reply.anthropic_input(request), "output_tokens": 1},
    }
    out = [_sse("message_start", {"type": "message_start", "message": message})]
    out += _anthropic_blocks(reply)
    stop = reply.finish_reason or ("tool_use" if reply.tool_calls else "end_turn")
    delta = {"stop_reason": stop, "stop_sequence": None}
    out.append(
        _sse(
            "message_delta",
            {"type": "message_delta", "delta": delta, "usage": {"output_tokens": completion}},
        )
    )
    if reply.malformed_event:
        out.insert(1, "event: content_block_delta\ndata: {not json\n\n")
    out.append(_sse("message_stop", {"type": "message_stop"}))
    return out


def anthropic_message(reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
    """A non-streamed Anthropic ``message`` object."""
    content: list[dict[str, Any]] = []
    if reply.content:
        content.append({"type": "text", "text": reply.content})
    for i, tc in enumerate(reply.tool_calls):
        try:
            args: Any = json.loads(tc.arguments)
        except ValueError:
            args = {}
        content.append({"type": "tool_use", "id": _call_id(tc, i), "name": tc.name, "input": args})
    _, completion = reply.usage(request)
    return {
        "id": f"msg_{uuid.uuid4().hex[:16]}",
        "type": "message",
        "role": "assistant",
        "content": content,
        "model": request.get("model", MODEL_NAME),
        "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
        "usage": {**reply.anthropic_input(request), "output_tokens": completion},
    }
