"""The settings a profile may hold, their types, and one-line errors that point at the line."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator, Mapping
from typing import Any

from ..settings import SETTINGS, Kind, Setting, lookup


class ProfileError(Exception):
    """A profile that cannot be used. ``str()`` is one line: ``FILE:LINE: KEY: reason``."""

    def __init__(
        self, source: str, reason: str, *, line: int | None = None, key: str | None = None
    ) -> None:
        self.source = source
        self.reason = " ".join(reason.split())
        self.line = line
        self.key = key
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {key}: {self.reason}" if key else f"{where}: {self.reason}")


#: A setting's type (kept under its old name for this module's callers).
Field = Kind
VERSION = Kind((str, int, float), "a version number")


def _profile_keys(section: str) -> dict[str, Kind]:
    return {s.name: s.kind for s in SETTINGS if s.section == section and s.profile}


LLM: dict[str, Kind] = _profile_keys("llm")
COMPUTER: dict[str, Kind] = _profile_keys("computer")
TOP: dict[str, Kind] = {**_profile_keys("top"), "version": VERSION}
SECTIONS: dict[str, dict[str, Kind]] = {"llm": LLM, "computer": COMPUTER}
#: Accepted but never set on the interpreter (``wtf`` configures 0.4.3's ``wtf`` command).
NOT_APPLIED = frozenset({"version", "wtf"})
#: Old flat keys (profiles without ``version``) and where they live now.
FLAT_KEYS: dict[str, tuple[str, ...]] = {
    "model": ("llm", "model"),
    "temperature": ("llm", "temperature"),
    "llm_supports_vision": ("llm", "supports_vision"),
    "function_calling_llm": ("llm", "supports_functions"),
    "context_window": ("llm", "context_window"),
    "max_tokens": ("llm", "max_tokens"),
    "api_base": ("llm", "api_base"),
    "api_key": ("llm", "api_key"),
    "api_version": ("llm", "api_version"),
    "max_budget": ("llm", "max_budget"),
    "local": ("offline",),
}
#: Keys 0.4.3's own profiles put under ``llm`` although they are top-level settings.
LIFTED: dict[tuple[str, ...], tuple[str, ...]] = {
    ("llm", "max_output"): ("max_output",),
    ("llm", "custom_instructions"): ("custom_instructions",),
}


def warn(message: str) -> None:
    """A one-line warning about a profile (logger ``interpreter``; on stderr by default)."""
    import logging

    logging.getLogger("interpreter").warning("%s", message)


def profile_setting(path: tuple[str, ...]) -> Setting | None:
    """The setting a profile may write at ``path`` (``("llm", "model")``), or None."""
    found = lookup(path)
    return found if found is not None and found.profile else None


def field_for(path: tuple[str, ...]) -> Kind | None:
    """The type of the setting at a path such as ``("llm", "model")``, or None if unknown."""
    if path == ("version",):
        return VERSION
    found = profile_setting(path)
    return found.kind if found is not None else None


def check_value(field: Field, value: Any, source: str, key: str, line: int | None = None) -> Any:
    """``value`` if it fits ``field`` (``False`` reads as ``"off"`` for choices); else raise."""
    if value is False and "off" in field.choices:
        return "off"  # YAML reads an unquoted `off` as false
    if not field.accepts(value):
        reason = f"expected {field.label}, got {_show(value)}"
        raise ProfileError(source, reason, line=line, key=key)
    return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# -- parsing --------------------------------------------------------------------------------


def parse(text: str, source: str, *, as_json: bool) -> dict[str, Any]:
    """The mapping in a YAML (or JSON) profile; an empty file is an empty profile."""
    data = _parse_json(text, source) if as_json else _parse_yaml(text, source)
    if data is None:
        return {}
    if not isinstance(data, dict):
        reason = f"a profile is a mapping of settings, not a {type(data).__name__}"
        raise ProfileError(source, reason, line=1)
    return data


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except json.JSONDecodeError as exc:
        raise ProfileError(source, f"invalid JSON: {exc.msg}", line=exc.lineno) from None


def _parse_yaml(text: str, source: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ProfileError(source, f"invalid YAML: {exc.problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise ProfileError(source, f"invalid YAML: {exc}") from None


# -- validation -----------------------------------------------------------------------------


def validate(data: Mapping[str, Any], source: str, text: str) -> dict[str, Any]:
    """The profile in the nested form, every value of its type.

    Old flat keys are moved into place when the profile has no ``version``. An unknown key
    is left out with a one-line warning, unless it looks like a misspelt setting (then the
    user meant that one: ``ProfileError``). 0.4.3 keys this version does not support warn
    when switched on (``os: true``).
    """
    out: dict[str, Any] = {}
    entries = sorted(_entries(data, "version" not in data), key=lambda e: e[0] == e[1])
    for in_file, path, value in entries:
        key, line = ".".join(in_file), None
        field = field_for(path)
        if field is None or not _value_fits(field, value):
            line = key_line(text, in_file)
        if field is None:
            unknown_key(source, key, path, line)
            continue
        value = check_value(field, value, source, key, line)
        found = profile_setting(path)
        if found is not None and found.unsupported and value != found.default:
            where = _where(source, key_line(text, in_file))
            warn(f"{where}: {key}: {found.compat}; ignored")
        _put(out, path, value)
    for key in NOT_APPLIED & data.keys():
        out[key] = data[key]
    return out


def unknown_key(source: str, key: str, path: tuple[str, ...], line: int | None = None) -> None:
    """A key that is no setting: ``ProfileError`` when it looks like a misspelt one (or a
    section that is not a mapping), else a one-line warning; either way it sets nothing."""
    reason = _unknown(path)
    if reason != "unknown setting":
        raise ProfileError(source, reason, line=line, key=key)
    warn(f"{_where(source, line)}: {key}: unknown setting, ignored")


def _where(source: str, line: int | None) -> str:
    return source if line is None else f"{source}:{line}"


def _entries(
    data: Mapping[str, Any], flat: bool
) -> Iterator[tuple[tuple[str, ...], tuple[str, ...], Any]]:
    """(key path in the file, setting path, value) for every setting in ``data``."""
    for raw_key, value in data.items():
        key = str(raw_key)
        if key in NOT_APPLIED:
            continue
        if flat and key in FLAT_KEYS:
            yield (key,), FLAT_KEYS[key], value
        elif key in SECTIONS and (value is None or isinstance(value, dict)):
            for sub, sub_value in (value or {}).items():
                path = (key, str(sub))
                yield path, LIFTED.get(path, path), sub_value
        elif key in SECTIONS:
            yield (key,), (key,), value  # reported below: a section must be a mapping
        else:
            yield (key,), (key,), value


def _value_fits(field: Field, value: Any) -> bool:
    try:
        check_value(field, value, "", "")
    except ProfileError:
        return False
    return True


def _unknown(path: tuple[str, ...]) -> str:
    """Why ``path`` is refused: not a mapping, a misspelt setting (``did you mean``: a
    close name in the same section, or the same name in another one), or unknown."""
    if len(path) == 1 and path[0] in SECTIONS:
        return "expected a section of settings (a mapping)"
    import difflib

    *section, name = path
    where = SECTIONS[section[0]] if section else TOP
    prefix = f"{section[0]}." if section else ""
    close = [prefix + c for c in difflib.get_close_matches(name, list(where), n=1)]
    if not close:
        others = {"": TOP, **{f"{s}.": fields for s, fields in SECTIONS.items()}}
        close = [p + name for p, fields in others.items() if p != prefix and name in fields]
    return f"unknown setting (did you mean {close[0]}?)" if close else "unknown setting"


def _put(out: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    target = out
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def key_line(text: str, path: tuple[str, ...]) -> int | None:
    """The 1-based line where ``path`` (``("llm", "model")``) is written in a YAML/JSON text."""
    import yaml

    try:
        node: Any = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for part in path:
        if not isinstance(node, yaml.MappingNode):
            return line
        match = next((kv for kv in node.value if str(kv[0].value) == part), None)
        if match is None:
            return line
        line = match[0].start_mark.line + 1
        node = match[1]
    return line


# -- Python profiles ------------------------------------------------------------------------


class _DropOwnInterpreter(ast.NodeTransformer):
    """Removes ``from interpreter import interpreter`` and ``interpreter = OpenInterpreter()``,
    so that the script configures the interpreter it is given."""

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST | None:
        if node.module != "interpreter":
            return node
        node.names = [a for a in node.names if (a.asname or a.name) != "interpreter"]
        return node if node.names else None

    def visit_Assign(self, node: ast.Assign) -> ast.AST | None:
        target = node.targets[0] if len(node.targets) == 1 else None
        if isinstance(target, ast.Name) and target.id == "interpreter":
            call = node.value
            if isinstance(call, ast.Call) and _called_name(call) == "OpenInterpreter":
                return None
        return node


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def compile_python_profile(text: str, source: str) -> Any:
    """The code object of a profile script, bound to the interpreter it is run with."""
    try:
        tree = ast.parse(text, filename=source)
    except SyntaxError as exc:
        raise ProfileError(source, f"invalid Python: {exc.msg}", line=exc.lineno) from None
    tree = ast.fix_missing_locations(_DropOwnInterpreter().visit(tree))
    return compile(tree, source, "exec")


def traceback_line(exc: BaseException, source: str) -> int | None:
    """The last line of ``source`` in ``exc``'s traceback."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == source]
    return frames[-1].lineno if frames else None
