"""Edits of YAML profiles that keep the user's comments and layout: the model choice
(``llm.model``, ``llm.api_base``) and "always allow" rules (``permissions.allow``).

The profile is loaded with ruamel.yaml in round-trip mode, changed and dumped again, so
comments, key order, quoting and flow or block style stay; the indentation is the one
the file uses. A setting that is commented out in its block (``# api_base: ...``) is set
on that line. The result is parsed back and must equal the old content with the change;
otherwise the file is rewritten from its parsed content, without comments. Files are
replaced atomically; non-YAML profiles are never changed. ruamel.yaml is imported on the
first edit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

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
_DOCUMENT_START = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*---[ \t]*\n")
_NEW_BLOCK = "Code that runs without asking (answer `a` at the approval question to add)"


def is_yaml_profile(path: Path) -> bool:
    """Whether ``path`` names a YAML profile (the only kind that is ever edited)."""
    return path.suffix.lower() in (".yaml", ".yml")


# -- round trip --------------------------------------------------------------------------


class _Document:
    """A profile's text loaded for a round trip: its settings as ruamel.yaml nodes."""

    def __init__(self, text: str) -> None:
        from ruamel.yaml.comments import CommentedMap
        from ruamel.yaml.error import YAMLError

        start = _DOCUMENT_START.match(text)  # comments and "---" before the settings
        self.head = start.group(0) if start else ""
        self.text = text[len(self.head) :]
        self.yaml = _round_trip()
        try:
            data = self.yaml.load(self.text) if self.text.strip() else None
        except YAMLError:
            raise ValueError("is not valid YAML") from None
        self.empty = data is None  # only comments (or nothing): they are kept as they are
        if data is not None and not isinstance(data, CommentedMap):
            raise ValueError("does not hold settings (key: value lines)")
        self.data: CommentedMap = CommentedMap() if data is None else data
        self.yaml.indent(**_layout(self.data))

    def dump(self) -> str:
        import io

        out = io.StringIO()
        self.yaml.dump(self.data, out)
        if not self.empty:
            return self.head + out.getvalue()
        body = self.text if not self.text or self.text.endswith("\n") else self.text + "\n"
        return self.head + body + out.getvalue()

    def block(self, key: str) -> CommentedMap:
        """The mapping under the top-level ``key`` (a new one when missing or empty).
        Raises ValueError when it holds something else."""
        from ruamel.yaml.comments import CommentedMap

        value = self.data.get(key)
        if value is None:
            value = CommentedMap()
            self.data[key] = value
        if not isinstance(value, CommentedMap):
            raise ValueError(f"{key} is not a block")
        return value


def _round_trip() -> YAML:
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip mode
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line
    yaml.brace_single_entry_mapping_in_flow_sequence = True  # [{a: b}] stays, not [a: b]
    return yaml


