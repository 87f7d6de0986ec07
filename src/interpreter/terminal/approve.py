"""Asking the user before code runs: y (run it), n (decline), e (edit, then run),
a (always allow this command: the core stores an allow rule for this session, and the
session saves it in the YAML profile it was started with)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ..lmc import Approval, Decision

__all__ = ["ask_approval", "edit_code", "QUESTION", "ALWAYS"]

QUESTION = "  Would you like to run this code? (y/n/e to edit/a to always allow) "
#: The answer ``a``: run it, and allow it again without asking.
ALWAYS: Approval = {"always": True}


def edit_code(language: str, code: str) -> str | None:
    """Open ``code`` in ``$VISUAL`` / ``$EDITOR`` (default ``vi``); return the saved text,
    or None when the editor failed."""
    from ..execution.computer import file_suffix

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    suffix = file_suffix(language)
    fd, name = tempfile.mkstemp(prefix="interpreter-edit-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(code)
        result = subprocess.run([*shlex.split(editor), str(path)], check=False)
        if result.returncode != 0:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    finally:
        path.unlink(missing_ok=True)


def ask_approval(
    language: str,
    code: str,
    *,
    ask: Callable[[str], str] = input,
    say: Callable[[str], None] = print,
    show_code: Callable[[str, str], None] | None = None,
    findings: Sequence[str] = (),
) -> Decision:
    """Ask until the answer is y, n, e or a. Returns True (run as shown), False (declined),
    the edited code or ``ALWAYS``. End of input counts as no. ``findings`` (safe_mode's
    scan) are shown first."""
    for finding in findings:
        say(f"  Safe mode: {finding}")
    while True:
        try:
            answer = ask(QUESTION).strip().lower()
        except EOFError:
            return False
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no", ""):
            return False
        if answer in ("a", "always"):
            return ALWAYS.copy()
        if answer in ("e", "edit"):
            edited = edit_code(language, code)
            if edited is None or not edited.strip():
                say("The editor failed or left the code empty; nothing was changed.")
                continue
            if show_code is not None:
                show_code(language, edited)
            return edited
        say("Please answer y (run), n (do not run), e (edit first) or a (always allow).")
        sys.stdout.flush()
