"""How responsive the ``interpreter`` CLI feels in a pseudo-terminal (120x40), ours against
Open Interpreter 0.4.3, with a fake model that answers at once:

- Enter to the first reply text on screen (median of the runs);
- a reply on screen after its last byte left the server (2 KB, 32 KB, 200 KB of Markdown):
  how far rendering lags behind arrival;
- the first code run's wait: from the last byte of the model's tool call to the next
  request (the code ran and its output went back), the first run of a session and a
  later, warm one; the kernel start shows in the first.

Each run starts the CLI, waits for the prompt, then 1 s (a user typing) before sending.
The fake server's last write of each reply is timed in this process (same clock as the
pty reads). Timings only: correctness is checked by the tests (tests/test_terminal_pty.py).
"""

from __future__ import annotations

import re
import time
from typing import Any

import common
from bench_startup import (
    MARKER,
    PROMPT,
    TYPING_S,
    Pty,
    cli_argv,
    reply_text,
    start_to_prompt,
)
from common import OURS, PEER, Measure, Options, Row

FIRST = "FIRSTWORD"
RAN = "ZZCODERANZZ"
SIZES = {"2 KB": (2_000, 0.05), "32 KB": (32_000, None), "200 KB": (200_000, 0.3)}


class Script:
    """What the fake server answers, and when it wrote each reply's last byte."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.mode = "text"
        self.size = 2_000
        self.count = 0
        self.requested: list[float] = []
        self.sent: list[float] = []

    def reply(self, request: dict[str, Any]) -> Any:
        self.requested.append(time.perf_counter())
        self.count += 1
        reply = self.fake.Reply
        if self.mode == "first":
            return reply.text(f"{FIRST} is the first word of this short answer.\n\n{MARKER}\n")
        if self.mode == "code":
            if self.count % 2:
                return reply.tool_call("python", f"print('{RAN}')")
            return reply.text(f"The code ran.\n\n{MARKER}\n")
        return reply.text(reply_text(self.size))

    def reset(self, mode: str, size: int = 2_000) -> None:
        self.mode, self.size, self.count = mode, size, 0
        self.requested.clear()
        self.sent.clear()


def time_last_bytes(fake: Any, script: Script) -> None:
    """Note when the fake server finished writing each streamed reply (benchmark only:
    it wraps the server's private ``_stream``)."""
    handler = fake._Handler
    original = handler._stream

    def stream(self: Any, events: Any, reply: Any) -> None:
        original(self, events, reply)
        script.sent.append(time.perf_counter())

    handler._stream = stream


def session(side: str, opts: Options, url: str, *extra: str) -> tuple[Pty | None, Measure]:
    argv = cli_argv(side, opts, url)
    if argv is None:
        return None, Measure.failed("skipped")
    pty, measure = start_to_prompt([*argv, *extra], common.worker_env(side), opts.timeout)
    if not measure.ok or measure.at_least:
        pty.close()
        return None, measure
    time.sleep(TYPING_S)
    return pty, measure


def send(pty: Pty, text: str) -> float:
    sent = time.perf_counter()
    pty.child.send(text + "\r")
    return sent


def first_text(side: str, opts: Options, url: str, script: Script, runs: int) -> Measure:
    """Enter to the first words of a short reply, median of ``runs`` sessions."""
    figures: list[float] = []
    for _ in range(runs):
        script.reset("first")
        pty, failed = session(side, opts, url)
        if pty is None:
            return failed
        try:
            sent = send(pty, "Say something short.")
            if not pty.wait_for(re.compile(FIRST), sent + 30):
                return Measure.timeout(30)
            figures.append(time.perf_counter() - sent)
            pty.wait_for(PROMPT, time.perf_counter() + 30)
        finally:
            pty.close()
    return Measure(common.median(figures))


def after_last_byte(side: str, opts: Options, url: str, script: Script, size: int) -> Measure:
    """From the server's last byte of a ``size`` reply to its end on screen."""
    script.reset("text", size)
    pty, failed = session(side, opts, url)
    if pty is None:
        return failed
    cap = render_cap(side, opts)
    try:
        sent = send(pty, "Write the text.")
        if not pty.wait_for(re.compile(MARKER), sent + cap):
            return Measure.timeout(cap) if pty.child.isalive() else Measure.failed("error: exit")
        shown = time.perf_counter()
        deadline = shown + 2
        while not script.sent and time.perf_counter() < deadline:
            time.sleep(0.005)  # the server thread notes its last write after writing it
        if not script.sent:
            return Measure.failed("no reply sent")
        return Measure(max(shown - script.sent[-1], 0.0))
    finally:
        pty.close()


def render_cap(side: str, opts: Options) -> float:
    return 60.0 if side == OURS else min(opts.timeout, 60.0)


def code_runs(side: str, opts: Options, url: str, script: Script) -> tuple[Measure, Measure]:
    """The first code run's wait and a later one's, in one auto-run session."""
    script.reset("code")
    pty, failed = session(side, opts, url, "-y")
    if pty is None:
        return failed, failed
    try:
        first = _one_code_turn(pty, script, 0)
        if not first.ok:
            return first, first
        return first, _one_code_turn(pty, script, 2)
    finally:
        pty.close()


def _one_code_turn(pty: Pty, script: Script, index: int) -> Measure:
    started = send(pty, "Run some code.")
    if not pty.wait_for(re.compile(MARKER), started + 60):
        return Measure.timeout(60) if pty.child.isalive() else Measure.failed("error: exit")
    pty.wait_for(PROMPT, time.perf_counter() + 30)
    if len(script.requested) < index + 2 or len(script.sent) < index + 1:
        return Measure.failed("the code did not run")
    return Measure(script.requested[index + 1] - script.sent[index])


def collect(opts: Options) -> list[Row]:
    fake = common.fake_server_module()
    script = Script(fake)
    time_last_bytes(fake, script)
    sizes = {"2 KB": SIZES["2 KB"]} if opts.quick else SIZES
    rows: list[Row] = []
    with fake.FakeModelServer(responder=script.reply) as server:
        url = server.url
        runs = {OURS: 1 if opts.quick else 5, PEER: 1 if opts.quick else 2}
        ours, peer = (first_text(s, opts, url, script, runs[s]) for s in (OURS, PEER))
        rows.append(Row("Enter to first reply text (pty)", "s", ours, peer, "< 100 ms", limit=0.1))
        peer_cut: Measure | None = None  # once a smaller reply hit the cap, skip bigger ones
        for label, (size, limit) in sizes.items():
            ours = after_last_byte(OURS, opts, url, script, size)
            peer = peer_cut or after_last_byte(PEER, opts, url, script, size)
            peer_cut = peer if peer.at_least else None
            target = f"< {limit * 1000:.0f} ms" if limit else ""
            metric = f"{label} reply on screen, after its last byte"
            rows.append(Row(metric, "s", ours, peer, target, limit=limit))
        (ours, ours_warm), (peer, peer_warm) = (
            code_runs(s, opts, url, script) for s in (OURS, PEER)
        )
        rows.append(Row("first code run: wait (pty, -y)", "s", ours, peer, "< 100 ms", limit=0.1))
        rows.append(Row("  a later code run: wait", "s", ours_warm, peer_warm))
    return rows


if __name__ == "__main__":
    raise SystemExit(common.main_for(collect, __doc__ or ""))
