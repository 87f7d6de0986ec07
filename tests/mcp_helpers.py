"""Shared pieces of the MCP tests: real servers nobody here wrote, and where they live.

- ``mcp-server-time`` (PyPI, the reference time server), run as ``python -m
  mcp_server_time`` with this interpreter;
- ``@modelcontextprotocol/server-everything`` (npm), installed by ``.ci/run`` into
  ``.ci/node_modules`` (``npm ci`` from ``.ci/package.json``), run with ``node``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVERYTHING = ROOT / ".ci" / "node_modules" / "@modelcontextprotocol" / "server-everything"
EVERYTHING_MAIN = EVERYTHING / "dist" / "index.js"


def time_server(timezone: str = "UTC") -> dict[str, Any]:
    """The profile entry of the reference time server (stdio)."""
    return {
        "command": sys.executable,
        "args": ["-m", "mcp_server_time", "--local-timezone", timezone],
    }


def node() -> str:
    found = shutil.which("node")
    if found is None:
        raise RuntimeError("node is missing: .ci/run installs it (Debian's nodejs)")
    return found


def _node_flags() -> list[str]:
    """Node 18 (Debian 12) has no global ``crypto`` unless asked for (server-everything's
    HTTP transport needs it)."""
    version = subprocess.run([node(), "--version"], capture_output=True, text=True).stdout
    major = int(version.strip().lstrip("v").split(".")[0] or 0)
    return ["--experimental-global-webcrypto"] if major < 19 else []


def everything_server() -> dict[str, Any]:
    """The profile entry of server-everything over stdio."""
    if not EVERYTHING_MAIN.is_file():
        raise RuntimeError(f"{EVERYTHING_MAIN} is missing: run .ci/run (it runs npm ci in .ci)")
    return {"command": node(), "args": [*_node_flags(), str(EVERYTHING_MAIN), "stdio"]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    """Until something listens on 127.0.0.1:``port`` (or the process died)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


@contextmanager
def everything_over_http() -> Iterator[str]:
    """server-everything's streamable HTTP transport on a free port; yields its URL."""
    entry = everything_server()
    port = free_port()
    args = [entry["command"], *entry["args"][:-1], "streamableHttp"]
    env = {**os.environ, "PORT": str(port)}
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
