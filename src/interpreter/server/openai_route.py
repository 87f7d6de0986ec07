"""``POST /openai/chat/completions``: the interpreter as an OpenAI-compatible chat model.

The last user message is the input; the session (header ``X-Session-Id``, else the shared
``default`` session) keeps the history. The reply (text, code, output) comes back as one
Markdown message, streamed as SSE ``chat.completion.chunk`` events or whole. Code that
needs approval ends the reply with a question; a next message of "yes" runs it (anything
else declines it). ``{STOP}`` stops the session's run; ``{AUTO_RUN_OFF}`` turns auto-run
off; ``{AUTO_RUN_ON}`` is refused. The request's ``model`` is only named back in the
reply: the model that answers is the operator's (or the session's, see settings_api.py).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ..lmc import Message
from .markdown import MarkdownRenderer
from .sessions import AWAITING, Finished, Run, Session, SessionLimit

if TYPE_CHECKING:
    from fastapi import Request
    from starlette.responses import Response

    from .state import ServerState

MODEL_ID = "open-interpreter"
DEFAULT_SESSION = "default"
YES = frozenset({"yes", "y", "go", "run", "run it"})


class RequestError(Exception):
    """A request the route refuses: ``status`` and a one-line ``message``."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind


def error_body(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind}, "detail": message}


def _text_part(part: Any) -> str:
    if isinstance(part, dict) and part.get("type") == "text":
        return str(part.get("text", ""))
    return ""


def _image_message(part: dict[str, Any]) -> Message:
    url = str((part.get("image_url") or {}).get("url", ""))
    if not url.startswith("data:image/") or ";base64," not in url:
        raise RequestError(400, "images must be data URLs: data:image/png;base64,...")
    head, data = url.split(";base64,", 1)
    return {"role": "user", "type": "image", "format": "base64." + head[11:], "content": data}


def user_input(content: Any) -> list[Message]:
    """The LMC user messages of an OpenAI message's ``content`` (text or parts)."""
    if isinstance(content, str):
        return [{"role": "user", "type": "message", "content": content}]
    if not isinstance(content, list):
        raise RequestError(400, "message content must be a string or a list of parts")
    images = [_image_message(p) for p in content if isinstance(p, dict) and "image_url" in p]
    text = "".join(_text_part(p) for p in content)
    return [*images, {"role": "user", "type": "message", "content": text}]


def last_user_content(body: Any) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise RequestError(400, "the request needs a 'messages' list")
    messages = body["messages"]
    if not messages or not isinstance(messages[-1], dict) or messages[-1].get("role") != "user":
        raise RequestError(400, "the last message must be from the user")
    return messages[-1].get("content", "")


class Exchange:
    """One chat-completion request against a session."""

    def __init__(self, session: Session, model: str) -> None:
        self.session = session
        self.model = model
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())

    async def begin(self, content: Any) -> Run | None:
        """Starts (or resumes, on "yes") the session's run; None for control tokens."""
        session = self.session
        text = content.strip() if isinstance(content, str) else None
        if text == "{STOP}":
            await session.settle()
            return None
        if text == "{AUTO_RUN_ON}":
            raise RequestError(403, "auto-run cannot be switched on through the server", "safety")
        if text == "{AUTO_RUN_OFF}":
            session.interp.auto_run = False
            return None
        run = session.run
        approving = text is not None and text.lower().strip(" .!?") in YES
        if run is not None and run.awaiting and approving:
            run.approve(True)
            return run
        if session.busy:
            raise RequestError(409, "this session is busy with another request", "conflict")
        return await session.start(user_input(content))

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [choice],
        }

    def completion(self, content: str) -> dict[str, Any]:
        message = {"role": "assistant", "content": content}
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }


async def _pieces(run: Run | None) -> AsyncIterator[str | Finished]:
    """The reply's Markdown pieces, then its ``Finished`` (or a clean one at approval)."""
    if run is None:
        yield Finished()
        return
    renderer = MarkdownRenderer()
    try:
        async for event in run:
            if event is AWAITING:
                yield Finished()
                return
            if isinstance(event, Finished):
                yield event
                return
            text = renderer.feed(event)
            if text:
                yield text
    finally:
        if not run.finished and not run.awaiting:
            run.stop()  # the client left mid-reply


def _sse(data: Any) -> str:
    return f"data: {json.dumps(data)}\n\n"


async def _stream(exchange: Exchange, run: Run | None) -> AsyncIterator[str]:
    yield _sse(exchange.chunk({"role": "assistant", "content": ""}))
    async for piece in _pieces(run):
        if isinstance(piece, str):
            yield _sse(exchange.chunk({"content": piece}))
        elif piece.error is not None:
            yield _sse(error_body(piece.error, "model_error"))
            return
    yield _sse(exchange.chunk({}, "stop"))
    yield "data: [DONE]\n\n"


async def _whole(exchange: Exchange, run: Run | None) -> dict[str, Any]:
    parts: list[str] = []
    async for piece in _pieces(run):
        if isinstance(piece, str):
            parts.append(piece)
        elif piece.error is not None:
            raise RequestError(502, piece.error, "model_error")
    return exchange.completion("".join(parts).strip())


async def chat_completions(request: Request, state: ServerState) -> Response:
    """The route's body: parse, pick the session, run, answer."""
    from fastapi.responses import JSONResponse, StreamingResponse

    try:
        body = await request.json()
    except ValueError:
        return JSONResponse(error_body("the body is not JSON", "invalid_request_error"), 400)
    try:
        content = last_user_content(body)
        sid = request.headers.get("x-session-id") or DEFAULT_SESSION
        session = await state.registry.open(sid)
        exchange = Exchange(session, str(body.get("model") or MODEL_ID))
        run = await exchange.begin(content)
        if body.get("stream"):
            return StreamingResponse(_stream(exchange, run), media_type="text/event-stream")
        return JSONResponse(await _whole(exchange, run))
    except SessionLimit as err:
        return JSONResponse(error_body(str(err), "server_full"), 503)
    except RequestError as err:
        return JSONResponse(error_body(err.message, err.kind), err.status)


def models_list() -> dict[str, Any]:
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "local"}]}