def _layout(root: CommentedMap) -> dict[str, int]:
    """The indentation the document uses: of nested mappings, and of block sequences
    (items, and their dashes, relative to their key); two spaces by default."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    mapping: int | None = None
    sequence: tuple[int, int] | None = None
    todo = [root]
    while todo and (mapping is None or sequence is None):
        parent = todo.pop(0)
        for value in parent.values():
            if not isinstance(value, (CommentedMap, CommentedSeq)) or not value:
                continue
            if value.fa.flow_style():
                continue
            if isinstance(value, CommentedMap):
                mapping = value.lc.col - parent.lc.col if mapping is None else mapping
                todo.append(value)
            elif isinstance(value, CommentedSeq) and sequence is None:
                offset = value.lc.col - parent.lc.col
                sequence = (value.lc.item(0)[1] - parent.lc.col, offset)
    items, dashes = sequence or (4, 2)
    return {"mapping": mapping or 2, "sequence": max(items, dashes + 2), "offset": dashes}


def _quoted(value: str) -> Any:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    return DoubleQuotedScalarString(value)


# -- the model choice --------------------------------------------------------------------


def set_llm_keys(text: str, values: Mapping[str, str]) -> str:
    """``text`` (a YAML profile) with ``llm.<key>: "value"`` set for each of ``values``: an
    existing line keeps its comment, a commented-out one is used, a missing one is added
    at the top of the block. Raises ValueError when ``llm`` holds something else."""
    doc = _uncommented(_Document(text), "llm", list(values))
    llm = doc.block("llm")
    added = 0
    for key, value in values.items():
        if key in llm:
            _keep_comment_gap(doc, llm, key, json.dumps(value, ensure_ascii=False))
            llm[key] = _quoted(value)
        else:
            llm.insert(added, key, _quoted(value))
            added += 1
    return doc.dump()


def _uncommented(doc: _Document, block: str, keys: list[str]) -> _Document:
    """``doc`` with the commented-out settings ``# key: ...`` of the top-level ``block``
    made live for those of ``keys`` it does not set, so that they are set where the
    profile offers them (unchanged when there are none, or the result would not load).
    Comments are invisible to a YAML parser: this is the one edit made on the text."""
    from ruamel.yaml.comments import CommentedMap

    value = doc.data.get(block)
    mapping = value if isinstance(value, CommentedMap) else CommentedMap()
    missing = [key for key in keys if key not in mapping]
    if block not in doc.data or not missing:
        return doc
    lines = doc.text.splitlines(keepends=True)
    start = doc.data.lc.key(block)[0]
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][:1] in " \t"):
        end += 1  # the block: the lines indented under its key
    indent = " " * mapping.lc.col if mapping else "[ \t]+"
    changed = False
    for key in missing:
        pattern = re.compile(rf"({indent})#\s*({re.escape(key)}\s*:.*)", re.DOTALL)
        for at in range(start + 1, end):
            match = pattern.fullmatch(lines[at])
            if match:
                lines[at] = match.group(1) + match.group(2)
                changed = True
                break
    if not changed:
        return doc
    try:
        return _Document(doc.head + "".join(lines))
    except ValueError:
        return doc


def _keep_comment_gap(doc: _Document, block: CommentedMap, key: str, new: str) -> None:
    """Move the end-of-line comment of ``key`` so that it stays clear of a longer value."""
    slot = block.ca.items.get(key)
    comment = slot[2] if slot and len(slot) > 2 else None
    if comment is None or comment.value.startswith("\n"):
        return
    line, value_col = block.lc.value(key)
    source = doc.text.splitlines()[line]
    old_end = len(source[: comment.column].rstrip())
    gap = max(1, comment.column - old_end)
    comment.column = max(comment.column, value_col + len(new) + gap)


# -- "always allow" rules -----------------------------------------------------------------


def add_allow_rule(text: str, rule: Mapping[str, str]) -> str:
    """``text`` (a YAML profile) with ``rule`` appended to ``permissions: allow:`` (the
    block is added at the end when missing). Raises ValueError when those settings hold
    something else."""
    from ruamel.yaml.comments import CommentedSeq

    doc = _Document(text)
    item = _flow_rule(rule)
    if doc.data.get("permissions") is None:
        new = "permissions" not in doc.data
        doc.block("permissions")["allow"] = CommentedSeq([item])
        if new:
            doc.data.yaml_set_comment_before_after_key("permissions", before="\n" + _NEW_BLOCK)
        return doc.dump()
    permissions = doc.block("permissions")
    allow = permissions.get("allow")
    if allow is None:
        permissions["allow"] = CommentedSeq([item])
    elif isinstance(allow, CommentedSeq):
        _append(allow, item, permissions.lc.col)
    else:
        raise ValueError("permissions.allow is not a list")
    return doc.dump()


def _flow_rule(rule: Mapping[str, str]) -> CommentedMap:
    """``rule`` as a one-line mapping with quoted strings: ``{"language": "shell", ...}``."""
    from ruamel.yaml.comments import CommentedMap

    item = CommentedMap((_quoted(k), _quoted(v)) for k, v in rule.items())
    item.fa.set_flow_style()
    return item


def _append(items: CommentedSeq, item: Any, key_col: int) -> None:
    """Append ``item`` to a block sequence, after the last item and the comment lines
    that belong to it (indented under the key), before the ones that follow the block."""
    slot = _last_comment_slot(items)
    items.append(item)
    if slot is None or items.fa.flow_style():
        return
    holder, index = slot
    comment = holder[index]
    eol, _, rest = comment.value.partition("\n")
    lines = rest.splitlines(keepends=True)
    keep = len(lines)
    for at, line in enumerate(lines):
        if line.strip() and len(line) - len(line.lstrip()) <= key_col:
            keep = at
            break
    while keep > 0 and not lines[keep - 1].strip():
        keep -= 1
    if keep == len(lines):
        return
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    comment.value = eol + "\n" + "".join(lines[:keep])
    moved = CommentToken("\n" + "".join(lines[keep:]), CommentMark(0))
    items.ca.items[len(items) - 1] = [moved, None, None, None]


def _last_comment_slot(node: Any) -> tuple[list[Any], int] | None:
    """Where the comment after the last entry of ``node`` is kept (the deepest one): the
    comment list and the index in it; None when there is no such comment."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap) and node:
        key: Any = list(node)[-1]
        index = 2
    elif isinstance(node, CommentedSeq) and node:
        key, index = len(node) - 1, 0
    else:
        return None
    value = node[key]
    if isinstance(value, (CommentedMap, CommentedSeq)) and not value.fa.flow_style():
        deeper = _last_comment_slot(value)
        if deeper is not None:
            return deeper
    holder = node.ca.items.get(key)
    if holder and len(holder) > index and holder[index] is not None:
        return holder, index
    return None


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
