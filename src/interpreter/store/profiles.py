"""Profiles: settings files in Open Interpreter 0.4.3's format, loaded and validated.

A profile is YAML (or JSON) with nested keys (``llm: {model: ...}``, ``computer: {...}``,
``auto_run``, ...) and ``version: 0.2.5``. Files without ``version`` use the old flat
keys (``model``, ``temperature``, ...), which are read into the nested form in memory;
files are never modified. A ``.py`` profile in the profiles folder is a script run with
``interpreter`` in its globals. Profiles are never fetched from URLs.

Precedence is built-in defaults < profile < environment < command line: callers apply
``merge_profiles(profile, env_overrides(os.environ), flags)`` with ``apply_profile``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..settings import SETTINGS, holder
from . import profile_schema as schema
from .atomic import atomic_write_text
from .paths import profiles_dir
from .profile_schema import ProfileError

__all__ = [
    "ENV_SETTINGS",
    "PROFILE_VERSION",
    "PYTHON_PROFILE",
    "ProfileError",
    "apply_profile",
    "ensure_default_profile",
    "env_overrides",
    "load_default_profile_into",
    "load_profile",
    "merge_profiles",
    "resolve_profile",
]

PROFILE_VERSION = "0.2.5"
#: Key of the marker ``load_profile`` returns for a Python profile: its path.
PYTHON_PROFILE = "__python_profile__"
EXTENSIONS = ("", ".yaml", ".yml", ".json", ".py")
_URL_RE = re.compile(r"^([a-z][a-z0-9+.-]*://|(www\.)?i\.com/|www\.)", re.IGNORECASE)

#: Environment variables read by ``env_overrides``: name -> (setting, kind). From the
#: settings table (interpreter/settings.py); ``INTERPRETER_API_KEY`` is the server's token.
ENV_SETTINGS: dict[str, tuple[tuple[str, ...], str]] = {
    s.env: (s.path, s.kind.parser) for s in SETTINGS if s.env is not None
}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


# -- finding and creating profiles ------------------------------------------------------


def default_profile_text() -> str:
    """The commented ``default.yaml`` written for new users."""
    return (Path(__file__).with_name("default_profile.yaml")).read_text(encoding="utf-8")


def ensure_default_profile() -> Path:
    """Create ``profiles/default.yaml`` (0600) if it is missing; return its path."""
    path = profiles_dir() / "default.yaml"
    if not path.exists():
        atomic_write_text(path, default_profile_text(), overwrite=False)
    return path


def resolve_profile(name_or_path: str | os.PathLike[str]) -> Path:
    """The file a ``--profile`` argument names.

    ``NAME``, ``NAME.yaml``, ``NAME.yml``, ``NAME.json`` or ``NAME.py`` in the profiles
    folder, else a path on disk. URLs are refused; ``.py`` files are accepted only from
    the profiles folder. ``default`` is created when missing.
    """
    text = os.fspath(name_or_path)
    if _URL_RE.match(text):
        raise ProfileError(text, f"profiles are not downloaded; save it in {profiles_dir()}")
    if text in ("default", "default.yaml"):
        return ensure_default_profile()
    if os.sep not in text and "/" not in text:
        for extension in EXTENSIONS:
            candidate = profiles_dir() / f"{text}{extension}"
            if _is_file(candidate):
                return candidate
    path = Path(text).expanduser()
    if not _is_file(path):
        tried = ", ".join(f"{text}{e}" for e in EXTENSIONS)
        raise ProfileError(text, f"no such profile (looked for {tried} in {profiles_dir()})")
    _check_python_allowed(path)
    return path


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        return False


def _check_python_allowed(path: Path) -> None:
    if path.suffix.lower() != ".py":
        return
    folder = profiles_dir().resolve()
    if path.resolve().parent != folder:
        raise ProfileError(str(path), f"Python profiles run only from {folder}")


# -- loading --------------------------------------------------------------------------------


def load_profile(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The validated settings in a profile file, in the nested form.

    A ``.py`` profile gives ``{PYTHON_PROFILE: "<path>"}`` for ``apply_profile`` to run.
    Raises ``ProfileError`` (one line: file, line, key, reason); the file is not changed.
    """
    file = Path(path)
    source = str(file)
    if file.suffix.lower() == ".py":
        _check_python_allowed(file)
        return {PYTHON_PROFILE: source}
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ProfileError(source, exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise ProfileError(source, "not UTF-8 text") from None
    data = schema.parse(text, source, as_json=file.suffix.lower() == ".json")
    return schema.validate(data, source, text)


# -- combining and applying ---------------------------------------------------------------


def merge_profiles(*profiles: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge profiles; later ones win, sections (``llm``, ``computer``) merge key by key."""
    merged: dict[str, Any] = {}
    for profile in profiles:
        for key, value in profile.items():
            old = merged.get(key)
            if isinstance(old, dict) and isinstance(value, Mapping):
                merged[key] = merge_profiles(old, value)
            elif isinstance(value, Mapping):
                merged[key] = merge_profiles(value)
            else:
                merged[key] = value
    return merged


def apply_profile(interp: Any, profile: Mapping[str, Any]) -> None:
    """Set the profile's settings as attributes of ``interp`` (``interp.llm.model``, ...).

    Only settings of the table are set: a misspelt one raises ``ProfileError``, another
    unknown key is a warning; 0.4.3 keys that do nothing here (``os``, ...) set nothing.
    ``computer.languages`` keeps only the named languages; a Python profile's script
    runs first.
    """
    if PYTHON_PROFILE in profile:
        _run_python_profile(interp, Path(profile[PYTHON_PROFILE]))
    for path, value in _leaves(profile):
        if path[0] in schema.NOT_APPLIED:
            continue
        found = schema.profile_setting(path)
        if found is None:
            schema.unknown_key("profile", ".".join(path), path)
        elif not found.attribute:
            continue  # a 0.4.3 key that does nothing here (see its ``compat``)
        elif path == ("computer", "languages"):
            _keep_languages(interp.computer, value)
        else:
            setattr(holder(interp, found), found.name, value)


def _leaves(profile: Mapping[str, Any]) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in profile.items():
        if key == PYTHON_PROFILE:
            continue
        if key in schema.SECTIONS and isinstance(value, Mapping):
            for sub, sub_value in value.items():
                yield (key, sub), sub_value
        else:
            yield (key,), value


def _keep_languages(computer: Any, names: list[str]) -> None:
    wanted = {n.lower() for n in names}
    current = getattr(computer, "languages", None)
    if not isinstance(current, list):
        computer.languages = list(names)
        return

    def named(language: Any) -> bool:
        all_names = (getattr(language, "name", ""), *getattr(language, "aliases", ()))
        return any(str(n).lower() in wanted for n in all_names)

    computer.languages = [language for language in current if named(language)]


def _run_python_profile(interp: Any, path: Path) -> None:
    """Run a profile script with ``interpreter`` bound to ``interp``."""
    _check_python_allowed(path)
    source = str(path)
    try:
        code = schema.compile_python_profile(path.read_text(encoding="utf-8"), source)
    except OSError as exc:
        raise ProfileError(source, exc.strerror or str(exc)) from None
    scope: dict[str, Any] = {"__name__": "__profile__", "__file__": source, "interpreter": interp}
    try:
        exec(code, scope)
    except Exception as exc:
        line = schema.traceback_line(exc, source)
        raise ProfileError(source, f"the profile failed: {exc!r}", line=line) from None


# -- environment and the library's default ----------------------------------------------


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Profile-shaped settings from ``INTERPRETER_*`` variables (see ``ENV_SETTINGS``).

    Empty variables are ignored; a value of the wrong kind raises ``ProfileError``.
    """
    out: dict[str, Any] = {}
    for name, (path, kind) in ENV_SETTINGS.items():
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        value = _parse_env(name, raw, kind)
        field = schema.field_for(path)
        if field is not None:
            schema.check_value(field, value, "environment", name)
        section = out.setdefault(path[0], {}) if len(path) == 2 else out
        section[path[-1]] = value
    return out


def _parse_env(name: str, raw: str, kind: str) -> Any:
    parsers: dict[str, Callable[[str], Any]] = {
        "str": str,
        "int": int,
        "number": float,
        "bool": _parse_bool,
    }
    try:
        return parsers[kind](raw)
    except ValueError:
        expected = {"int": "a whole number", "number": "a number", "bool": "true or false"}
        reason = f"expected {expected.get(kind, kind)}, got {raw!r}"
        raise ProfileError("environment", reason, key=name) from None


def _parse_bool(raw: str) -> bool:
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ValueError(raw)


def load_default_profile_into(interp: Any) -> None:
    """Apply ``profiles/default.yaml`` (if it exists) and the environment to ``interp``.

    Does nothing when ``INTERPRETER_NO_DEFAULT_PROFILE=1``. Never creates files; a
    broken ``default.yaml`` raises ``ProfileError``.
    """
    if os.environ.get("INTERPRETER_NO_DEFAULT_PROFILE", "").strip().lower() in _TRUE:
        return
    path = profiles_dir() / "default.yaml"
    profile = load_profile(path) if path.is_file() else {}
    apply_profile(interp, merge_profiles(profile, env_overrides(os.environ)))
