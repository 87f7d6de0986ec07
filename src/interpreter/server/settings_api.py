"""What ``/settings`` may read and change, by allow-list.

Clients may tune the conversation (custom instructions, temperature, limits). They may
not touch what keeps the operator safe: auto-run (it can only be switched off), safe
mode, the system message, the messages (the conversation is the session's own record:
``resume`` and ``reset`` change it), the model and where and with which key it is reached,
the budget, the computer, and where conversations are written. The API key is never
returned.

The model is the operator's choice: a client may switch only to a model the operator
allows (``allowed_models``: the server's ``INTERPRETER_ALLOWED_MODELS``; ``*`` allows
any), and never to one that would take the operator's own ``api_key`` to another
provider or server.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from ..settings import SETTINGS, Setting

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter
    from ..llm.providers import Route

Check = Callable[[Any], bool]


def _with_access(section: str, *access: str) -> tuple[Setting, ...]:
    return tuple(s for s in SETTINGS if s.section == section and s.server in access)


#: From the settings table (interpreter/settings.py): what clients may change ...
WRITABLE: dict[str, Check] = {s.name: s.kind.accepts for s in _with_access("top", "write")}
LLM_WRITABLE: dict[str, Check] = {s.name: s.kind.accepts for s in _with_access("llm", "write")}
#: ... what they may only read (``auto_run`` may also be switched off) ...
READ_ONLY = tuple(s.name for s in _with_access("top", "read", "switch_off"))
LLM_READ_ONLY = tuple(s.name for s in _with_access("llm", "read"))
#: ... and what is refused with 403 (any other attribute of the interpreter, too).
PROTECTED = frozenset(
    {s.name for s in SETTINGS if s.section == "top" and s.attribute and s.name not in WRITABLE}
    | {"computer", "approval_callback", "conversation_filename", "messages"}
)
#: ``allowed_models`` entry that allows any model.
ANY_MODEL = "*"


class SettingsError(Exception):
    """A refused settings change: ``status`` is 400, 403 or 404."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _protected(name: str) -> SettingsError:
    return SettingsError(403, f"the setting {name!r} cannot be changed through the server (safety)")


def _check_model(interp: OpenInterpreter, model: Any, allowed: Collection[str]) -> None:
    """A change of ``llm.model``: to a model the operator allows, on the same provider and
    server when the operator gave the key itself."""
    if not isinstance(model, str) or not model.strip():
        raise SettingsError(400, f"invalid value for 'llm.model': {model!r}")
    if model == interp.llm.model:
        return
    if model not in allowed and ANY_MODEL not in allowed:
        offered = ", ".join(sorted(allowed))
        why = f"the operator allows: {offered}" if offered else "set by the operator"
        raise SettingsError(403, f"the model cannot be changed through the server ({why})")
    if interp.llm.api_key:
        here, there = _route(interp, interp.llm.model), _route(interp, model)
        if _where(there) != _where(here):
            to = there.provider if there.provider != here.provider else there.server
            raise SettingsError(
                403, f"the model {model!r} would take the operator's API key to {to}"
            )


def _route(interp: OpenInterpreter, model: str) -> Route:
    from ..llm.providers import choose_route

    return choose_route(model, api_base=interp.llm.api_base, api_key="(the operator's)")


def _where(route: Route) -> tuple[str, str, str, str | None]:
    """Who a route's requests (and key) go to: LiteLLM's provider is its prefix."""
    return (
        route.kind,
        route.provider,
        route.api_base,
        route.prefix if route.kind == "litellm" else None,
    )


def _check_llm(interp: OpenInterpreter, value: Any, allowed: Collection[str]) -> None:
    if not isinstance(value, dict):
        raise SettingsError(400, "'llm' must be an object of model settings")
    for key, sub in value.items():
        if key == "model":
            _check_model(interp, sub, allowed)
            continue
        check = LLM_WRITABLE.get(key)
        if check is None:
            if hasattr(interp.llm, key):
                raise _protected(f"llm.{key}")
            raise SettingsError(404, f"unknown setting 'llm.{key}'")
        if not check(sub):
            raise SettingsError(400, f"invalid value for 'llm.{key}': {sub!r}")


def _check(interp: OpenInterpreter, key: str, value: Any, allowed: Collection[str]) -> None:
    if key == "llm":
        _check_llm(interp, value, allowed)
    elif key == "auto_run" and value is False:
        return  # switching auto-run off is always allowed
    elif key in WRITABLE:
        if not WRITABLE[key](value):
            raise SettingsError(400, f"invalid value for {key!r}")
    elif key in PROTECTED or hasattr(interp, key):
        raise _protected(key)
    else:
        raise SettingsError(404, f"unknown setting {key!r}")


def validate_settings(
    interp: OpenInterpreter, payload: Any, allowed_models: Collection[str] = ()
) -> None:
    """Raises ``SettingsError`` unless every change in ``payload`` is allowed
    (``allowed_models``: the models a client may switch to, see the module docstring)."""
    if not isinstance(payload, dict):
        raise SettingsError(400, "settings must be a JSON object")
    for key, value in payload.items():
        _check(interp, str(key), value, allowed_models)


def apply_settings(
    interp: OpenInterpreter, payload: dict[str, Any], allowed_models: Collection[str] = ()
) -> None:
    """Validates, then applies all of ``payload`` (nothing is applied on error)."""
    validate_settings(interp, payload, allowed_models)
    for key, value in payload.items():
        if key == "llm":
            for sub, sub_value in value.items():
                setattr(interp.llm, sub, sub_value)
        else:
            setattr(interp, key, value)


def llm_view(interp: OpenInterpreter) -> dict[str, Any]:
    names = [*LLM_WRITABLE, *LLM_READ_ONLY]
    view = {name: getattr(interp.llm, name, None) for name in names}
    view["api_key_set"] = bool(interp.llm.api_key)
    return view


def settings_view(interp: OpenInterpreter) -> dict[str, Any]:
    """The readable settings (never the API key, nor the messages)."""
    view = {name: getattr(interp, name, None) for name in WRITABLE}
    view.update({name: getattr(interp, name, None) for name in READ_ONLY})
    view["llm"] = llm_view(interp)
    return view


def read_setting(interp: OpenInterpreter, name: str) -> Any:
    """One readable setting (``llm`` and ``messages`` included); raises ``SettingsError``."""
    if name == "messages":
        return interp.messages
    if name in ("api_key", "llm.api_key"):
        raise SettingsError(403, "the API key is never returned")
    if name.startswith("llm."):
        view = llm_view(interp)
        if name[4:] in view:
            return view[name[4:]]
        raise SettingsError(404, f"unknown setting {name!r}")
    view = settings_view(interp)
    if name in view:
        return view[name]
    if hasattr(interp, name):
        raise SettingsError(403, f"the setting {name!r} is not readable through the server")
    raise SettingsError(404, f"unknown setting {name!r}")


def jsonable(value: Any) -> Any:
    """``value`` with anything JSON cannot hold turned into strings."""
    import json

    return json.loads(json.dumps(value, default=str))
