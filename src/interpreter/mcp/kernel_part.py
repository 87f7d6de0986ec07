"""``computer.mcp`` in the Python kernel: the ``KernelApi`` (execution/kernel_api.py).

Its config is the bridge's address and token and the tools of each ready server (names,
parameters, descriptions), so the kernel installs a new ``computer.mcp`` whenever the
servers or their tools change. The kernel side is kernel_mcp.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..execution.kernel_api import KernelApi

if TYPE_CHECKING:
    from .bridge import KernelBridge
    from .connection import Connection

__all__ = ["mcp_kernel_api"]


@lru_cache(maxsize=1)
def _source() -> str:
    return Path(__file__).with_name("kernel_mcp.py").read_text(encoding="utf-8")


def _tool_spec(definition: dict[str, Any]) -> dict[str, Any]:
    properties = (definition.get("inputSchema") or {}).get("properties") or {}
    return {"doc": str(definition.get("description") or ""), "params": sorted(properties)}


def mcp_kernel_api(bridge: KernelBridge, connections: Sequence[Connection]) -> KernelApi:
    """The ``mcp`` part of the kernel's ``computer`` for these servers."""
    servers = {c.name: {str(t["name"]): _tool_spec(t) for t in c.tools} for c in connections}
    timeout = max((c.config.timeout for c in connections), default=60.0) + 5.0
    config = {"url": bridge.url, "token": bridge.token, "timeout": timeout, "servers": servers}
    return KernelApi("mcp", _source(), config)
