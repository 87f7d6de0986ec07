"""Saved conversations: Open Interpreter 0.4.3's JSON files, names and listing.

A conversation file is the ``messages`` list (LMC dicts, no system message) as one line
of JSON, named ``<first words>__<Month_DD_YYYY_HH-MM-SS>.json`` in the conversations
folder (``..._HH-MM-SS_2.json`` when another conversation started in the same second).
Files are written atomically and readable by the user only.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..lmc import Message
from .atomic import atomic_write_text, is_temp_name
from .redaction import MIN_SECRET_LENGTH

#: What a saved message keeps: the LMC fields, and our own keys, which 0.4.3 ignores:
#: ``call_id``, ``extra`` and ``tool`` of code messages (the provider's tool-call id and its
#: own fields of the call; a call of another tool) and ``summary`` (a summary of the
#: messages before it: core/compaction.py).
LMC_FIELDS = (
    "role", "type", "format", "content", "recipient", "call_id", "extra", "tool", "summary"
)  # fmt: skip
SAVED_ROLES = frozenset({"user", "assistant", "computer"})
STREAM_ONLY = frozenset({("console", "active_line"), ("confirmation", "execution")})
REDACTED = "[REDACTED]"
_NAME_LIMIT = 25
_NO_SPACE_LIMIT = 15
_REMOVED_CHARS = '<>:"/\\|?*!\n'
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DATE_RE = re.compile(
    r"__([A-Za-z]+)_(\d{1,2})_(\d{4})_(\d{1,2})-(\d{1,2})-(\d{1,2})(?:_\d+)?\.json$", re.I
)


class ConversationError(Exception):
    """A conversation file that cannot be read; ``str()`` is one line: path and reason."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = " ".join(reason.split())
        super().__init__(f"{self.path}: {self.reason}")


@dataclass(frozen=True)
class ConversationEntry:
    """One file in the conversations folder, as ``--conversations`` lists it."""

    path: Path
    title: str
    when: datetime
    error: str | None = None


def conversation_filename(messages: list[Message], when: datetime) -> str:
    """The file name 0.4.3 gives a conversation started at ``when``.

    The first 25 characters of the first message, split on spaces, without the last
    (possibly cut) word, joined by ``_``; a text without spaces keeps its first 15
    characters. Characters not allowed in file names are removed.
    """
    text = _first_text(messages)
    words = text[:_NAME_LIMIT].split(" ")
    stem = "_".join(words[:-1]) if len(words) >= 2 else text[:_NO_SPACE_LIMIT]
    stem = "".join(c for c in stem if c not in _REMOVED_CHARS and c.isprintable())
    month = _MONTHS[when.month - 1]
    return f"{stem}__{month}_{when:%d_%Y_%H-%M-%S}.json"


def unique_filename(
    messages: list[Message], directory: str | os.PathLike[str], when: datetime
) -> str:
    """0.4.3's name for a conversation started at ``when``, with ``_2``, ``_3``, ... after
    the time when a file of that name exists already (1-second names collide)."""
    name = conversation_filename(messages, when)
    stem, number = name[: -len(".json")], 1
    while (Path(directory) / name).exists():
        number += 1
        name = f"{stem}_{number}.json"
    return name


def display_title(filename: str) -> str:
    """How 0.4.3 shows a file name: ``What is 67 Use... (November 24 2026 19-37-58)``.

    Only the last ``__`` (before the date) becomes ``... (``; 0.4.3 also turned a
    ``__`` inside the first words into one.
    """
    name = filename.replace(".json", "").replace(".JSON", "")
    words, sep, date = name.rpartition("__")
    if not sep:
        return name.replace("_", " ")
    return f"{words.replace('_', ' ')}... ({date.replace('_', ' ')})"


def save_conversation(
    messages: Iterable[Message],
    directory: str | os.PathLike[str],
    filename: str,
    *,
    secrets: Iterable[str] = (),
) -> Path:
    """Write ``messages`` to ``directory/filename`` atomically (0600) and return the path.

    Only LMC fields are kept; system and stream-only messages are left out; every
    occurrence of a secret (of 8 characters or more) in ``secrets`` is replaced by
    ``[REDACTED]``.
    """
    _check_filename(filename)
    path = Path(directory) / filename
    atomic_write_text(path, saved_text(messages, secrets))
    return path


