"""``--resume last|ID``, ``--notebook PATH`` and ``--export-notebook CONV OUT``.

A saved conversation is named by ``last`` (the newest in the conversations folder), by
its ID (the file name, with or without ``.json``, as ``--conversations`` and the
``result`` event of a headless run give it), or by a path to a conversation file.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .args import UsageError

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter

__all__ = ["export_command", "find_conversation", "open_requested"]


def find_conversation(spec: str, folder: Path) -> Path:
    """The conversation file ``spec`` names (``UsageError`` when there is none)."""
    from ..store.conversations import list_conversations

    if spec == "last":
        entries = [e for e in list_conversations(folder) if e.error is None]
        if not entries:
            raise UsageError(f"--resume last: no saved conversations in {folder}")
        return entries[0].path
    bare = "/" not in spec and os.sep not in spec
    candidates = [folder / spec, folder / f"{spec}.json"] if bare else []
    for candidate in [*candidates, Path(spec).expanduser()]:
        if candidate.is_file():
            return candidate
    raise UsageError(
        f"no conversation {spec!r} in {folder} (give last, an ID from --conversations, or a path)"
    )


def _resume(interp: OpenInterpreter, spec: str) -> Path:
    from ..store.conversations import ConversationError, load_conversation

    path = find_conversation(spec, Path(interp.conversation_history_path))
    try:
        interp.messages = load_conversation(path)
    except ConversationError as err:
        raise UsageError(f"cannot resume it: {err}") from None
    interp.conversation_filename = path.name
    return path


def open_requested(interp: OpenInterpreter, args: argparse.Namespace) -> str | None:
    """Apply ``--resume`` and ``--notebook``; a line saying what was resumed, or None.
    ``UsageError`` (one line) for a conversation or notebook that cannot be read."""
    from ..core.notebook import NotebookUnavailable
    from ..core.notebook_live import NotebookError

    said = None
    if args.resume:
        path = _resume(interp, args.resume)
        said = f"Resumed {path.name} ({len(interp.messages)} messages)."
    if args.notebook:
        existing = Path(args.notebook).expanduser().exists()
        if existing and args.resume:
            raise UsageError("--resume and an existing --notebook both give the conversation")
        try:
            path = interp.open_notebook(args.notebook)
        except (NotebookError, NotebookUnavailable, OSError) as err:
            raise UsageError(f"--notebook: {err}") from None
        if existing:
            said = f"Resumed {path} ({len(interp.messages)} messages)."
    return said


def export_command(conversation: str, out: str) -> int:
    """``--export-notebook CONV OUT``: write the saved conversation as a notebook."""
    from ..core.notebook import NotebookUnavailable, build_notebook, write_notebook
    from ..store.conversations import ConversationError, load_conversation
    from ..store.kernel_log import LOG_NAME, read_runs
    from ..store.paths import conversation_data_dir, conversations_dir

    path = find_conversation(conversation, conversations_dir())
    try:
        messages = load_conversation(path)
    except ConversationError as err:
        raise UsageError(str(err)) from None
    runs = read_runs(conversation_data_dir(path.stem) / LOG_NAME)
    try:
        notebook = build_notebook(messages, runs, conversation=path.stem)
        written = write_notebook(out, notebook)
    except NotebookUnavailable as err:
        raise UsageError(str(err)) from None
    except OSError as err:
        raise UsageError(f"cannot write {out}: {err.strerror or err}") from None
    print(f"Wrote {written} ({len(notebook.cells)} cells).")
    return 0
