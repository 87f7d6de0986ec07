"""``%undo [N]``, ``%checkpoints`` and ``%restore ID``: putting back messages and files.

``%undo`` removes the last exchange (``%undo 3``: the last three). When code ran in it,
the files it changed can be put back too (core/checkpoints.py): the changes are shown as
a coloured summary (added ``+``, changed ``!``, deleted ``-``, with their lines) and the
user picks messages, files or both. A restore saves the files as they were first, so it
can be undone with ``%restore``. With nothing to put back on disk, ``%undo`` removes the
messages without asking, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from ..core.checkpoints import exchange_start

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter
    from ..store.checkpoints import Checkpoint, Diff


class MagicContext(Protocol):
    """What these commands use of terminal/magic.py's context."""

    @property
    def interp(self) -> OpenInterpreter: ...
    @property
    def say(self) -> Callable[[str], None]: ...
    @property
    def ask(self) -> Callable[[str], str]: ...
    @property
    def show_code(self) -> Callable[[str, str], None] | None: ...


__all__ = ["checkpoints_command", "restore_command", "summary_lines", "undo_command"]

UNDO_QUESTION = "  Undo (m)essages, (f)iles, (b)oth, or (c)ancel? [b] "
RESTORE_QUESTION = "  Put these files back as they were at {id}? (y/n) "
_MARKS = {"added": "+", "changed": "!", "deleted": "-"}
#: What the files answer does: (remove messages, restore files).
_UNDO_ANSWERS = {
    "m": (True, False), "messages": (True, False),
    "f": (False, True), "files": (False, True),
    "b": (True, True), "both": (True, True), "": (True, True),
}  # fmt: skip


def undo_command(ctx: MagicContext, arg: str) -> None:
    """``%undo [N]``."""
    count = _count(arg)
    if count is None:
        ctx.say("Usage: %undo [N] (N: how many of your last messages, default 1)")
        return
    messages = ctx.interp.messages
    start = exchange_start(messages, count)
    if start is None:
        ctx.say("Nothing to undo." if count == 1 else f"There are not {count} messages to undo.")
        return
    checkpoint = ctx.interp.checkpoints.since(start)
    diff = _changes(ctx, checkpoint) if checkpoint is not None else None
    if checkpoint is None or not diff:
        _remove_messages(ctx, start)
        return
    ctx.say(f"Since checkpoint {checkpoint}, before the code of that exchange ran:")
    _show_summary(ctx, diff)
    choice = _UNDO_ANSWERS.get(_ask(ctx, UNDO_QUESTION))
    if choice is None:
        ctx.say("Nothing was undone.")
        return
    messages_too, files = choice
    if files and not _restore(ctx, checkpoint):
        return
    if messages_too:
        _remove_messages(ctx, start)


def checkpoints_command(ctx: MagicContext, arg: str) -> None:
    """``%checkpoints``: each one with its time, language, code and the files it touched."""
    from ..store.checkpoints import CheckpointError

    try:
        listed = ctx.interp.checkpoints.list()
        rows = [(c, ctx.interp.checkpoints.touched(c.id)) for c in listed]
    except CheckpointError as err:
        ctx.say(f"%checkpoints: {err}")
        return
    if not rows:
        ctx.say("No checkpoints yet: one is taken before each code run in this conversation.")
        return
    for checkpoint, touched in rows:
        ctx.say(_row(checkpoint, touched))
    ctx.say("%restore ID puts the files back as they were at that checkpoint.")


def restore_command(ctx: MagicContext, arg: str) -> None:
    """``%restore ID``: shows what changes back, asks, restores."""
    ref = arg.strip()
    if not ref:
        ctx.say("Usage: %restore ID (ids are listed by %checkpoints)")
        return
    diff = _changes(ctx, ref)
    if diff is None:
        return
    if not diff:
        ctx.say(f"The files are as they were at checkpoint {ref}; nothing to do.")
        return
    _show_summary(ctx, diff)
    if _ask(ctx, RESTORE_QUESTION.format(id=ref)) in ("y", "yes"):
        _restore(ctx, ref)
    else:
        ctx.say("Nothing was restored.")


def summary_lines(diff: Diff) -> list[str]:
    """One line per file, ``+`` added / ``!`` changed / ``-`` deleted, then the totals."""
    lines = []
    for change in diff.changes:
        counts = "binary" if change.binary else f"+{change.added} -{change.removed}"
        lines.append(f"{_MARKS.get(change.status, '?')} {change.path}  ({change.status}, {counts})")
    return [*lines, f"@ {diff.summary()}"]


# -- helpers -------------------------------------------------------------------------


def _count(arg: str) -> int | None:
    text = arg.strip()
    if not text:
        return 1
    return int(text) if text.isdigit() and int(text) > 0 else None


def _changes(ctx: MagicContext, ref: str) -> Diff | None:
    """What restoring ``ref`` would change back (None, said, when it cannot be known)."""
    from ..store.checkpoints import CheckpointError

    try:
        return ctx.interp.checkpoints.diff(ref)
    except CheckpointError as err:
        ctx.say(f"The files cannot be put back: {err}")
        return None


def _restore(ctx: MagicContext, ref: str) -> bool:
    from ..store.checkpoints import CheckpointError

    try:
        saved, applied = ctx.interp.checkpoints.restore(ref)
    except CheckpointError as err:
        ctx.say(f"The files were not put back: {err}")
        return False
    ctx.say(
        f"Files put back as they were at checkpoint {ref} ({applied.summary()}); "
        f"%restore {saved.id} brings back the files as they were just now."
    )
    return True


def _remove_messages(ctx: MagicContext, start: int) -> None:
    messages = ctx.interp.messages
    removed, text = len(messages) - start, str(messages[start].get("content", ""))
    del messages[start:]
    ctx.interp._save_conversation()  # so that --conversations does not bring them back
    ctx.say(f"Removed {removed} message(s), from your message: {text[:60]!r}")


def _show_summary(ctx: MagicContext, diff: Diff) -> None:
    text = "\n".join(summary_lines(diff))
    show: Callable[[str, str], None] | None = ctx.show_code
    if show is not None:
        show("diff", text)  # coloured as a diff: + green, - red
    else:
        for line in text.splitlines():
            ctx.say(f"  {line}")


def _ask(ctx: MagicContext, question: str) -> str:
    try:
        return ctx.ask(question).strip().lower()
    except (EOFError, KeyboardInterrupt):
        return "c"


def _row(checkpoint: Checkpoint, touched: Diff) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(checkpoint.time))
    what = checkpoint.label if checkpoint.kind == "run" else "(files saved before a restore)"
    language = f"{checkpoint.language}: " if checkpoint.language else ""
    return f"{checkpoint.id}  {when}  {language}{what[:60]}  [{touched.summary()}]"