def saved_text(messages: Iterable[Message], secrets: Iterable[str] = ()) -> str:
    """The file content :func:`save_conversation` writes for ``messages``."""
    hidden = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
    return json.dumps([_redact(_lmc_only(m), hidden) for m in messages if _is_saved(m)])


def remove_conversation(directory: str | os.PathLike[str], filename: str) -> bool:
    """Remove ``directory/filename`` (a conversation emptied by undoing every turn);
    returns whether there was one."""
    _check_filename(filename)
    path = Path(directory) / filename
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def load_conversation(path: str | os.PathLike[str]) -> list[Message]:
    """The messages saved in ``path``; ``ConversationError`` if it is not a conversation."""
    data = _read_json(Path(path))
    if not isinstance(data, list):
        raise ConversationError(path, f"not a list of messages (a JSON {type(data).__name__})")
    for index, message in enumerate(data):
        problem = _lmc_problem(message)
        if problem:
            raise ConversationError(path, f"message {index + 1} is not an LMC message: {problem}")
    return [m for m in data if m["role"] != "system"]


def list_conversations(directory: str | os.PathLike[str]) -> list[ConversationEntry]:
    """Every ``*.json`` file in ``directory``, newest first (date in the name, else mtime).

    Files that cannot be read as conversations are listed with ``error`` set.
    """
    folder = Path(directory)
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    entries = [_entry(folder / n) for n in names if _is_listed(n)]
    return sorted(entries, key=lambda e: (e.when, e.path.name), reverse=True)


def _first_text(messages: list[Message]) -> str:
    for message in messages:
        if message.get("role") == "system":
            continue
        content = message.get("content")
        return content if isinstance(content, str) else ""
    return ""


def _check_filename(filename: str) -> None:
    if not filename or filename in (".", "..") or "/" in filename or os.sep in filename:
        raise ValueError(f"not a plain file name: {filename!r}")


def _is_saved(message: Message) -> bool:
    if message.get("role") not in SAVED_ROLES:
        return False
    return (message.get("type"), message.get("format")) not in STREAM_ONLY


def _lmc_only(message: Mapping[str, Any]) -> dict[str, Any]:
    return {k: message[k] for k in LMC_FIELDS if k in message}


def _redact(value: Any, secrets: list[str]) -> Any:
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {k: _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secrets) for v in value]
    return value


def _read_json(path: Path) -> Any:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ConversationError(path, "not a regular file")
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConversationError(path, exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise ConversationError(path, "not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ConversationError(path, f"not valid JSON ({where}: {exc.msg})") from None


def _lmc_problem(message: Any) -> str | None:
    if not isinstance(message, dict):
        return f"a JSON {type(message).__name__}, not an object"
    role = message.get("role")
    if role not in SAVED_ROLES and role != "system":
        return f"unknown role {role!r}"
    if not isinstance(message.get("type"), str):
        return "no 'type'"
    if "content" not in message:
        return "no 'content'"
    if "call_id" in message and not isinstance(message["call_id"], str):
        return "'call_id' is not text"
    if "extra" in message and not isinstance(message["extra"], dict):
        return "'extra' is not an object"
    tool = message.get("tool")
    if "tool" in message and not (
        isinstance(tool, dict)
        and isinstance(tool.get("name"), str)
        and isinstance(tool.get("arguments"), dict)
    ):
        return "'tool' is not {name, arguments}"
    return None


def _is_listed(name: str) -> bool:
    return name.lower().endswith(".json") and not is_temp_name(name) and not name.startswith(".")


def _entry(path: Path) -> ConversationEntry:
    error: str | None = None
    try:
        load_conversation(path)
    except ConversationError as exc:
        error = exc.reason
    when = _date_in_name(path.name) or _mtime(path)
    return ConversationEntry(path=path, title=display_title(path.name), when=when, error=error)


def _date_in_name(name: str) -> datetime | None:
    match = _DATE_RE.search(name)
    if not match:
        return None
    month_name, day, year, hour, minute, second = match.groups()
    months = [m.lower() for m in _MONTHS]
    if month_name.lower() not in months:
        return None
    month = months.index(month_name.lower()) + 1
    try:
        return datetime(int(year), month, int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None


def _mtime(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime)
    except OSError:
        return datetime.min
