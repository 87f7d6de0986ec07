"""The ``interpreter`` CLI in a pseudo-terminal, ours against Open Interpreter 0.4.3:
start-to-prompt time (best of N), and the time from sending a message (1 s after the
prompt, as a user types) to the end of rendering a 2 KB / 32 KB / 200 KB reply (the next
prompt on screen; 0.4.3's runs are capped by ``--timeout``). The pty answers
cursor-position requests as a real terminal does, so neither side waits on terminal
queries. bench_terminal.py has the finer figures (first text, lag behind arrival)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import common
from common import OURS, PEER, Measure, Options, Row

CPR_QUERY = "\x1b[6n"
CPR_ANSWER = "\x1b[1;1R"
PROMPT = re.compile(r"(?<!\[)>(?: |\x08|\x1b\[\d*C)")  # "> ", not a "\x1b[>" sequence
MARKER = "ZZENDOFREPLYZZ"
SIZES = {"2 KB": 2_000, "32 KB": 32_000, "200 KB": 200_000}
ROWS, COLS = 40, 120
TYPING_S = 1.0  # the pause between the prompt and the message (a user typing)


class Pty:
    """A CLI in a pseudo-terminal, read with a rolling window (outputs can be huge)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        import pexpect

        self._eof, self._timeout = pexpect.EOF, pexpect.TIMEOUT
        self.child = pexpect.spawn(
            argv[0],
            argv[1:],
            env=env,
            dimensions=(ROWS, COLS),
            encoding="utf-8",
            codec_errors="replace",
            timeout=5,
        )
        self.child.delaybeforesend = None  # pexpect sleeps 50 ms before each send otherwise
        self.tail = ""
        self._last = ""  # the end of the output read so far (a CPR query split across reads)

    def wait_for(self, pattern: re.Pattern[str], deadline: float) -> bool:
        """Read until ``pattern`` shows up in output not matched yet (answering CPR);
        False on timeout. What follows the match is kept for the next wait."""
        while True:
            found = pattern.search(self.tail)
            if found:
                self.tail = self.tail[found.end() :]
                return True
            if time.perf_counter() >= deadline:
                return False
            try:
                data = self.child.read_nonblocking(65536, timeout=0.2)
            except self._timeout:
                continue
            except self._eof:
                return False
            self._answer_cpr(data)
            self.tail = (self.tail + data)[-8192:]

    def _answer_cpr(self, data: str) -> None:
        window = self._last + data
        for _ in range(window.count(CPR_QUERY) - self._last.count(CPR_QUERY)):
            self.child.send(CPR_ANSWER)
        self._last = window[-8:]

    def close(self) -> None:
        self.child.terminate(force=True)


def cli_argv(side: str, opts: Options, url: str) -> list[str] | None:
    python = common.side_python(side, opts)
    if python is None:
        return None
    script = Path(python).parent / "interpreter"
    args = ["--api_base", url, "--model", "gpt-4o", "--api_key", "x"]
    if script.exists():
        return [str(script), *args]
    return [python, "-c", "from interpreter.terminal.cli import main; main()", *args]


def start_to_prompt(argv: list[str], env: dict[str, str], limit: float) -> tuple[Pty, Measure]:
    started = time.perf_counter()
    pty = Pty(argv, env)
    if pty.wait_for(PROMPT, started + limit):
        return pty, Measure(time.perf_counter() - started)
    return pty, Measure.timeout(limit) if pty.child.isalive() else Measure.failed("error: exit")


def startup_time(side: str, opts: Options, url: str, runs: int) -> Measure:
    argv = cli_argv(side, opts, url)
    if argv is None:
        return Measure.failed("skipped")
    best: Measure | None = None
    for _ in range(runs):
        pty, measure = start_to_prompt(argv, common.worker_env(side), opts.timeout)
        pty.close()
        if not measure.ok or measure.at_least:
            return measure
        if best is None or (measure.value or 0) < (best.value or 0):
            best = measure
    return best or Measure.failed("no runs")


def render_time(side: str, opts: Options, url: str, limit: float) -> Measure:
    """From sending a message to the next prompt, the scripted reply rendered in between
    (sent ``TYPING_S`` after the prompt showed, as a user types)."""
    argv = cli_argv(side, opts, url)
    if argv is None:
        return Measure.failed("skipped")
    pty, measure = start_to_prompt(argv, common.worker_env(side), opts.timeout)
    try:
        if not measure.ok or measure.at_least:
            return measure
        time.sleep(TYPING_S)
        started = time.perf_counter()
        pty.child.sendline("Write the text.")
        deadline = started + limit
        if not pty.wait_for(re.compile(MARKER), deadline):
            return Measure.timeout(limit) if pty.child.isalive() else Measure.failed("error: exit")
        if not pty.wait_for(PROMPT, deadline):
            return Measure.timeout(limit)
        return Measure(time.perf_counter() - started)
    finally:
        pty.close()


def reply_text(size: int) -> str:
    """Markdown of about ``size`` characters: paragraphs, a list, a code block, the marker."""
    para = "Open Interpreter lets a model run code; this paragraph is **filler** text. " * 3
    block = "- an item with `code`\n- another item\n\n```python\nprint('hello')\n```\n\n"
    out: list[str] = []
    while sum(map(len, out)) < size - 40:
        out.append(para.strip() + "\n\n" + block)
    return "".join(out)[: size - 40] + f"\n\n{MARKER}\n"


def collect(opts: Options) -> list[Row]:
    fake = common.fake_server_module()
    sizes = {"2 KB": 2_000} if opts.quick else SIZES
    replies: dict[int, Any] = {n: fake.Reply.text(reply_text(n)) for n in sizes.values()}
    current: dict[str, int] = {"size": 2_000}
    rows: list[Row] = []
    with fake.FakeModelServer(responder=lambda _r: replies[current["size"]]) as server:
        runs = {OURS: 1 if opts.quick else 5, PEER: 1 if opts.quick else 2}
        ours, peer = (startup_time(s, opts, server.url, runs[s]) for s in (OURS, PEER))
        rows.append(Row("CLI start to prompt (pty)", "s", ours, peer, "< 150 ms", limit=0.15))
        peer_cut: Measure | None = None  # once a smaller reply hit the cap, skip bigger ones
        for label, size in sizes.items():
            current["size"] = size
            ours = render_time(OURS, opts, server.url, 60.0)
            peer = peer_cut or render_time(PEER, opts, server.url, render_cap(opts))
            peer_cut = peer if peer.at_least else None
            rows.append(Row(f"render {label} reply in pty", "s", ours, peer))
    return rows


def render_cap(opts: Options) -> float:
    """The cap on one 0.4.3 render run (it re-renders the whole reply per chunk)."""
    return min(opts.timeout, 60.0)


if __name__ == "__main__":
    raise SystemExit(common.main_for(collect, __doc__ or ""))
