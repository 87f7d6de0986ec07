"""Allow rules: code that runs without asking, matched conservatively.

A rule is a mapping ``{"language": "shell"}`` (every shell command: language-wide) or
``{"language": "shell", "command": "git status*"}``. A ``command`` ending in ``*`` is a
prefix (``git status*`` allows ``git status`` and ``git status -s``, not ``git statusx``);
otherwise the code must equal it (surrounding blank space aside). A shell rule with a
command only ever matches one simple command: code holding ``;``, ``&``, ``|``, backticks,
``$``, redirections, a backslash or a newline needs approval. Profiles hold the rules
under ``permissions: {allow: [...]}``. ``remember`` adds a rule for the session only; the
core never writes a profile (the terminal saves the rule of an ``a`` answer, see
``terminal/session.py`` and ``store/profile_edit.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "Rule",
    "allowed",
    "is_simple_command",
    "matches",
    "remember",
    "rule_for",
    "rules_of",
]

Rule = dict[str, str]
SHELLS = frozenset({"shell", "bash", "sh", "zsh"})
# Anything that could chain, substitute, redirect or continue a second command.
_UNSAFE = re.compile(r"[;&|`$<>\\\n\r\x00]|\(|\)")


def _lang(name: str) -> str:
    name = name.strip().lower()
    return "shell" if name in SHELLS else name


def is_simple_command(code: str) -> bool:
    """True when ``code`` is one shell command without chaining, substitution or redirection."""
    text = code.strip()
    return bool(text) and _UNSAFE.search(text) is None


def matches(rule: Mapping[str, Any], language: str, code: str) -> bool:
    """Whether ``rule`` allows ``code`` in ``language``."""
    if _lang(str(rule.get("language", ""))) != _lang(language):
        return False
    command = rule.get("command")
    if command is None:
        return True  # language-wide
    if not isinstance(command, str) or not command.strip():
        return False
    text = code.strip()
    if _lang(language) == "shell" and not is_simple_command(text):
        return False
    if command.endswith("*"):
        prefix = command[:-1].rstrip()
        return (
            text == prefix
            or text.startswith(prefix + " ")
            or (prefix.endswith(" ") and text.startswith(prefix))
        )
    return text == command.strip()


def allowed(rules: Iterable[Mapping[str, Any]], language: str, code: str) -> bool:
    """Whether any of ``rules`` allows ``code``."""
    return any(matches(rule, language, code) for rule in rules)


def rule_for(language: str, code: str) -> Rule | None:
    """The "always allow this command" rule for ``code``; None where no narrow rule fits
    (shell code that is not one simple command)."""
    text = code.strip()
    if not text or (_lang(language) == "shell" and not is_simple_command(text)):
        return None
    return {"language": _lang(language), "command": text}


def rules_of(permissions: Any) -> list[Mapping[str, Any]]:
    """The well-formed allow rules in a ``permissions`` setting (``{"allow": [...]}``)."""
    if not isinstance(permissions, Mapping):
        return []
    allow = permissions.get("allow")
    if not isinstance(allow, list):
        return []
    return [rule for rule in allow if isinstance(rule, Mapping) and "language" in rule]


def remember(interp: Any, language: str, code: str) -> Rule | None:
    """Add the "always allow" rule for ``code`` to ``interp.permissions`` (this session)."""
    rule = rule_for(language, code)
    if rule is None:
        return None
    permissions = interp.permissions if isinstance(interp.permissions, dict) else {}
    allow = permissions.setdefault("allow", [])
    if rule not in allow:
        allow.append(rule)
    interp.permissions = permissions
    return rule
