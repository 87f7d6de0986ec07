"""Remote execution through a Jupyter Kernel Gateway on loopback: ``x=1`` round trips in a
gateway kernel (first run, then the median of warm runs) against our local kernel.
Open Interpreter 0.4.3 has no remote execution, so its column says so."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import common
from common import OURS, Measure, Options, Row

TOKEN = "bench-token"
NO_REMOTE = "no remote execution"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_gateway(home: str) -> tuple[subprocess.Popen[bytes], str]:
    """A jupyter_kernel_gateway on a free loopback port, answering; its process and URL."""
    import httpx

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=f"{home}/runtime", JUPYTER_DATA_DIR=f"{home}/data")
    argv = [sys.executable, "-m", "kernel_gateway", "--KernelGatewayApp.ip=127.0.0.1"]
    argv += [f"--KernelGatewayApp.port={port}", f"--KernelGatewayApp.auth_token={TOKEN}"]
    process = subprocess.Popen(
        argv, cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    headers = {"Authorization": f"token {TOKEN}"}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/api/kernelspecs", headers=headers, timeout=1).is_success:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the kernel gateway did not start")


def _timed(computer: Any) -> float:
    started = time.perf_counter()
    computer.run("python", "x=1")
    return time.perf_counter() - started


def _round_trips(computer: Any, iters: int) -> tuple[float, float]:
    """The first run (kernel start included) and the median warm run."""
    try:
        cold = _timed(computer)
        warm = common.median([_timed(computer) for _ in range(iters)])
    finally:
        computer.terminate()
    return cold, warm


def worker(side: str, rest: list[str]) -> dict[str, Any]:
    from interpreter.execution.computer import Computer

    iters = int(rest[0])
    home = tempfile.mkdtemp(prefix="bench-gateway-")
    process, url = start_gateway(home)
    try:
        remote = Computer()
        remote.kernel_gateway, remote.kernel_gateway_token = url, TOKEN
        remote_cold, remote_warm = _round_trips(remote, iters)
    finally:
        process.terminate()
        process.wait(timeout=15)
    local_cold, local_warm = _round_trips(Computer(), iters)
    return {
        "remote_cold": remote_cold,
        "remote_warm": remote_warm,
        "local_cold": local_cold,
        "local_warm": local_warm,
    }


def collect(opts: Options) -> list[Row]:
    iters = 3 if opts.quick else 21
    result = common.run_worker(OURS, opts, "bench_gateway.py", [str(iters)], 180)
    peer = Measure.failed(NO_REMOTE)

    def row(key: str, label: str) -> Row:
        return Row(label, "s", common.pick(result, key), peer)

    return [
        row("remote_cold", "gateway python: first run (kernel start)"),
        row("remote_warm", f"gateway python x=1 warm (median of {iters})"),
        row("local_cold", "local python: first run (kernel start)"),
        row("local_warm", f"local python x=1 warm (median of {iters})"),
    ]


if __name__ == "__main__":
    raise SystemExit(common.main_for(collect, __doc__ or "", worker))
