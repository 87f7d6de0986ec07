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


def data_dir() -> Path:
    """The data dir (Linux: ``$XDG_DATA_HOME/open-interpreter``): what a conversation keeps
    beside its file (checkpoints, whole program outputs, kernel messages); not created."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def conversation_data_dir(conversation_id: str) -> Path:
    """The folder of one conversation's data (``conversation_id``: its file name without
    ``.json``, or a session id when nothing is saved); not created."""
    if not conversation_id or "/" in conversation_id or conversation_id in (".", ".."):
        raise ValueError(f"not a conversation id: {conversation_id!r}")
    return data_dir() / "conversations" / conversation_id


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


OLD_APP_NAMES = ("Open Interpreter Terminal", "Open Interpreter")


def migrate_old_config() -> list[Path]:
    """Copy conversations and profiles from the folders older releases used.

    Runs only while the current config dir does not exist yet, copies (never moves or
    overwrites), and returns the folders copied from.
    """
    import shutil

    import platformdirs

    target = config_dir()
    if target.exists():
        return []
    copied: list[Path] = []
    for name in OLD_APP_NAMES:
        old = Path(platformdirs.user_config_dir(name))
        for sub in ("conversations", "profiles"):
            if (old / sub).is_dir():
                ensure_dir(target / sub)
                shutil.copytree(old / sub, target / sub, dirs_exist_ok=True, copy_function=_copy)
                copied.append(old / sub)
    return copied


def _copy(src: str, dst: str) -> None:
    import shutil

    if not os.path.exists(dst):
        shutil.copy2(src, dst)
        os.chmod(dst, 0o600)
