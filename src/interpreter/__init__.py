"""interpreter: let language models run code on your computer, with your approval.

``from interpreter import interpreter`` gives the default instance; ``OpenInterpreter``
makes independent ones. Importing is cheap: nothing heavy loads until it is used.

This is also where the front ends are wired in: the terminal is registered as the
display of ``chat(display=True)`` (and imported only when that is first used), and the
MCP servers as each interpreter's ``mcp`` part (core/extensions.py; interpreter/mcp).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core.display import register_display as _register_display
from .core.extensions import register_extension as _register_extension

__version__ = "0.1.0"
__all__ = ["OpenInterpreter", "interpreter", "computer", "__version__"]

if TYPE_CHECKING:
    from .core.display import Display
    from .core.interpreter import OpenInterpreter
    from .execution.computer import Computer

    interpreter: OpenInterpreter
    computer: Computer

_default: Any = None


def _terminal_display() -> Display[OpenInterpreter]:
    from .terminal.display import TerminalDisplay

    return TerminalDisplay()


_register_display(_terminal_display)


def _mcp_servers(interp: Any) -> Any:
    from .mcp.hub import McpServers

    return McpServers(interp)


_register_extension("mcp", _mcp_servers)


def __getattr__(name: str) -> Any:
    global _default
    if name == "OpenInterpreter":
        from .core.interpreter import OpenInterpreter

        return OpenInterpreter
    if name in ("interpreter", "computer"):
        if _default is None:
            from .core.interpreter import OpenInterpreter

            _default = OpenInterpreter(default_instance=True)
        return _default if name == "interpreter" else _default.computer
    raise AttributeError(f"module 'interpreter' has no attribute {name!r}")
