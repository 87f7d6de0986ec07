"""Where the user's files live: Open Interpreter's config dir and its subfolders."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "open-interpreter"
DIR_MODE = 0o700


def config_dir() -> Path:
    """The config dir (Linux: ``$XDG_CONFIG_HOME/open-interpreter``); not created."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def conversations_dir() -> Path:
    """The folder of saved conversations; not created."""
    return config_dir() / "conversations"


def profiles_dir() -> Path:
    """The folder of user profiles; not created."""
    return config_dir() / "profiles"


def ensure_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700; existing ones are left as is."""
    missing: list[Path] = []
    current = path
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
    return path
