"""Build the interpreter the command line asks for: defaults < profile < environment < flags."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter

__all__ = ["build_interpreter", "flags_profile", "FAST_INSTRUCTIONS"]

FAST_MODEL = "gpt-4o-mini"
FAST_INSTRUCTIONS = "Be extremely concise: short answers, short code, no explanations unless asked."

_TOP_LEVEL = (
    "custom_instructions",
    "system_message",
    "auto_run",
    "verbose",
    "max_output",
    "loop",
    "offline",
    "safe_mode",
)
_LLM = {
    "model": "model",
    "temperature": "temperature",
    "context_window": "context_window",
    "max_tokens": "max_tokens",
    "max_budget": "max_budget",
    "api_base": "api_base",
    "api_key": "api_key",
    "api_version": "api_version",
    "llm_supports_vision": "supports_vision",
    "llm_supports_functions": "supports_functions",
}


def flags_profile(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as flags, in the nested profile form (unset flags left out)."""
    out: dict[str, Any] = {}
    for name in _TOP_LEVEL:
        value = getattr(args, name, None)
        if value is not None:
            out[name] = value
    llm = {
        key: getattr(args, flag) for flag, key in _LLM.items() if getattr(args, flag) is not None
    }
    if getattr(args, "fast", None) and "model" not in llm:
        llm["model"] = FAST_MODEL
    if llm:
        out["llm"] = llm
    flags = ("sandbox_allow_home", "allow_network", "sandbox")
    computer = {name: True for name in flags if getattr(args, name, None)}
    if computer:
        out["computer"] = computer
    return out


def _apply_display_flags(interp: OpenInterpreter, args: argparse.Namespace) -> None:
    if args.no_highlight_active_line:
        interp.highlight_active_line = False
    if args.multi_line:
        interp.multi_line = True
    if args.plain:
        interp.plain_text_display = True
    if args.debug:
        interp.debug = True
        interp.verbose = True
    if getattr(args, "kernel_gateway", None):
        interp.computer.kernel_gateway = args.kernel_gateway
    if args.fast:
        extra = str(interp.custom_instructions or "").strip()
        interp.custom_instructions = (extra + "\n\n" + FAST_INSTRUCTIONS).strip()


def _sandbox_last(profile: dict[str, Any]) -> dict[str, Any]:
    """``computer.sandbox`` applied after the settings it depends on (whatever their order)."""
    computer = profile.get("computer")
    if isinstance(computer, dict) and "sandbox" in computer:
        computer["sandbox"] = computer.pop("sandbox")
    return profile


def build_interpreter(args: argparse.Namespace) -> OpenInterpreter:
    """An interpreter with the chosen profile, the environment and the flags applied.

    Raises ``ProfileError`` (one line) for a missing or broken profile.
    """
    from ..core.interpreter import OpenInterpreter
    from ..store.profiles import (
        apply_profile,
        env_overrides,
        load_profile,
        merge_profiles,
        resolve_profile,
    )

    interp = OpenInterpreter(load_profile=False)
    interp.in_terminal_interface = True
    path = resolve_profile(args.profile or "default")
    interp.profile_path = path  # where "always allow" rules are saved
    profile = load_profile(path)
    from ..execution.sandbox import SandboxUnavailable
    from ..store.profiles import ProfileError

    merged = _sandbox_last(merge_profiles(profile, env_overrides(os.environ), flags_profile(args)))
    try:
        apply_profile(interp, merged)
    except SandboxUnavailable as err:  # one line, exit code 2, never an unsandboxed run
        raise ProfileError("--sandbox", str(err)) from None
    _apply_display_flags(interp, args)
    interp.llm.offline = bool(interp.offline)  # offline: the model must be local too
    return interp
