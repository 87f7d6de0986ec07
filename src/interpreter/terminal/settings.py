"""Build the interpreter the command line asks for: defaults < profile < environment < flags."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter

__all__ = ["build_interpreter", "flags_profile", "profile_settings", "FAST_INSTRUCTIONS"]

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
    if getattr(args, "mcp", None):
        out["mcp_servers"] = _mcp_flags(args.mcp)
    return out


def _mcp_flags(specs: list[str]) -> dict[str, Any]:
    """``--mcp NAME=COMMAND`` (repeatable) as ``mcp_servers`` entries; a bad one is a
    usage error. A name the profile has too is replaced, not merged."""
    from ..mcp.config import McpConfigError, parse_cli_server
    from .args import UsageError

    servers: dict[str, Any] = {}
    for spec in specs:
        try:
            name, entry = parse_cli_server(spec)
        except McpConfigError as err:
            raise UsageError(str(err)) from None
        servers[name] = entry
    return servers


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


def profile_settings(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """The chosen profile's path, and its settings merged with the environment's and the
    flags' (checked: raises ``ProfileError``, one line, for a missing or broken profile)."""
    from ..store.profiles import env_overrides, load_profile, merge_profiles, resolve_profile

    path = resolve_profile(args.profile or "default")
    profile = load_profile(path)
    flags = flags_profile(args)
    merged = merge_profiles(profile, env_overrides(os.environ), flags)
    if "mcp_servers" in flags:  # a --mcp server replaces the profile's of that name
        servers = profile.get("mcp_servers")
        merged["mcp_servers"] = {**(servers if isinstance(servers, dict) else {}),
                                 **flags["mcp_servers"]}  # fmt: skip
    return path, _sandbox_last(merged)


def build_interpreter(
    args: argparse.Namespace, settings: tuple[Path, dict[str, Any]] | None = None
) -> OpenInterpreter:
    """An interpreter with the chosen profile, the environment and the flags applied
    (``settings``: what ``profile_settings(args)`` returned, when it was read already).

    Raises ``ProfileError`` (one line) for a missing or broken profile.
    """
    from ..core.interpreter import OpenInterpreter
    from ..execution.sandbox import SandboxUnavailable
    from ..store.profiles import ProfileError, apply_profile

    path, merged = settings or profile_settings(args)
    interp = OpenInterpreter(load_profile=False)
    interp.in_terminal_interface = True
    interp.profile_path = path  # where "always allow" rules are saved
    try:
        apply_profile(interp, merged)
    except SandboxUnavailable as err:  # one line, exit code 2, never an unsandboxed run
        raise ProfileError("--sandbox", str(err)) from None
    _apply_fast(interp, args)
    return interp
