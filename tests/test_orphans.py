"""No orphans: every kernel and REPL a Computer started is gone after terminate(),
reset(), a normal exit, and a SIGKILL of the Python process that started them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from helpers import alive

CHILD = r"""
import json, sys, threading, time
from interpreter import OpenInterpreter

interp = OpenInterpreter(load_profile=False)
c = interp.computer

def out(language, code):
    return "".join(x["content"] for x in c.run(language, code) if x.get("format") == "output")

pids = {
    "python": int(out("python", "import os; print(os.getpid())")),
    "shell": int(out("shell", "echo $$")),
    "node": int(out("javascript", "process.pid")),
}
# Keep node and bash busy, so they are not just reading an end-of-file on their pipes.
threading.Thread(target=out, args=("javascript", "while (true) {}"), daemon=True).start()
threading.Thread(target=out, args=("shell", "sleep 1000"), daemon=True).start()
time.sleep(0.3)
print(json.dumps(pids), flush=True)
mode = sys.argv[1]
if mode == "terminate":
    c.terminate()
elif mode == "reset":
    interp.reset()
elif mode == "exit":
    sys.exit(0)
print("acted", flush=True)
time.sleep(60)
"""


def wait_gone(pids: dict[str, int], seconds: float) -> dict[str, int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = {k: v for k, v in pids.items() if alive(v)}
        if not left:
            return {}
        time.sleep(0.05)
    return {k: v for k, v in pids.items() if alive(v)}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="checks /proc")
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("mode", ["terminate", "reset", "exit", "sigkill"])
def test_no_orphans(mode: str) -> None:
    env = {**os.environ, "INTERPRETER_NO_DEFAULT_PROFILE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        pids: dict[str, int] = json.loads(line)
        assert all(alive(pid) for pid in pids.values())
        if mode == "sigkill":
            proc.send_signal(signal.SIGKILL)
        elif mode == "exit":
            assert proc.wait(timeout=20) == 0
        else:
            assert proc.stdout.readline().strip() == "acted"
        left = wait_gone(pids, 5)
        assert not left, f"still running after {mode}: {left}"
    finally:
        proc.kill()
        proc.wait()
