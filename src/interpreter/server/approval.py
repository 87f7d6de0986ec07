"""The websocket's approval commands, bound to the sha256 of the code shown.

``{"type": "command", "content": "go"}`` (Open Interpreter 0.4.3's form) runs the code
waiting for approval. With ``"hash"`` (the ``content.hash`` of the ``confirmation`` chunk)
it runs only if that is still the code waiting; with ``"code"`` and ``"hash"`` (the sha256
of that code) it runs the edited code instead: a new approval of exactly that text.
``{"type": "command", "content": "decline"}`` declines it (the model is told).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.safety import digest
from .sessions import Answer

__all__ = ["ApprovalRefused", "answer_for"]

STALE_HASH = (
    "the hash does not match the code waiting for approval; nothing ran "
    "(approve the code as it is shown now)"
)
EDIT_HASH = "the hash does not match the edited code; nothing ran"
EMPTY_EDIT = "the edited code is empty; nothing ran"


class ApprovalRefused(Exception):
    """A ``go`` that must not run anything; the code stays pending. One-line message."""


def answer_for(name: str, command: Mapping[str, Any], pending_hash: str | None) -> Answer:
    """What to send the waiting run for the command ``name`` ("go" or "decline")."""
    if name == "decline":
        return False
    given = command.get("hash")
    code = command.get("code")
    if code is not None:
        if not isinstance(code, str) or not code.strip():
            raise ApprovalRefused(EMPTY_EDIT)
        if not isinstance(given, str) or given != digest(code):
            raise ApprovalRefused(EDIT_HASH)
        return code
    if given is None:
        return True  # a 0.4.3 client: approves the code it was shown
    if not isinstance(given, str) or given != pending_hash:
        raise ApprovalRefused(STALE_HASH)
    return {"hash": given, "approve": True}
