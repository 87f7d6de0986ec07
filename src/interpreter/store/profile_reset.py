"""``--reset_profile``: the default profile back to its commented defaults, with a backup
of the old one and its permission rules carried over.

The old file is copied to ``default.yaml.bak-YYYYMMDD-HHMMSS`` beside it (``-2``, ``-3``,
... when that name is taken), then the defaults are written with the old
``permissions.allow`` rules added (``profile_edit.add_allow_rule``). Both writes are
atomic; the backup is written first, so an interrupted reset loses nothing. A profile that
cannot be read keeps its rules in the backup only (``ResetDone.rules_lost`` says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .atomic import atomic_write_text

__all__ = ["ResetDone", "reset_profile"]


@dataclass(frozen=True)
class ResetDone:
    """What a reset did: where the old profile went and which rules it kept."""

    path: Path
    backup: Path | None  # None: there was no old profile
    rules: tuple[dict[str, str], ...] = ()
    rules_lost: str | None = None  # why the old rules could not be read

    def summary(self) -> str:
        """One or two lines for the user."""
        lines = [f"Reset {self.path} to the defaults."]
        if self.backup is not None:
            lines.append(f"The old profile is saved as {self.backup}.")
        if self.rules:
            lines.append(f"Its {len(self.rules)} permission rule(s) were carried over.")
        if self.rules_lost:
            lines.append(f"Its permission rules were not carried over: it {self.rules_lost}.")
        return " ".join(lines)


def reset_profile(path: Path, defaults: str, now: datetime | None = None) -> ResetDone:
    """Replace the profile at ``path`` with ``defaults`` plus its old permission rules,
    keeping a backup of the old file."""
    from .profile_edit import add_allow_rule

    old = path.read_text(encoding="utf-8") if path.is_file() else None
    if old is None:
        atomic_write_text(path, defaults)
        return ResetDone(path, None)
    backup = _write_backup(path, old, now or datetime.now())
    try:
        rules = _allow_rules(old)
    except ValueError as err:
        atomic_write_text(path, defaults)
        return ResetDone(path, backup, rules_lost=str(err))
    new = defaults
    for rule in rules:
        new = add_allow_rule(new, rule)
    atomic_write_text(path, new)
    return ResetDone(path, backup, tuple(rules))


def _write_backup(path: Path, text: str, now: datetime) -> Path:
    stem = f"{path.name}.bak-{now:%Y%m%d-%H%M%S}"
    for number in range(1, 1000):
        backup = path.with_name(stem if number == 1 else f"{stem}-{number}")
        if atomic_write_text(backup, text, overwrite=False):
            return backup
    raise FileExistsError(f"no free backup name for {path}")


def _allow_rules(text: str) -> list[dict[str, str]]:
    """The ``permissions.allow`` rules of a profile's text (those that are rules: mappings
    of strings). Raises ValueError (a short reason) when the text cannot be read."""
    import yaml

    try:
        data: Any = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError:
        raise ValueError("is not valid YAML") from None
    if not isinstance(data, Mapping):
        return []
    permissions = data.get("permissions")
    allow = permissions.get("allow") if isinstance(permissions, Mapping) else None
    if not isinstance(allow, list):
        return []
    return [
        {str(k): str(v) for k, v in rule.items()}
        for rule in allow
        if isinstance(rule, Mapping) and all(isinstance(v, str) for v in rule.values())
    ]
