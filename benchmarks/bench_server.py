"""Server load benchmark: sessions per second and p50/p99 latency, ours vs Open Interpreter 0.4.3.

Each session: open a websocket, authenticate, send ``task N``, get the model's shell call
(``echo answer-N``) run (auto-run is on at the server), get the model's final answer,
read up to the ``complete`` status, close. One scripted fake model (in this process)
serves both servers. Bounded: at most ``--sessions`` sessions and ``--budget`` seconds
per measurement, loopback only.

0.4.3's server has one interpreter for every connection, so concurrent sessions share
(and mix) one conversation; it is measured one session at a time (the fair comparison),
and also at our concurrency, counting how many sessions got their own answer.
0.4.3 runs from /tmp/oi with its server extras from /tmp/oi-server-path when present
(``pip install --target`` of fastapi 0.111 / uvicorn 0.30 / janus, kept outside its venv).

    /work/venv/bin/python benchmarks/bench_server.py [--sessions 50] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from interpreter.testing.fake_server import FakeModelServer, Reply  # noqa: E402

PEER_PYTHON = Path("/tmp/oi/bin/python")
PEER_EXTRAS = Path("/tmp/oi-server-path")
TOKEN = "bench-token-0123456789"

OURS_LAUNCH = """
import sys
from interpreter import OpenInterpreter
from interpreter.server.app import serve
i = OpenInterpreter(load_profile=False)
i.llm.model, i.llm.api_base, i.llm.api_key = "gpt-4o", sys.argv[1], "sk-fake"
i.auto_run, i.conversation_history = True, False
raise SystemExit(serve(i, "127.0.0.1", int(sys.argv[2])))
"""

PEER_LAUNCH = """
import sys
from interpreter import AsyncInterpreter
ai = AsyncInterpreter()
ai.llm.model, ai.llm.api_base, ai.llm.api_key = "gpt-4o", sys.argv[1], "sk-fake"
ai.llm.supports_functions = True
ai.auto_run, ai.conversation_history, ai.disable_telemetry = True, False, True
ai.server.run(host="127.0.0.1", port=int(sys.argv[2]))
"""


def responder(request: dict[str, Any]) -> Reply:
    """``task N`` -> a shell call ``echo answer-N``; after its output -> ``final answer-N``."""
    messages = request["messages"]
    last_task = max(
        (i for i, m in enumerate(messages) if re.search(r"task \d+", str(m.get("content")))),
        default=-1,
    )
    number = (
        re.search(r"task (\d+)", str(messages[last_task].get("content")))
        if last_task >= 0
        else None
    )
    n = number.group(1) if number else "?"
    ran = any(
        m.get("role") in ("tool", "assistant") and m.get("tool_calls") for m in messages[last_task:]
    )
    return Reply.text(f"final answer-{n}") if ran else Reply.tool_call("shell", f"echo answer-{n}")


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    correct: int = 0
    failed: int = 0
    wall: float = 0.0
    note: str = ""

    def line(self, label: str) -> str:
        if not self.latencies:
            return f"{label:<34} no completed session ({self.note})"
        lat = sorted(self.latencies)
        p50 = statistics.median(lat)
        p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
        rate = len(lat) / self.wall if self.wall else 0.0
        return (
            f"{label:<34} {rate:7.2f} sessions/s  p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms"
            f"  own answer {self.correct}/{len(lat) + self.failed}"
        )

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall and self.latencies else 0.0


def one_session(port: int, n: int, timeout: float) -> tuple[float, bool]:
    """One exchange; returns (seconds, whether the final answer was this session's own)."""
    from websockets.sync.client import connect

    began = time.perf_counter()
    texts: list[str] = []
    with connect(f"ws://127.0.0.1:{port}/", open_timeout=timeout) as ws:
        ws.send(json.dumps({"auth": TOKEN}))
        if json.loads(ws.recv(timeout=timeout)).get("auth") is not True:
            raise RuntimeError("authentication refused")
        for chunk in (
            {"role": "user", "start": True},
            {"role": "user", "type": "message", "content": f"task {n}"},
            {"role": "user", "end": True},
        ):
            ws.send(json.dumps(chunk))
        while True:
            data = json.loads(ws.recv(timeout=timeout))
            if data.get("role") == "server" and data.get("content") == "complete":
                break
            if data.get("role") == "server" and data.get("type") == "error":
                raise RuntimeError(str(data.get("content"))[:200])
            if data.get("type") == "message" and isinstance(data.get("content"), str):
                texts.append(data["content"])
    return time.perf_counter() - began, "".join(texts).strip() == f"final answer-{n}"


def measure(port: int, sessions: int, concurrency: int, budget: float, first: int) -> Result:
    result = Result()
    deadline = time.monotonic() + budget
    lock = threading.Lock()

    def work(n: int) -> None:
        if time.monotonic() > deadline:
            return
        try:
            seconds, own = one_session(port, n, timeout=min(20.0, budget))
        except Exception as err:  # counted, reported
            with lock:
                result.failed += 1
                result.note = f"{type(err).__name__}: {err}"[:160]
            return
        with lock:
            result.latencies.append(seconds)
            result.correct += own

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(work, range(first, first + sessions)))
    result.wall = time.perf_counter() - began
    return result


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_alive(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/heartbeat", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not up after {timeout:.0f} s")


