"""Noticing a model that goes round in circles: the same code, or the same error, again.

:class:`RepeatWatch` sees every run of a turn. ``max_repeats`` runs in a row of the same
code (the same language and text, whitespace at the ends aside), or ``max_repeats``
outputs in a row ending in the same error line (a traceback's last line, ``...Error:``,
``command not found``, ``No such file or directory``, ...; numbers in it aside), make it
say so in one line.
The turn then stops under ``auto_run`` (stop reason ``repeating``) and otherwise asks the
user before the next code runs, even code an allow rule would let through.
"""

from __future__ import annotations

import re
from collections import deque

__all__ = ["RepeatWatch", "error_line"]

_ERROR_LINE = re.compile(
    r"(?i)(?:^\w*(?:error|exception)\b"  # NameError: ..., error: ..., Exception
    r"|\b(?:command not found|no such file or directory|permission denied"
    r"|not recognized as|segmentation fault|fatal:))"
)


_NUMBER = re.compile(r"\d+")  # "bash: line 4: ..." and "line 10" are the same error


def error_line(output: str) -> str | None:
    """The output's last line that reads like an error, or None when none does."""
    for line in reversed(output.strip().splitlines()[-40:]):
        text = line.strip()
        if text and _ERROR_LINE.search(text):
            return text[:300]
    return None


class RepeatWatch:
    """Counts the same code and the same error across the runs of one turn."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._codes: deque[tuple[str, str]] = deque(maxlen=max(limit, 1))
        self._errors: deque[str | None] = deque(maxlen=max(limit, 1))

    def record(self, language: str, code: str, output: str) -> str | None:
        """Note one run; what repeats (a phrase for a notice) or None."""
        if self.limit <= 0:
            return None
        self._codes.append((language.strip().lower(), code.strip()))
        line = error_line(output)
        self._errors.append(_NUMBER.sub("#", line) if line is not None else None)
        if len(self._codes) >= self.limit and len(set(self._codes)) == 1:
            return f"the model ran the same code {self.limit} times in a row"
        errors = set(self._errors)
        if len(self._errors) >= self.limit and len(errors) == 1 and None not in errors:
            return f"the same error came {self.limit} times in a row ({(line or '')[:120]})"
        return None

    def forgive(self) -> None:
        """The user said go on: start counting afresh."""
        self._codes.clear()
        self._errors.clear()
