"""Targeted edits of YAML profiles: the model choice (``llm.model``, ``llm.api_base``) and
"always allow" rules (``permissions.allow``).

Only the lines a change needs are touched, so every other line and comment stays. The
result is parsed back and must equal the old content with the change; otherwise (e.g.
``llm: {...}`` on one line) the file is rewritten from its parsed content, without
comments. Files are replaced atomically; non-YAML profiles are never changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "REWRITTEN",
    "add_allow_rule",
    "edit_profile",
    "is_yaml_profile",
    "read_profile",
    "save_allow_rule",
    "set_llm_keys",
]

REWRITTEN = "rewritten (its comments were lost)"
_COMMENT = re.compile(r"\s+#.*$")
_NEW_BLOCK = "\n# Code that runs without asking (answer `a` at the approval question to add)\n"


def is_yaml_profile(path: Path) -> bool:
    """Whether ``path`` names a YAML profile (the only kind that is ever edited)."""
    return path.suffix.lower() in (".yaml", ".yml")


# -- finding blocks ----------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines


def _width(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def block_extent(lines: list[str], start: int) -> tuple[int, str]:
    """Where the block under the key on ``lines[start]`` ends (after its last non-blank
    line) and the indentation of its entries (two spaces deeper when it has none)."""
    base = _width(lines[start])
    end = last = start + 1
    indent = ""
    while end < len(lines):
        stripped = lines[end].strip()
        if stripped:
            width = _width(lines[end])
            item = width == base and (stripped.startswith("- ") or stripped == "-")
            if width <= base and not item:
                break
            last = end + 1
            if not indent and not stripped.startswith("#"):
                indent = lines[end][:width]
        end += 1
    return last, indent or lines[start][:base] + "  "


def _key_line(lines: list[str], key: str, span: tuple[int, int], indent: str) -> int | None:
    """The line ``<indent>key:`` that opens a block within ``span``; None when missing.
    Raises ValueError when the key holds its value on its own line (``key: {...}``)."""
    opens = re.compile(rf"^{re.escape(indent)}{re.escape(key)}\s*:\s*(#.*)?$")
    inline = re.compile(rf"^{re.escape(indent)}{re.escape(key)}\s*:")
    for at in range(*span):
        if opens.match(lines[at].rstrip("\r\n")):
            return at
        if inline.match(lines[at]):
            raise ValueError(f"{key} is not a block")
    return None


# -- the edits ---------------------------------------------------------------------------


def _set_key(lines: list[str], start: int, end: int, indent: str, key: str, value: str) -> None:
    active = re.compile(rf"^{re.escape(indent)}{key}\s*:(.*)$")
    commented = re.compile(rf"^\s*#\s*{key}\s*:(.*)$")
    for pattern in (active, commented):
        for at in range(start + 1, end):
            match = pattern.match(lines[at].rstrip("\n"))
            if match:
                comment = _COMMENT.search(match.group(1))
                tail = "  " + comment.group(0).strip() if comment else ""
                lines[at] = f"{indent}{key}: {value}{tail}\n"
                return
    lines.insert(start + 1, f"{indent}{key}: {value}\n")


def set_llm_keys(text: str, values: Mapping[str, str]) -> str:
    """``text`` (a YAML profile) with ``llm.<key>: value`` set for each of ``values``,
    by editing only those lines. Raises ValueError when the layout does not allow it."""
    lines = _lines(text)
    start = _key_line(lines, "llm", (0, len(lines)), "")
    if start is None:
        lines.append("llm:\n")
        start = len(lines) - 1
    for key, value in values.items():
        end, indent = block_extent(lines, start)
        _set_key(lines, start, end, indent, key, json.dumps(value))
    return "".join(lines)


def add_allow_rule(text: str, rule: Mapping[str, str]) -> str:
    """``text`` (a YAML profile) with ``rule`` appended to ``permissions: allow:`` (the
    block is added at the end when missing). Raises ValueError when the layout does not
    allow a targeted edit."""
    lines = _lines(text)
    item = json.dumps(dict(rule), ensure_ascii=False)
    top = _key_line(lines, "permissions", (0, len(lines)), "")
    if top is None:
        return "".join(lines) + f"{_NEW_BLOCK}permissions:\n  allow:\n    - {item}\n"
    end, indent = block_extent(lines, top)
    allow = _key_line(lines, "allow", (top + 1, end), indent)
    if allow is None:
        lines[end:end] = [f"{indent}allow:\n", f"{indent}  - {item}\n"]
    else:
        stop, items = block_extent(lines, allow)
        lines.insert(stop, f"{items}- {item}\n")
    return "".join(lines)


# -- reading and writing -------------------------------------------------------------------


def read_profile(path: Path) -> tuple[str, dict[str, Any]]:
    """The text of the YAML profile at ``path`` ("" when missing) and its settings.
    Raises ValueError (a short reason) when it does not hold a YAML mapping."""
    import yaml

    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        data: Any = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError:
        raise ValueError("is not valid YAML") from None
    if data is None:
        return text, {}
    if not isinstance(data, dict):
        raise ValueError("does not hold settings (key: value lines)")
    return text, data


def _parsed(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def edit_profile(
    path: Path,
    edit: Callable[[str], str],
    change: Callable[[dict[str, Any]], dict[str, Any]],
) -> str:
    """Replace the YAML profile at ``path`` with ``edit(text)``, or, when that does not
    parse to ``change(settings)``, with those settings dumped. Returns "updated" or
    ``REWRITTEN``; raises ValueError as ``read_profile`` does, OSError when unwritable."""
    import yaml

    from .atomic import atomic_write_text

    old, data = read_profile(path)
    expected = change(data)
    try:
        new = edit(old)
    except ValueError:
        new = ""
    how = "updated"
    if not new or _parsed(new) != expected:
        new, how = str(yaml.safe_dump(expected, sort_keys=False, allow_unicode=True)), REWRITTEN
    atomic_write_text(path, new)
    return how


def _allow_list(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    permissions = data.get("permissions")
    permissions = {} if permissions is None else permissions
    if not isinstance(permissions, dict):
        raise ValueError("has a permissions setting that is not a mapping")
    allow = permissions.get("allow")
    allow = [] if allow is None else allow
    if not isinstance(allow, list):
        raise ValueError("has a permissions.allow setting that is not a list")
    return permissions, allow


def _with_rule(data: dict[str, Any], rule: dict[str, str]) -> dict[str, Any]:
    permissions, allow = _allow_list(data)
    return {**data, "permissions": {**permissions, "allow": [*allow, rule]}}


def save_allow_rule(path: Path, rule: Mapping[str, str]) -> str:
    """Add ``rule`` to ``permissions.allow`` in the YAML profile at ``path`` unless it is
    already there; return one line saying what was done."""
    if not is_yaml_profile(path):
        return f"Allowed for this session only: {path.name} is not a YAML profile."
    wanted = dict(rule)
    try:
        if wanted in _allow_list(read_profile(path)[1])[1]:
            return f"Already allowed in {path}."
        how = edit_profile(
            path, lambda text: add_allow_rule(text, wanted), lambda data: _with_rule(data, wanted)
        )
    except ValueError as err:
        return f"Allowed for this session only: {path} {err}."
    except OSError as err:
        return f"Allowed for this session only: {path} could not be written ({err.strerror})."
    return f"Saved in {path} ({how}): it will run without asking from now on."
