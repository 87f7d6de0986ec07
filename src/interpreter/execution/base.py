"""The Executor seam: one small interface per language."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from ..lmc import Chunk

if TYPE_CHECKING:
    from pathlib import Path

    from .kernel_api import KernelApi
    from .sandbox import SandboxPolicy

#: Sees a kernel's own output messages, ``{"msg_type": ..., "content": ...}`` (see
#: ``KernelLanguage``): how a conversation keeps them for notebooks.
KernelObserver = Callable[[dict[str, Any]], None]


class Language(ABC):
    """A stateful runtime for one language.

    ``run`` yields LMC chunks without a role (the Computer adds ``"role": "computer"``):
    ``{"type": "console", "format": "output", "content": str}``,
    ``{"type": "console", "format": "active_line", "content": int | None}``,
    ``{"type": "image", "format": "base64.png", "content": str}``, ...
    Output streams as it is produced. ``interrupt`` stops the running code but keeps
    the state; ``terminate`` ends every process the language started.
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    file_extension: ClassVar[str] = ""
    #: True when ``run`` caps its own console output at ``max_output_bytes`` (and says
    #: how much it dropped); otherwise the Computer caps the stream it yields.
    caps_output: ClassVar[bool] = False
    #: The most console output bytes one run forwards (set by the Computer before a run).
    max_output_bytes: int | None = None
    #: Where new processes launch: inside this OS sandbox, or (None) unconfined. Set by
    #: the Computer before a run; a running process keeps the sandbox it started in.
    sandbox: SandboxPolicy | None = None
    #: The parts of ``computer`` a Python kernel offers its code (execution/kernel_api.py);
    #: set by the Computer before a run. Other languages ignore them.
    kernel_apis: tuple[KernelApi, ...] = ()
    #: Given each kernel message of a run (kernel languages only; set by the Computer).
    kernel_observer: KernelObserver | None = None

    @abstractmethod
    def run(self, code: str) -> Iterator[Chunk]: ...

    def prepare(self) -> None:
        """Start the runtime now, so the first ``run`` does not wait for it (a no-op for
        runtimes that start fast)."""
        return None

    @abstractmethod
    def interrupt(self) -> None: ...

    @abstractmethod
    def terminate(self) -> None: ...

    def keep_output(self, number: int, path: Path) -> str | None:
        """Make the output kept in ``path`` readable by code (Python: ``_out[number]``);
        the expression that reads it, or None when this language cannot."""
        return None
