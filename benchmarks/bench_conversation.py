"""A 20-turn execute-then-answer conversation (``chat(msg, display=False)``): each turn the
model calls ``execute`` with a tiny python or shell snippet, then answers with text.

Reports the time per turn, and our own overhead per turn: the time per turn minus the
time the same snippets take in ``computer.run`` (warm, measured in the same process) and
minus the fake server's own round trips (measured with a bare HTTP client). Also reports
the peak memory (``ru_maxrss``) of the Python process after the conversation (kernels and
shells are other processes and do not count). The languages are warmed up first.
"""

from __future__ import annotations

import http.client
import json
import resource
import time
from typing import Any
from urllib.parse import urlparse

import common
from common import OURS, PEER, Measure, Options, Row

PROMPT = "Turn {n}: run the snippet."


def snippet(n: int) -> tuple[str, str]:
    return ("python", f"print({n})") if n % 2 == 0 else ("shell", f"echo {n}")


def responder(fake: Any) -> Any:
    """Answers a user's turn with an ``execute`` call and a tool result with text."""

    def reply(request: dict[str, Any]) -> Any:
        last = request["messages"][-1]
        content = last.get("content")
        if last.get("role") == "user" and isinstance(content, str) and "Turn " in content:
            n = int(content.split("Turn ", 1)[1].split(":", 1)[0])
            return fake.Reply.tool_call(*snippet(n))
        return fake.Reply.text("The snippet ran and printed its number. Done.")

    return reply


# ---------------------------------------------------------------- worker side


def _code_time(interp: Any, turns: int) -> float:
    """Seconds the turns' snippets take in ``computer.run`` alone (warm medians)."""
    per_language = {}
    for n in (0, 1):
        language, code = snippet(n)
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            interp.computer.run(language, code)
            runs.append(time.perf_counter() - started)
        per_language[language] = common.median(runs)
    return sum(per_language[snippet(n)[0]] for n in range(turns))


def _check(messages: list[dict[str, Any]], n: int) -> None:
    outputs = [m for m in messages if m.get("type") == "console" and str(n) in str(m["content"])]
    if not outputs:
        raise RuntimeError(f"turn {n}: no console output in {messages!r:.200}")


def worker(side: str, rest: list[str]) -> dict[str, Any]:
    url, turns = rest[0], int(rest[1])
    interp = common.make_interpreter(side, url)
    try:
        for n in (0, 1):  # start the kernel and the shell
            interp.computer.run(*snippet(n))
        durations = []
        for n in range(turns):
            started = time.perf_counter()
            messages = interp.chat(PROMPT.format(n=n), display=False)
            durations.append(time.perf_counter() - started)
            _check(messages, n)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        code = _code_time(interp, turns)
    finally:
        interp.computer.terminate()
    total = sum(durations)
    return {
        "per_turn": total / turns,
        "median_turn": common.median(durations),
        "code_per_turn": code / turns,
        "rss": rss,
    }


# ---------------------------------------------------------------- driver side


def _raw_round_trip(url: str) -> float:
    """Seconds one streamed request takes with a bare HTTP client."""
    parsed = urlparse(url)
    body = json.dumps(
        {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    )
    started = time.perf_counter()
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=10)
    conn.request("POST", parsed.path + "/chat/completions", body, {"content-type": "json"})
    conn.getresponse().read()
    conn.close()
    return time.perf_counter() - started


def server_time_per_turn(server: Any, fake: Any) -> float:
    """A turn's two model requests (a tool call, then text) with a bare client."""
    tool, text = [], []
    for _ in range(10):
        server.script(fake.Reply.tool_call("python", "print(1)"))
        tool.append(_raw_round_trip(server.url))
        server.script(fake.Reply.text("The snippet ran and printed its number. Done."))
        text.append(_raw_round_trip(server.url))
    return common.median(tool) + common.median(text)


def run_sides(opts: Options, turns: int) -> tuple[dict[str, Any], float]:
    """Each side's worker result (or failure) and the server's own time per turn."""
    fake = common.fake_server_module()
    with fake.FakeModelServer(responder=responder(fake)) as server:
        server_time = server_time_per_turn(server, fake)
        timeout = 60 if opts.quick else 300
        results = {
            side: common.run_worker(
                side, opts, "bench_conversation.py", [server.url, str(turns)], timeout
            )
            for side in (OURS, PEER)
        }
    return results, server_time


def overhead(result: dict[str, Any] | Measure, server_time: float, key: str) -> Measure:
    total, code = common.pick(result, key), common.pick(result, "code_per_turn")
    if total.value is None or code.value is None:
        return total
    return Measure(max(0.0, total.value - code.value - server_time))


def conversation_rows(results: dict[str, Any], server_time: float, turns: int) -> list[Row]:
    def row(key: str, label: str, target: str = "", **kw: Any) -> Row:
        ours, peer = (common.pick(results[s], key) for s in (OURS, PEER))
        return Row(label, "s", ours, peer, target, **kw)

    own = [overhead(results[s], server_time, "per_turn") for s in (OURS, PEER)]
    own_median = [overhead(results[s], server_time, "median_turn") for s in (OURS, PEER)]
    return [
        row("per_turn", f"{turns}-turn conversation: per turn"),
        row("median_turn", "  median turn"),
        row("code_per_turn", "  of which computer.run (warm)"),
        Row("  of which fake server", "s", Measure(server_time), Measure.failed("(shared)")),
        Row("  own overhead per turn (mean)", "s", own[0], own[1], "< 20 ms", limit=0.020),
        Row(
            "  own overhead, median turn", "s", own_median[0], own_median[1], "< 20 ms", limit=0.020
        ),
    ]


def memory_row(results: dict[str, Any], turns: int) -> Row:
    ours, peer = (common.pick(results[s], "rss") for s in (OURS, PEER))
    return Row(f"peak RSS after {turns} turns", "MB", ours, peer, "< 120 MB", limit=120e6)


def turns_for(opts: Options) -> int:
    return 2 if opts.quick else 20


def collect(opts: Options) -> list[Row]:
    turns = turns_for(opts)
    results, server_time = run_sides(opts, turns)
    return conversation_rows(results, server_time, turns) + [memory_row(results, turns)]


if __name__ == "__main__":
    raise SystemExit(common.main_for(collect, __doc__ or "", worker))
