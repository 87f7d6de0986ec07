"""A long streamed reply: 200 KB of text in 4-character chunks through
``chat(msg, display=False)``, ours against Open Interpreter 0.4.3 (whose run is capped by
``--timeout``). The fake server's own time is measured with a bare HTTP client."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlparse

import common
from common import OURS, PEER, Measure, Options, Row

CHUNK = 4


def reply_text(size: int) -> str:
    """``size`` characters of Markdown-ish prose, many lines."""
    line = "The quick brown fox jumps over the lazy dog; line {n:06d} of the reply.\n"
    out, n = [], 0
    total = 0
    while total < size:
        piece = line.format(n=n)
        out.append(piece)
        total += len(piece)
        n += 1
    return "".join(out)[:size]


def worker(side: str, rest: list[str]) -> dict[str, Any]:
    url, size = rest[0], int(rest[1])
    interp = common.make_interpreter(side, url)
    started = time.perf_counter()
    messages = interp.chat("Write a long text.", display=False)
    elapsed = time.perf_counter() - started
    replies = [m for m in messages if m.get("role") == "assistant" and m.get("type") == "message"]
    text = "".join(m.get("content", "") for m in replies)
    if len(text.strip()) < size * 0.99:
        raise RuntimeError(f"got {len(text)} characters of {size}")
    return {"elapsed": elapsed}


def raw_read_time(url: str) -> float:
    """Seconds a bare HTTP client takes to read the next scripted reply."""
    parsed = urlparse(url)
    body = json.dumps(
        {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    )
    started = time.perf_counter()
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=60)
    conn.request("POST", parsed.path + "/chat/completions", body, {"content-type": "json"})
    conn.getresponse().read()
    conn.close()
    return time.perf_counter() - started


def collect(opts: Options) -> list[Row]:
    size = 20_000 if opts.quick else 200_000
    fake = common.fake_server_module()
    reply = fake.Reply.text(reply_text(size), chunk_size=CHUNK)
    results: dict[str, Any] = {}
    with fake.FakeModelServer(responder=lambda _request: reply) as server:
        raw = raw_read_time(server.url)
        for side in (OURS, PEER):
            timeout = 60.0 if side == OURS else opts.timeout
            args = [server.url, str(size)]
            results[side] = common.run_worker(side, opts, "bench_stream.py", args, timeout)
    label = f"{size // 1000} KB reply in {CHUNK}-char chunks, display=False"
    ours, peer = (common.pick(results[s], "elapsed") for s in (OURS, PEER))
    return [
        Row(label, "s", ours, peer, "< 2 s", limit=2.0),
        Row(
            "  of which fake server (bare HTTP read)", "s", Measure(raw), Measure.failed("(shared)")
        ),
    ]


if __name__ == "__main__":
    raise SystemExit(common.main_for(collect, __doc__ or "", worker))
