"""Parts of the ``computer`` object in the Python kernel (``computer.files``, ...).

A ``KernelApi`` is one part: its name (``computer.<name>``), its kernel-side source
(standard library only, defining ``install(computer, config)``) and the config it gets
(JSON data: an address, a token, ...). ``Computer.kernel_apis`` holds them by name; the
Python kernel installs them when it starts, and again when one changes (see
languages/kernel.py ``KernelSide.sync``). languages/kernel_computer.py is what makes
``computer`` in the kernel.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["COMPUTER_MODULE", "KernelApi", "install_code"]

COMPUTER_MODULE = "_interpreter_computer"


@dataclass(frozen=True)
class KernelApi:
    """One part of the kernel's ``computer``; ``config`` must be JSON data."""

    name: str
    source: str
    config: Any = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name.startswith("_"):
            raise ValueError(f"not a name for computer.<part>: {self.name!r}")
        json.dumps(self.config)  # JSON data only: it travels as text

    @property
    def key(self) -> str:
        """Changes when the source or the config does."""
        text = json.dumps([self.name, self.source, self.config], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def install_code(apis: Iterable[KernelApi]) -> str:
    """Kernel code that makes ``computer`` (once) and installs ``apis`` into it."""
    source = Path(__file__).with_name("languages").joinpath("kernel_computer.py").read_text()
    lines = [
        "def __interpreter_computer(parts):",
        "    import sys, types",
        f"    module = sys.modules.get({COMPUTER_MODULE!r})",
        "    if module is None:",
        f"        module = types.ModuleType({COMPUTER_MODULE!r})",
        f"        exec(compile({source!r}, '<interpreter>', 'exec'), module.__dict__)",
        f"        sys.modules[{COMPUTER_MODULE!r}] = module",
        "    module.ensure(globals())",
        "    for name, text, config in parts:",
        "        module.install_part(globals(), name, text, config)",
        f"__interpreter_computer({[(a.name, a.source, a.config) for a in apis]!r})",
        "del __interpreter_computer",
    ]
    return "\n".join(lines) + "\n"
