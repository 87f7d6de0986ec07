"""``interpreter.checkpoints``: the working folder as it was before each approved run.

Before code runs (any language, any tool, any surface) the turn calls :meth:`before_run`,
which snapshots the folder the interpreter works in (the process's current directory)
into the conversation's own git store (store/checkpoints.py, in
``conversation_data_dir()/checkpoints.git``; never the user's ``.git``). Each checkpoint
records the index of its code message in the conversation, so ``%undo`` knows which files
to put back; the messages themselves are unchanged (conversations without checkpoints,
older ones and Open Interpreter 0.4.3's, undo messages as before).

A store that cannot work (no git, a damaged store, a snapshot that takes too long) is one
notice for the user, and checkpoints are off for the rest of the conversation: code runs
anyway. Files over ``checkpoint_size_cap`` are left out, and said once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..lmc import Message

if TYPE_CHECKING:
    from ..store.checkpoints import Checkpoint, CheckpointStore, Diff

__all__ = ["Checkpoints", "CheckpointOwner", "exchange_start"]

STORE_NAME = "checkpoints.git"


class CheckpointOwner(Protocol):
    """What checkpoints need from their interpreter."""

    @property
    def checkpoints_enabled(self) -> bool: ...
    @property
    def checkpoint_size_cap(self) -> int: ...
    def conversation_data_dir(self) -> Path: ...


class Checkpoints:
    """The checkpoints of one interpreter's current conversation, in the folder it works in.

    ``list()``, ``diff(id)`` (what restoring ``id`` would change back), ``touched(id)``
    (what the run after ``id`` changed) and ``restore(id)``; ids are the 12-character ids
    ``list()`` gives, or a unique prefix. ``"last"`` is the newest checkpoint."""

    def __init__(self, owner: CheckpointOwner) -> None:
        self._owner = owner
        self._stores: dict[tuple[Path, Path], CheckpointStore] = {}
        self._broken: set[Path] = set()

    # -- taken by the turn -------------------------------------------------------------

    def before_run(
        self, code: str, language: str, index: int | None = None
    ) -> tuple[str | None, list[str]]:
        """Snapshot the working folder before ``code`` (the code message at ``index`` in
        the conversation) runs: the checkpoint's id (None when checkpoints are off or
        failed) and one-line notices for the user."""
        if not self._owner.checkpoints_enabled:
            return None, []
        from ..store.checkpoints import CheckpointError

        git_dir = self._git_dir()
        if git_dir in self._broken:
            return None, []
        try:
            store = self._store()
            checkpoint = store.snapshot(first_line(code), language, message=index)
            skipped = store.take_skipped()
        except CheckpointError as err:
            self._broken.add(git_dir)
            return None, [f"Checkpoints are off for this conversation: {err}"]
        return checkpoint.id, _skipped_notice(skipped, self._owner.checkpoint_size_cap)

    # -- the public surface ------------------------------------------------------------

    def list(self) -> list[Checkpoint]:
        """This conversation's checkpoints of the working folder, oldest first."""
        if not self._git_dir().exists():
            return []
        return self._store().list()

    def since(self, start: int) -> str | None:
        """The checkpoint taken before the first run of the messages from ``start`` on
        (None: nothing ran there, or nothing is known). Checkpoints record the index of
        their code message; after an undo, indices are reused, so the search stops at the
        newest checkpoint of an earlier message."""
        from ..store.checkpoints import CheckpointError

        try:
            listed = self.list()
        except CheckpointError:
            return None
        found = None
        for checkpoint in reversed(listed):
            if checkpoint.kind != "run" or checkpoint.message is None:
                continue
            if checkpoint.message < start:
                break
            found = checkpoint.id
        return found

    def get(self, ref: str) -> Checkpoint:
        return self._store().get(self._resolve(ref))

    def diff(self, ref: str = "last") -> Diff:
        """The files that differ now from checkpoint ``ref``: what ``restore(ref)`` puts
        back."""
        return self._store().changes(self._resolve(ref))

    def touched(self, ref: str = "last") -> Diff:
        """What the run after checkpoint ``ref`` changed (up to the next checkpoint, or up
        to now for the newest)."""
        return self._store().touched(self._resolve(ref))

    def restore(self, ref: str = "last") -> tuple[Checkpoint, Diff]:
        """Make the working folder as it was at checkpoint ``ref``. The files as they were
        just before are saved first: restoring that checkpoint (the first item returned)
        brings them back. The second item is what was changed."""
        return self._store().restore(self._resolve(ref))

    # -- plumbing ----------------------------------------------------------------------

    def _resolve(self, ref: str) -> str:
        from ..store.checkpoints import CheckpointError

        if ref != "last":
            return ref
        listed = self.list()
        if not listed:
            raise CheckpointError("no checkpoint yet (nothing has run in this folder)")
        return listed[-1].id

    def _git_dir(self) -> Path:
        return self._owner.conversation_data_dir() / STORE_NAME

    def _store(self) -> CheckpointStore:
        from ..store.checkpoints import CheckpointStore

        key = (self._git_dir(), Path(os.getcwd()))
        store = self._stores.get(key)
        if store is None:
            cap = self._owner.checkpoint_size_cap
            store = self._stores[key] = CheckpointStore(key[0], key[1], size_cap=cap)
        return store


def first_line(code: str) -> str:
    """The code's first line that says something (what ``%checkpoints`` shows)."""
    for line in code.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def _skipped_notice(paths: Sequence[str], cap: int) -> list[str]:
    if not paths:
        return []
    shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    megabytes = cap / (1024 * 1024)
    return [
        f"Checkpoints leave out files over {megabytes:g} MB ({shown}); %undo cannot put "
        "them back (checkpoint_size_cap changes the limit)."
    ]


def exchange_start(messages: Sequence[Message], count: int = 1) -> int | None:
    """Where the last ``count`` exchanges start: the index of the user's ``count``-th last
    message (a summary of older messages is not one); None when there are fewer."""
    found = 0
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.get("role") == "user" and not message.get("summary"):
            found += 1
            if found == count:
                return index
    return None
