"""``--conversations``: pick a saved conversation and load it to continue."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter

__all__ = ["choose_conversation", "OPEN_FOLDER"]

OPEN_FOLDER = "Open folder"


def choose_conversation(interp: OpenInterpreter, say: Callable[[str], None]) -> bool:
    """Let the user pick a conversation (newest first); load it into ``interp``.

    Returns True when one was loaded; the conversation keeps saving to the same file.
    """
    from ..store.conversations import ConversationError, list_conversations, load_conversation
    from .picker import open_folder, pick
    from .sanitize import escape_controls

    folder = Path(interp.conversation_history_path)
    entries = list_conversations(folder)
    if not entries:
        say(f"No saved conversations yet (they are kept in {folder}).")
        return False
    titles = [
        escape_controls(e.title + (f"  [unreadable: {e.error}]" if e.error else ""))
        for e in entries
    ]
    choice = pick("Pick a conversation to resume:", [*titles, OPEN_FOLDER])
    if choice is None:
        return False
    if choice == len(entries):
        open_folder(folder, say)
        return False
    entry = entries[choice]
    try:
        interp.messages = load_conversation(entry.path)
    except ConversationError as err:
        say(f"Cannot resume it: {err}")
        return False
    interp.conversation_filename = entry.path.name
    return True