def launch(
    python: Path, script: str, model_url: str, env_extra: dict[str, str], log: Path
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    home = tempfile.mkdtemp(prefix="bench-server-")
    env = {
        **os.environ,
        "INTERPRETER_API_KEY": TOKEN,
        "HOME": home,
        "XDG_CONFIG_HOME": f"{home}/config",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "OPENAI_API_KEY": "sk-fake",
        **env_extra,
    }
    out = log.open("wb")
    proc = subprocess.Popen(
        [str(python), "-c", script, model_url, str(port)],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=home,
    )
    return proc, port


def run_side(
    name: str,
    start: Callable[[], tuple[subprocess.Popen[bytes], int]],
    plans: list[tuple[str, int, int]],
    budget: float,
) -> dict[str, Result]:
    proc, port = start()
    results: dict[str, Result] = {}
    try:
        wait_alive(port, proc, 60)
        one_session(port, 0, 30)  # warm-up: first model call, first shell start
        first = 1
        for label, sessions, concurrency in plans:
            results[label] = measure(port, sessions, concurrency, budget, first)
            first += sessions
    except Exception as err:
        results["error"] = Result(note=f"{name}: {type(err).__name__}: {err}")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return results


def peer_problem() -> str | None:
    if not PEER_PYTHON.exists():
        return f"{PEER_PYTHON} not found"
    env = {**os.environ, "PYTHONPATH": str(PEER_EXTRAS)}
    probe = subprocess.run(
        [str(PEER_PYTHON), "-c", "import fastapi, uvicorn, janus"],
        env=env,
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return (
            "0.4.3's server extras (fastapi, uvicorn, janus) are not importable: "
            + probe.stderr.strip().splitlines()[-1]
        )
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--budget", type=float, default=12.0, help="seconds per measurement")
    args = parser.parse_args()
    sessions = min(args.sessions, 50)
    plans = [
        ("sequential (1 at a time)", sessions, 1),
        (f"concurrent ({args.concurrency} at a time)", sessions, args.concurrency),
    ]
    logs = Path(tempfile.mkdtemp(prefix="bench-server-logs-"))
    with FakeModelServer(responder=responder) as model:
        ours = run_side(
            "ours",
            lambda: launch(
                Path(sys.executable),
                OURS_LAUNCH,
                model.url,
                {"PYTHONPATH": str(HERE.parent / "src")},
                logs / "ours.log",
            ),
            plans,
            args.budget,
        )
        problem = peer_problem()
        peer: dict[str, Result] = {}
        if problem is None:
            peer = run_side(
                "0.4.3",
                lambda: launch(
                    PEER_PYTHON,
                    PEER_LAUNCH,
                    model.url,
                    {"PYTHONPATH": str(PEER_EXTRAS)},
                    logs / "peer.log",
                ),
                plans,
                args.budget,
            )
    print(
        f"server benchmark: up to {sessions} sessions per row, execute-then-answer exchange (logs: {logs})"
    )
    for label, _, _ in plans:
        print(
            ours[label].line(f"ours  {label}") if label in ours else f"ours: {ours['error'].note}"
        )
        if problem is not None:
            continue
        if label in peer:
            print(peer[label].line(f"0.4.3 {label}"))
            if label in ours and peer[label].rate:
                print(
                    f"{'':<34} ratio ours/0.4.3 sessions/s: {ours[label].rate / peer[label].rate:.2f}x"
                )
        else:
            print(f"0.4.3: {peer['error'].note}")
    if problem is not None:
        print(f"0.4.3 not measured: {problem}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
