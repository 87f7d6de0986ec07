"""interpreter: let language models run code on your computer, with your approval.

``from interpreter import interpreter`` gives the default instance; ``OpenInterpreter``
makes independent ones. Importing is cheap: nothing heavy loads until it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["OpenInterpreter", "interpreter", "computer", "__version__"]

if TYPE_CHECKING:
    from .core.interpreter import OpenInterpreter
    from .execution.computer import Computer

    interpreter: OpenInterpreter
    computer: Computer

_default: Any = None


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
