"""The kernel's own messages of each run, kept beside a conversation for notebook export.

A conversation's LMC messages say what the model saw; a notebook wants what the kernel
said: streams, rich display data, errors with their tracebacks, execution counts. A
:class:`KernelLog` gathers the messages of each run (``observe``, given them by the
kernel language) into a :class:`KernelRun` and appends it, as one JSON line, to
``kernel.jsonl`` in the conversation's data folder (``conversation_data_dir()``).

The file only grows: a line is written whole with one ``write`` on a file opened for
appending (0600), so a crash loses at most the run being written; a torn last line is
skipped when the file is read, and the next append starts on a fresh line. What is kept
is capped: a run keeps at most ``RUN_CAP_BYTES`` of messages and the file at most
``LOG_CAP_BYTES``; past a cap a run keeps its code and count, and says how many messages
it dropped. Without a path (conversation history off) runs are kept in memory only.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .atomic import FILE_MODE
from .paths import ensure_dir

__all__ = ["KernelLog", "KernelRun", "LOG_NAME", "read_runs"]

LOG_NAME = "kernel.jsonl"
RUN_CAP_BYTES = 4_000_000
LOG_CAP_BYTES = 64_000_000
#: The messages a run keeps: what nbformat turns into outputs, and where a run starts.
KEPT = frozenset(
    {"execute_input", "stream", "display_data", "update_display_data", "execute_result",
     "error", "clear_output"}
)  # fmt: skip
#: Statuses that end a run.
ENDS = frozenset({"idle", "dead", "restarting", "lost"})


@dataclass
class KernelRun:
    """One run of code in a kernel: the code, its execution count and its messages
    (``{"msg_type": ..., "content": ...}``, in order). ``message`` is the index of the
    code message in the conversation when it ran; ``dropped`` counts messages over a cap;
    ``ended`` is the status that ended it (``idle``, ``dead``, ...)."""

    code: str
    execution_count: int | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    message: int | None = None
    dropped: int = 0
    ended: str | None = None
    size: int = field(default=0, repr=False, compare=False)

    def to_json(self) -> str:
        data = asdict(self)
        del data["size"]
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: Any) -> KernelRun | None:
        if not isinstance(data, dict) or not isinstance(data.get("code"), str):
            return None
        messages = [m for m in data.get("messages") or [] if isinstance(m, dict)]
        count = data.get("execution_count")
        message = data.get("message")
        return cls(
            code=data["code"],
            execution_count=count if isinstance(count, int) else None,
            messages=messages,
            message=message if isinstance(message, int) else None,
            dropped=int(data.get("dropped") or 0),
            ended=str(data["ended"]) if data.get("ended") else None,
        )


def read_runs(path: str | os.PathLike[str]) -> list[KernelRun]:
    """The runs kept in a ``kernel.jsonl``; lines that are not runs (a torn last line)
    are skipped, and a missing file has none."""
    return list(_read(Path(path)))


def _read(path: Path) -> Iterator[KernelRun]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    for line in text.splitlines():
        try:
            run = KernelRun.from_json(json.loads(line))
        except ValueError:
            continue
        if run is not None:
            yield run


class KernelLog:
    """The runs of one conversation, in memory and (with ``folder``) on disk."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.path = folder / LOG_NAME if folder is not None else None
        #: The runs, once read (on disk) or always (in memory only).
        self._runs: list[KernelRun] | None = None if self.path is not None else []
        self._current: KernelRun | None = None
        self._written = self._size_on_disk()
        self._fresh_line = False
        #: The index of the conversation's message holding ``code`` (set by its owner).
        self.locate_code: Callable[[str], int | None] | None = None

    def runs(self) -> list[KernelRun]:
        """Every finished run, the ones kept on disk by earlier sessions first."""
        if self._runs is None:
            self._runs = read_runs(self.path) if self.path is not None else []
        return list(self._runs)

    def _size_on_disk(self) -> int:
        if self.path is None:
            return 0
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    # -- gathering ----------------------------------------------------------------------

    def observe(self, msg: dict[str, Any]) -> None:
        """One kernel message of the current run (see ``execution/languages/kernel.py``)."""
        kind = msg.get("msg_type")
        content = msg.get("content") or {}
        if kind == "execute_input":
            self.finish()
            self._start(str(content.get("code", "")), content.get("execution_count"))
        elif kind == "status":
            if content.get("execution_state") in ENDS:
                self.finish(str(content.get("execution_state")))
        elif kind in KEPT:
            self._keep(msg)

    def _start(self, code: str, count: Any) -> None:
        index = self.locate_code(code) if self.locate_code is not None else None
        number = count if isinstance(count, int) else None
        self._current = KernelRun(code=code, execution_count=number, message=index)

    def _keep(self, msg: dict[str, Any]) -> None:
        run = self._current
        if run is None:
            return
        kept = {"msg_type": msg["msg_type"], "content": msg.get("content") or {}}
        size = len(json.dumps(kept))
        if run.size + size > RUN_CAP_BYTES or self._written + run.size + size > LOG_CAP_BYTES:
            run.dropped += 1
            return
        run.messages.append(kept)
        run.size += size

    def finish(self, ended: str | None = None) -> None:
        """End the current run (if any): keep it, and append it to the file."""
        run, self._current = self._current, None
        if run is None:
            return
        run.ended = ended or run.ended
        if self._runs is not None:  # else the file is read when runs are first asked for
            self._runs.append(run)
        if self.path is not None:
            self._append(run.to_json())

    def _append(self, line: str) -> None:
        assert self.path is not None and self.folder is not None
        ensure_dir(self.folder)
        data = line.encode("utf-8") + b"\n"
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
        try:
            if not self._fresh_line and not _ends_with_newline(fd):
                data = b"\n" + data  # a torn line of a crashed session stays apart
            self._fresh_line = True
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            with contextlib.suppress(OSError):
                os.fsync(fd)
        finally:
            os.close(fd)
        self._written += len(data)


def _ends_with_newline(fd: int) -> bool:
    if os.fstat(fd).st_size == 0:
        return True
    os.lseek(fd, -1, os.SEEK_END)
    return os.read(fd, 1) == b"\n"
