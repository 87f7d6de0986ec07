"""A scripted, OpenAI- and Anthropic-compatible model server on 127.0.0.1, for tests.

Usage::

    from interpreter.testing.fake_server import FakeModelServer, Reply

    with FakeModelServer() as server:        # random free port; .start() / .stop() also exist
        server.url                           # "http://127.0.0.1:PORT/v1" -> llm.api_base
        server.script(
            Reply.text("Hello"),
            Reply.tool_call("python", "print(1)"),
            Reply.text("Let me run it.") + Reply.tool_call("shell", "ls"),
        )                                    # FIFO: one reply per model request
        server.requests                      # JSON bodies received, in order
        server.request_headers               # their headers (lower-cased names)

Replies (a dataclass; combine with ``+``):

- ``Reply.text(content, chunk_size=None)``: streamed in ``chunk_size``-character deltas
  (None: a few words per delta).
- ``Reply.tool_call(language, code, chunk_size=None, call_id=None)``: one call of the
  ``execute`` tool; its JSON arguments stream in pieces.
- ``Reply.raw_arguments(args_string)``: a tool call with arbitrary (maybe broken) arguments.
- ``Reply.status(code, retry_after=None, body=...)``: an HTTP error (429, 500, 401, ...).
- ``Reply.cut(reply, after_events=N)``: the connection drops after N SSE events.
- ``Reply.malformed()``: the stream carries an event that is not JSON.
- ``Reply.delay(seconds, reply=None)``: wait ``seconds`` before each streamed event.
- ``Reply.raw_sse(stream)`` / ``Reply.transcript(path)``: a provider's stream replayed
  byte for byte (tests/fixtures/wire/ holds transcripts of real providers' formats), on
  any route; ``cut_after`` and ``delay`` count its events.
- ``Reply(..., prompt_tokens=..., completion_tokens=..., cached_tokens=...)``: the usage
  reported (sent in the last chunk when the request asks ``stream_options.include_usage``;
  estimated otherwise); cached tokens as OpenAI's ``prompt_tokens_details.cached_tokens``
  and Anthropic's ``cache_read_input_tokens``.

Routes: ``POST /v1/chat/completions`` (SSE when ``stream`` is true, else one
``chat.completion``), ``POST /v1/messages`` (Anthropic Messages API, same script),
``GET /v1/models``, and the local servers' own routes: ``GET /api/tags`` (Ollama's model
list), and with ``context_length=N`` the one route named by ``context_route`` reports it:
``"props"`` (llama.cpp ``GET /props``), ``"show"`` (Ollama ``POST /api/show``, the trained
length only), ``"show_num_ctx"`` (the same with a ``num_ctx N`` parameter), ``"ps"``
(Ollama ``GET /api/ps``, a loaded model), ``"models"`` (vLLM ``max_model_len`` in
``/v1/models``), ``"lmstudio"`` (``GET /api/v0/models``, loaded), ``"lmstudio_unloaded"``
(the same, only ``max_context_length``) or ``"lmstudio_v1"`` (``GET /api/v1/models``).
``models=(...)`` sets the listed model ids; ``get_paths`` records the GET/show paths asked.
It also serves as a plain-HTTP proxy: with ``HTTP_PROXY=http://127.0.0.1:PORT`` a client
sends ``POST http://api.mistral.ai/v1/chat/completions`` here and gets the script's reply,
so a client talking to a provider's host name can be tested offline
(``request_headers[i]["host"]`` is the host it asked for).
With the script empty the server answers 500
``fake server: no scripted reply left``. ``FakeModelServer(responder=fn)`` computes each
reply as ``fn(request_json) -> Reply`` instead. ``FakeModelServer(log_path=...)`` appends
each request to a JSON-lines file.

CLI: ``python -m interpreter.testing.fake_server --port N --script FILE.json --log FILE.jsonl``
where FILE.json is a list of reply objects (see ``Reply.from_dict``); prints
``listening on URL``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .replies import (
    MODEL_NAME,
    Reply,
    ToolCall,
    anthropic_events,
    anthropic_message,
    openai_completion,
    openai_events,
    raw_events,
)

__all__ = ["MODEL_NAME", "NO_REPLY_LEFT", "FakeModelServer", "Reply", "ToolCall", "main"]

NO_REPLY_LEFT = "fake server: no scripted reply left"


# ---------------------------------------------------------------- HTTP


def _error_body(reply: Reply, anthropic: bool) -> dict[str, Any]:
    message = reply.body or f"fake server: scripted status {reply.status_code}"
    kinds = {401: "authentication_error", 429: "rate_limit_error", 400: "invalid_request_error"}
    kind = kinds.get(reply.status_code, "api_error")
    if anthropic:
        return {"type": "error", "error": {"type": kind, "message": message}}
    return {"error": {"message": message, "type": kind, "code": reply.status_code}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Keep test output quiet."""

    def do_GET(self) -> None:
        owner = self.server.owner
        owner.get_paths.append(self.path)
        answer = owner.local_answer(self.path.split("?")[0].rstrip("/"))
        if answer is not None:
            self._send_json(200, answer)
        elif self.path.rstrip("/").endswith("/models"):
            self._send_json(200, owner.models_list(with_limits=owner.context_route == "models"))
        else:
            self._send_json(404, {"error": {"message": f"fake server: no route {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            self._send_json(400, {"error": {"message": "fake server: body is not JSON"}})
            return
        path = self.path.split("?")[0].rstrip("/")
        if path == "/api/show":
            self.server.owner.get_paths.append(path)
            answer = self.server.owner.local_answer(path)
            self._send_json(*((200, answer) if answer else (404, {"error": "no such model"})))
            return
        if not (path.endswith("/chat/completions") or path.endswith("/messages")):
            self._send_json(404, {"error": {"message": f"fake server: no route {self.path}"}})
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.owner.next_reply(request, headers, path)
        if reply is None:
            self._send_json(500, {"error": {"message": NO_REPLY_LEFT, "type": "fake_server"}})
            return
        self._answer(reply, request, anthropic=path.endswith("/messages"))

    def _answer(self, reply: Reply, request: dict[str, Any], anthropic: bool) -> None:
        if reply.raw is not None:
            self._stream(raw_events(reply.raw), reply)
        elif reply.status_code >= 400:
            extra = {"retry-after": reply.retry_after} if reply.retry_after else {}
            self._send_json(reply.status_code, _error_body(reply, anthropic), extra)
        elif request.get("stream"):
            events = (anthropic_events if anthropic else openai_events)(reply, request)
            self._stream(events, reply)
        else:
            body = (anthropic_message if anthropic else openai_completion)(reply, request)
            self._send_json(200, body)

    def _send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, events: Sequence[str | bytes], reply: Reply) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        cut = reply.cut_after is not None
        todo = events[: reply.cut_after] if cut else events
        try:
            self._write_events(todo, reply.chunk_delay)
            if cut:
                self.close_connection = True  # no terminating chunk: the peer sees a cut
                return
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _write_events(self, events: Iterable[str | bytes], delay: float) -> None:
        buffer: list[bytes] = []
        size = 0
        for event in events:
            data = event.encode() if isinstance(event, str) else event
            if delay:
                time.sleep(delay)
                self._write_chunk(data)
                continue
            buffer.append(data)
            size += len(data)
            if size > 65536:
                self._write_chunk(b"".join(buffer))
                buffer, size = [], 0
        if buffer:
            self._write_chunk(b"".join(buffer))

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: FakeModelServer) -> None:
        super().__init__(address, _Handler)
        self.owner = owner

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up is normal here; anything else is printed as usual."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


Responder = Callable[[dict[str, Any]], Reply]


@dataclass
class FakeModelServer:
    """A scripted model server on 127.0.0.1 (see the module docstring)."""

    port: int = 0
    responder: Responder | None = None
    log_path: Path | str | None = None
    host: str = "127.0.0.1"
    requests: list[dict[str, Any]] = field(default_factory=list)
    request_headers: list[dict[str, str]] = field(default_factory=list)
    request_paths: list[str] = field(default_factory=list)
    models: tuple[str, ...] = (MODEL_NAME,)
    context_length: int | None = None
    context_route: str = "props"
    get_paths: list[str] = field(default_factory=list)
    _script: deque[Reply] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The OpenAI-style base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    def script(self, *replies: Reply) -> FakeModelServer:
        """Queue replies, one per coming request (FIFO)."""
        with self._lock:
            self._script.extend(replies)
        return self

    @property
    def pending(self) -> int:
        """How many scripted replies are still unused."""
        return len(self._script)

    def next_reply(
        self, request: dict[str, Any], headers: dict[str, str], path: str
    ) -> Reply | None:
        """Record a request and return the reply to it (None when the script is empty)."""
        with self._lock:
            self.requests.append(request)
            self.request_headers.append(headers)
            self.request_paths.append(path)
            if self.log_path is not None:
                with open(self.log_path, "a", encoding="utf-8") as log:
                    log.write(json.dumps(request) + "\n")
            if self._script:
                return self._script.popleft()
        return self.responder(request) if self.responder is not None else None

    def models_list(self, with_limits: bool = False) -> dict[str, Any]:
        """The ``/v1/models`` answer (vLLM's ``max_model_len`` too when ``with_limits``)."""
        rows: list[dict[str, Any]] = [{"id": m, "object": "model"} for m in self.models]
        if with_limits and self.context_length:
            rows = [{**row, "max_model_len": self.context_length} for row in rows]
        return {"object": "list", "data": rows}

    def local_answer(self, path: str) -> dict[str, Any] | None:
        """The answer of a local server's own route (Ollama, llama.cpp, LM Studio), or None."""
        if path == "/api/tags":
            return {"models": [{"name": m, "model": m} for m in self.models]}
        n, route = self.context_length, self.context_route
        if n is None:
            return None
        answers: dict[tuple[str, str], Callable[[], dict[str, Any]]] = {
            ("/props", "props"): lambda: {
                "default_generation_settings": {"n_ctx": n, "n_predict": -1}
            },
            ("/api/show", "show"): lambda: {
                "model_info": {"general.architecture": "fake", "fake.context_length": n}
            },
            ("/api/show", "show_num_ctx"): lambda: {
                "parameters": f"stop <eot>\nnum_ctx {n}",
                "model_info": {"general.architecture": "fake", "fake.context_length": 4 * n},
            },
            ("/api/ps", "ps"): lambda: {
                "models": [{"name": f"{m}:latest", "model": m, "context_length": n}
                           for m in self.models]  # fmt: skip
            },
            ("/api/v0/models", "lmstudio"): lambda: {
                "data": [{"id": m, "state": "loaded", "loaded_context_length": n,
                          "max_context_length": 4 * n} for m in self.models]  # fmt: skip
            },
            ("/api/v0/models", "lmstudio_unloaded"): lambda: {
                "data": [{"id": m, "state": "not-loaded", "max_context_length": n}
                         for m in self.models]  # fmt: skip
            },
            ("/api/v1/models", "lmstudio_v1"): lambda: {
                "models": [{"key": m, "loaded_instances": [{"id": m, "config": {
                    "context_length": n}}], "max_context_length": 4 * n} for m in self.models]
            },
        }  # fmt: skip
        answer = answers.get((path, route))
        return answer() if answer is not None else None

    def start(self) -> FakeModelServer:
        """Listen (in a background thread) and return self."""
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """Run a fake server from the command line until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m interpreter.testing.fake_server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", type=Path, help="JSON list of reply objects")
    parser.add_argument("--log", type=Path, help="append each request as a JSON line")
    args = parser.parse_args(argv)
    server = FakeModelServer(port=args.port, log_path=args.log)
    if args.script is not None:
        items = json.loads(args.script.read_text(encoding="utf-8"))
        server.script(*(Reply.from_dict(item) for item in items))
    server.start()
    print(f"listening on {server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
