"""Faults between us and the model: rate limits, server errors, cut and malformed streams."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from interpreter.llm.errors import ProviderError, RateLimited, StreamCut
from interpreter.llm.events import CodeDelta, CodeEnd, Event, TextDelta, Usage
from interpreter.llm.llm import Llm
from interpreter.llm.retry import parse_retry_after
from interpreter.testing.fake_server import FakeModelServer, Reply

MESSAGES = [{"role": "user", "type": "message", "content": "hi"}]


def stream(llm: Llm) -> Iterator[Event]:
    return llm.stream(MESSAGES, system_message="sys", languages=["python", "shell"])


def test_429_waits_for_retry_after_then_succeeds(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.status(429, retry_after=1, body="slow down"), Reply.text("ok"))
    start = time.monotonic()
    events = list(stream(llm))
    waited = time.monotonic() - start
    assert 1.0 <= waited < 2.5
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("ok")]
    assert len(server.requests) == 2


def test_500_is_retried_then_ok(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.status(500), Reply.status(503), Reply.text("fine"))
    events = list(stream(llm))
    assert TextDelta("fine") in events and len(server.requests) == 3


def test_retries_are_bounded(llm: Llm, server: FakeModelServer) -> None:
    llm.max_retries = 2
    server.script(*[Reply.status(429, retry_after=0, body="busy")] * 5)
    with pytest.raises(RateLimited, match="busy"):
        list(stream(llm))
    assert len(server.requests) == 3


def test_retry_after_beyond_the_cap_fails_at_once(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.status(429, retry_after=3600, body="come back later"))
    start = time.monotonic()
    with pytest.raises(RateLimited, match="come back later"):
        list(stream(llm))
    assert time.monotonic() - start < 1 and len(server.requests) == 1


def test_401_is_not_retried(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.status(401, body="Incorrect API key provided"), Reply.text("never"))
    with pytest.raises(ProviderError, match="invalid API key") as info:
        list(stream(llm))
    assert info.value.status == 401 and "Incorrect API key provided" in str(info.value)
    assert len(server.requests) == 1


def test_400_shows_the_provider_message(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.status(400, body="messages: bad\nrole"))
    with pytest.raises(ProviderError, match="HTTP 400") as info:
        list(stream(llm))
    assert "messages: bad role" in str(info.value) and "\n" not in str(info.value)
    assert len(server.requests) == 1


def test_cut_tool_call_raises_and_never_completes(llm: Llm, server: FakeModelServer) -> None:
    reply = Reply.tool_call("python", "import os\nos.remove('x')", chunk_size=3)
    server.script(Reply.cut(reply, after_events=16), Reply.text("retry must not happen"))
    seen: list[Event] = []
    with pytest.raises(StreamCut):
        seen.extend(stream(llm))
    assert any(isinstance(e, CodeDelta) for e in seen)
    assert not any(isinstance(e, (CodeEnd, Usage)) for e in seen)
    assert len(server.requests) == 1


def test_cut_text_is_not_glued_to_a_retry(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.cut(Reply.text("a b c d e f", chunk_size=1), 4), Reply.text("again"))
    seen: list[Event] = []
    with pytest.raises(StreamCut):
        seen.extend(stream(llm))
    assert "again" not in "".join(e.text for e in seen if isinstance(e, TextDelta))


def test_cut_before_anything_arrived_is_retried(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.cut(Reply.text("lost"), after_events=1), Reply.text("second try"))
    events = list(stream(llm))
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("second try")]
    assert len(server.requests) == 2


def test_malformed_event_is_a_clear_error(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.malformed())
    with pytest.raises(ProviderError, match="malformed") as info:
        list(stream(llm))
    assert "\n" not in str(info.value)


def test_broken_tool_json_is_reported_not_run(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.raw_arguments('{"language": "python", "code": "print(1)'))
    ends = [e for e in stream(llm) if isinstance(e, CodeEnd)]
    assert len(ends) == 1 and ends[0].error


def test_unreachable_server_is_a_one_line_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    llm = Llm()
    llm.model, llm.api_base, llm.max_retries = "m", f"http://127.0.0.1:{port}/v1", 1
    with pytest.raises(ProviderError, match="cannot reach"):
        list(stream(llm))


def test_parse_retry_after() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = parse_retry_after(formatdate(time.time() + 30, usegmt=True))
    assert later is not None and 25 < later <= 31


class _NotAStream(BaseHTTPRequestHandler):
    """Answers every POST with a 200 web page, as a wrong api_base might."""

    hits = 0

    def do_POST(self) -> None:
        type(self).hits += 1
        body = b"<html>a web page, not a model</html>"
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def test_an_answer_that_is_not_an_event_stream_is_one_clear_line() -> None:
    web = ThreadingHTTPServer(("127.0.0.1", 0), _NotAStream)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    llm = Llm()
    llm.model, llm.api_base = "m", f"http://127.0.0.1:{web.server_address[1]}/v1"
    llm.context_window = 100_000  # nothing asks the server about its model
    try:
        with pytest.raises(ProviderError, match="did not stream its answer") as info:
            list(stream(llm))
    finally:
        web.shutdown()
        web.server_close()
        llm.close()
    assert "text/html" in str(info.value) and "\n" not in str(info.value)
    assert _NotAStream.hits == 1  # not retried: it would not change
