"""MCP tool round trips: what our client adds over the server's own time.

The server is the reference ``mcp-server-time`` (PyPI) over stdio, its tool
``get_current_time(timezone="UTC")``. The server's own time is a bare ``mcp`` client
(``Client.call_tool`` in one event loop, as the SDK's own users call it). Ours: the
Python API (``interpreter.mcp.call``, a blocking call into our private event loop), the
model's tool (``McpTool.run``: the same call, then the result as LMC chunks) and code in
the Python kernel (``computer.mcp.time.get_current_time``, through the loopback bridge).
Medians of many warm calls; the "added" rows are ours minus the bare client's, against
the target of 20 ms. Open Interpreter 0.4.3 has no MCP: absolute figures only.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import common
from common import OURS, Measure, Options, Row

NO_MCP = "no MCP"
ARGS = {"timezone": "UTC"}


def _server() -> dict[str, Any]:
    return {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}


def _bare(iters: int) -> float:
    """The median call with the SDK's own client, nothing of ours."""
    import anyio
    from mcp import Client, StdioServerParameters

    async def main() -> float:
        entry = _server()
        params = StdioServerParameters(command=entry["command"], args=entry["args"])
        async with Client(params) as client:
            await client.call_tool("get_current_time", ARGS)  # warm
            times = []
            for _ in range(iters):
                started = time.perf_counter()
                await client.call_tool("get_current_time", ARGS)
                times.append(time.perf_counter() - started)
        return common.median(times)

    return anyio.run(main)


def _timed(call: Any, iters: int) -> float:
    call()  # warm
    times = []
    for _ in range(iters):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return common.median(times)


KERNEL_LOOP = """
import time as _t, statistics as _s
_f = computer.mcp.time.get_current_time
_f(timezone='UTC')
_times = []
for _ in range({iters}):
    _a = _t.perf_counter(); _f(timezone='UTC'); _times.append(_t.perf_counter() - _a)
print('KERNEL', _s.median(_times))
"""


def _kernel(interp: Any, iters: int) -> float:
    chunks = interp.computer.run("python", KERNEL_LOOP.format(iters=iters))
    text = "".join(str(c.get("content", "")) for c in chunks if c.get("format") == "output")
    for line in text.splitlines():
        if line.startswith("KERNEL "):
            return float(line.split()[1])
    raise RuntimeError(f"the kernel loop printed: {text[-300:]}")


def worker(side: str, rest: list[str]) -> dict[str, Any]:
    from interpreter import OpenInterpreter

    iters = int(rest[0])
    bare = _bare(iters)
    interp = OpenInterpreter(load_profile=False)
    interp.mcp_servers = {"time": _server()}
    try:
        started = time.perf_counter()
        interp.mcp.list()  # starts the server, lists its tools
        connect = time.perf_counter() - started
        api = _timed(lambda: interp.mcp.call("time", "get_current_time", **ARGS), iters)
        tool = interp.tools.get("mcp__time__get_current_time")
        assert tool is not None
        as_tool = _timed(lambda: list(tool.run(ARGS)), iters)
        kernel = _kernel(interp, iters)
    finally:
        interp.mcp.close()
        interp.computer.terminate()
    return {"bare": bare, "connect": connect, "api": api, "tool": as_tool, "kernel": kernel,
            "api_added": api - bare, "tool_added": as_tool - bare,
            "kernel_added": kernel - bare}  # fmt: skip


def collect(opts: Options) -> list[Row]:
    iters = 20 if opts.quick else 300
    result = common.run_worker(OURS, opts, "bench_mcp.py", [str(iters)], 240)
    peer = Measure.failed("skipped" if opts.no_peer else NO_MCP)

    def row(key: str, label: str, limit: float | None = None) -> Row:
        target = "< 20 ms" if limit else ""
        return Row(label, "ms", common.pick(result, key), peer, target=target, limit=limit)

    return [
        row("connect", "start mcp-server-time and list its tools"),
        row("bare", f"get_current_time, bare mcp client (median of {iters})"),
        row("api", "the same through interpreter.mcp.call"),
        row("api_added", "added by interpreter.mcp.call", 0.020),
        row("tool", "the same as the model's tool (result as LMC)"),
        row("tool_added", "added as the model's tool", 0.020),
        row("kernel", "the same from the kernel (computer.mcp)"),
        row("kernel_added", "added from the kernel", 0.020),
    ]


if __name__ == "__main__":
    raise SystemExit(common.main_for(collect, __doc__ or "", worker))
