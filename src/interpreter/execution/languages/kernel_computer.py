"""Runs inside the Jupyter kernel (its source is sent there): the ``computer`` object.

Code in the kernel (and the model's code) finds ``computer`` in its namespace, as in
Open Interpreter 0.4.3. Its parts (``computer.files``, ``computer.mcp``, ...) are kernel
APIs (execution/kernel_api.py): each is a source text, standard library only, defining
``install(computer, config)``, which the host sends with its config (JSON data) when the
kernel starts and whenever the APIs change. Self-contained on purpose, like kernel_side.py.
"""

from __future__ import annotations

from typing import Any


class Computer:
    """What code in this kernel can ask of the interpreter: ``computer.<part>``."""

    def __repr__(self) -> str:
        parts = ", ".join(sorted(k for k in vars(self) if not k.startswith("_")))
        return f"<computer: {parts or 'no parts'}>"


def ensure(namespace: dict[str, Any]) -> Computer:
    """The ``computer`` in ``namespace`` (the user's), made when missing or replaced."""
    current = namespace.get("computer")
    if not isinstance(current, Computer):
        current = Computer()
        namespace["computer"] = current
    return current


def install_part(namespace: dict[str, Any], name: str, source: str, config: Any) -> None:
    """Run one kernel API's source and let it attach itself to ``computer``."""
    scope: dict[str, Any] = {"__name__": f"_interpreter_api_{name}"}
    exec(compile(source, f"<interpreter {name}>", "exec"), scope)
    scope["install"](ensure(namespace), config)
