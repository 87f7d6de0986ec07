"""The settings a profile may hold, their types, and one-line errors that point at the line."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator, Mapping
from typing import Any


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


class Field:
    """One setting: the Python types it accepts and how to say so."""

    __slots__ = ("kinds", "label", "nullable", "choices", "items")

    def __init__(
        self,
        kinds: tuple[type, ...],
        label: str,
        *,
        nullable: bool = False,
        choices: tuple[str, ...] = (),
        items: type | None = None,
    ) -> None:
        self.kinds = kinds
        self.label = label
        self.nullable = nullable
        self.choices = choices
        self.items = items


BOOL = Field((bool,), "true or false")
INT = Field((int,), "a whole number")
NUMBER = Field((int, float), "a number")
TEXT = Field((str,), "text")
OPT_INT = Field((int,), "a whole number or null", nullable=True)
OPT_NUMBER = Field((int, float), "a number or null", nullable=True)
OPT_TEXT = Field((str,), "text or null", nullable=True)
OPT_BOOL = Field((bool,), "true, false or null", nullable=True)
TEXT_LIST = Field((list,), "a list of text", items=str)
VERSION = Field((str, int, float), "a version number")

LLM: dict[str, Field] = {
    "model": TEXT,
    "temperature": NUMBER,
    "api_key": OPT_TEXT,
    "api_base": OPT_TEXT,
    "api_version": OPT_TEXT,
    "context_window": OPT_INT,
    "max_tokens": OPT_INT,
    "supports_functions": OPT_BOOL,
    "supports_vision": OPT_BOOL,
    "max_budget": OPT_NUMBER,
}
COMPUTER: dict[str, Field] = {
    "import_computer_api": BOOL,
    "languages": TEXT_LIST,
    "timeout": OPT_NUMBER,
    "emit_images": BOOL,
    "import_skills": BOOL,
    "offline": BOOL,
    "verbose": BOOL,
    "max_output": INT,
    "sandbox": BOOL,
    "allow_network": BOOL,
    "sandbox_allow_home": BOOL,
    "kernel_gateway": OPT_TEXT,
    "kernel_gateway_token": OPT_TEXT,
}
TOP: dict[str, Field] = {
    "permissions": Field((dict,), "a mapping like {allow: [{language: shell, command: ls}]}"),
    "custom_instructions": TEXT,
    "system_message": TEXT,
    "auto_run": BOOL,
    "offline": BOOL,
    "verbose": BOOL,
    "debug": BOOL,
    "loop": BOOL,
    "loop_message": TEXT,
    "loop_breakers": TEXT_LIST,
    "disable_telemetry": BOOL,
    "multi_line": BOOL,
    "highlight_active_line": BOOL,
    "plain_text_display": BOOL,
    "conversation_history": BOOL,
    "conversation_history_path": TEXT,
    "max_output": INT,
    "safe_mode": Field((str,), '"off", "ask" or "auto"', choices=("off", "ask", "auto")),
    "user_message_template": TEXT,
    "always_apply_user_message_template": BOOL,
    "code_output_template": TEXT,
    "empty_code_output_template": TEXT,
    "code_output_sender": Field((str,), '"user" or "assistant"', choices=("user", "assistant")),
    "shrink_images": BOOL,
    "os": BOOL,
    "speak_messages": BOOL,
    "contribute_conversation": BOOL,
    "version": VERSION,
}
SECTIONS: dict[str, dict[str, Field]] = {"llm": LLM, "computer": COMPUTER}
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


def field_for(path: tuple[str, ...]) -> Field | None:
    """The field at a setting path such as ``("llm", "model")``, or None if unknown."""
    if len(path) == 1:
        return TOP.get(path[0])
    if len(path) == 2 and path[0] in SECTIONS:
        return SECTIONS[path[0]].get(path[1])
    return None


def check_value(field: Field, value: Any, source: str, key: str, line: int | None = None) -> Any:
    """``value`` if it fits ``field`` (``False`` reads as ``"off"`` for choices); else raise."""
    if value is None and field.nullable:
        return value
    if value is False and "off" in field.choices:
        return "off"  # YAML reads an unquoted `off` as false
    fits = isinstance(value, field.kinds) and not (
        isinstance(value, bool) and bool not in field.kinds
    )
    if fits and field.items is not None:
        fits = all(isinstance(item, field.items) for item in value)
    if fits and field.choices:
        fits = value in field.choices
    if not fits:
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
    """The profile in the nested form, every key known and every value of its type.

    Old flat keys are moved into place when the profile has no ``version``.
    """
    out: dict[str, Any] = {}
    entries = sorted(_entries(data, "version" not in data), key=lambda e: e[0] == e[1])
    for in_file, path, value in entries:
        line = None
        field = field_for(path)
        if field is None or not _value_fits(field, value):
            line = key_line(text, in_file)
        if field is None:
            raise ProfileError(source, _unknown(path), line=line, key=".".join(in_file))
        value = check_value(field, value, source, ".".join(in_file), line)
        _put(out, path, value)
    for key in NOT_APPLIED & data.keys():
        out[key] = data[key]
    return out


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
    if len(path) == 1 and path[0] in SECTIONS:
        return "expected a section of settings (a mapping)"
    import difflib

    known = [*TOP, *(f"{s}.{k}" for s, fields in SECTIONS.items() for k in fields)]
    dotted = ".".join(path)
    close = difflib.get_close_matches(dotted, known, n=1)
    if not close and len(path) == 1:
        close = [f"{s}.{path[0]}" for s in SECTIONS if path[0] in SECTIONS[s]]
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
