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


def flags_profile(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as flags, in the nested profile form (unset flags left out).

    Every flag of a setting in the table (interpreter/settings.py) lands here;
    ``--fast`` picks gpt-4o-mini unless ``--model`` is given.
    """
    from ..store.profiles import merge_profiles
    from .args import setting_flags

    out: dict[str, Any] = {}
    for flag, item in setting_flags().items():
        value = getattr(args, flag, None)
        if value is None or not item.attribute:
            continue  # unset, or refused by parse_args (--os, --speak_messages)
        value = (not value) if item.negated_flag else value
        nested: dict[str, Any] = {item.name: value}
        out = merge_profiles(out, nested if item.section == "top" else {item.section: nested})
    if getattr(args, "fast", None) and "model" not in out.get("llm", {}):
        out = merge_profiles(out, {"llm": {"model": FAST_MODEL}})
    return out


def _apply_fast(interp: OpenInterpreter, args: argparse.Namespace) -> None:
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
    _apply_fast(interp, args)
    return interp
