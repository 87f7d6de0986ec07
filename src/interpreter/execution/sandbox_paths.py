"""What stays read-only inside the sandbox even within a writable folder, and the mounts
that make it so.

Sandboxed code may write its working folder, but not the files that make a later,
unsandboxed program run code: our config dir (a profile with ``auto_run: true``), shell
start-up files, ``~/.ssh``, the user's git and systemd settings, and the ``hooks`` and
``config`` of git repositories in the working folder (its own, those up to two folders
down, and their submodules). :func:`protected_paths` names them; :func:`mount_plan` turns
them into bind mounts, applied in order (bubblewrap's ``--bind``/``--ro-bind``, or the
Landlock launcher's mount namespace):

- a protected path that exists is bound read-only on itself, and every folder between
  the writable root and it is bound on itself, so nothing on the way can be renamed or
  replaced (a mount point cannot be moved);
- a protected name that does not exist yet (``~/.bash_profile``, ``~/.ssh``) cannot be
  mounted over, so the folder that would hold it is bound read-only and its existing
  entries bound writable again: no new name can appear there, everything else stays
  writable;
- a missing ``hooks`` folder of a repository (and our config dir) is created first, empty.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

__all__ = ["Mount", "Protected", "mount_plan", "protected_paths", "within"]

#: Relative to $HOME: start-up files and settings other programs run code from.
HOME_FILES = (
    ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".inputrc",
    ".zshrc", ".zshenv", ".zprofile", ".zlogin", ".zlogout", ".cshrc", ".tcshrc", ".login",
    ".kshrc", ".mkshrc", ".pam_environment", ".gitconfig", ".ssh", ".config/fish",
    ".config/git", ".config/systemd", ".config/autostart", ".config/environment.d",
)  # fmt: skip
_SKIPPED_DIRS = frozenset({"node_modules", ".venv", "venv", "__pycache__", ".cache", ".git"})
_SCAN_DEPTH = 2
_SCAN_LIMIT = 4000


@dataclass(frozen=True)
class Protected:
    """A path kept read-only; ``guard_missing``: if it does not exist, keep it from
    being created (its folder becomes read-only at the top level)."""

    path: str
    guard_missing: bool = True


@dataclass(frozen=True)
class Mount:
    """Bind ``path`` on itself, writable or read-only."""

    path: str
    writable: bool


def within(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or lies inside it (both absolute and normalised)."""
    return path == root or path.startswith(root.rstrip("/") + "/")


def protected_paths(
    home: str, config_dir: str, writable: Sequence[str], data_dir: str | None = None
) -> list[Protected]:
    """Everything to keep read-only that lies inside one of the ``writable`` folders.

    ``data_dir``: our data folder (checkpoint stores, kept output), kept read-only too so
    that code cannot rewrite the checkpoints that undo it. Creates, if missing, our config
    and data dirs and the ``hooks`` folder of each repository found.
    """
    roots = [os.path.realpath(w) for w in writable]
    found = [Protected(os.path.join(home, name)) for name in HOME_FILES]
    for own in (config_dir, data_dir):
        if own is None:
            continue
        if _inside(own, roots):
            os.makedirs(own, mode=0o700, exist_ok=True)
        found.append(Protected(own))
    for root in roots:
        for git in _git_entries(root):
            found.extend(_git_protections(git))
    resolved = [Protected(os.path.realpath(p.path), False) for p in found if os.path.islink(p.path)]
    unique = {p.path: p for p in [*found, *resolved] if _inside(p.path, roots)}
    return list(unique.values())


def _inside(path: str, roots: Iterable[str]) -> bool:
    return any(within(path, root) and path != root for root in roots)


def _git_entries(root: str) -> Iterator[str]:
    """``.git`` entries (folders or files) in ``root`` and up to two folders down."""
    level, scanned = [root], 0
    for depth in range(_SCAN_DEPTH + 1):
        below: list[str] = []
        for folder in level:
            if os.path.lexists(os.path.join(folder, ".git")):
                yield os.path.join(folder, ".git")
            if depth == _SCAN_DEPTH:
                continue
            for entry in _subfolders(folder):
                scanned += 1
                if scanned > _SCAN_LIMIT:
                    return
                below.append(entry)
        level = below


def _subfolders(folder: str) -> list[str]:
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        return [
            e.path
            for e in entries
            if e.name not in _SKIPPED_DIRS and e.is_dir(follow_symlinks=False)
        ]
    return []


def _git_protections(git: str) -> list[Protected]:
    """The entry itself when it is a ``gitdir:`` file, and each git dir's hooks and config
    (with its submodules' under ``modules/``)."""
    out: list[Protected] = []
    if os.path.isfile(git) and not os.path.islink(git):
        out.append(Protected(git, False))
        gitdir = _linked_gitdir(git)
        dirs = [gitdir, _common_dir(gitdir)] if gitdir else []
    else:
        dirs = [git]
    for directory in dirs:
        if directory and os.path.isdir(directory):
            out.extend(_repository_parts(directory))
    return out


def _repository_parts(gitdir: str, depth: int = 0) -> list[Protected]:
    hooks = os.path.join(gitdir, "hooks")
    if not os.path.lexists(hooks):
        with contextlib.suppress(OSError):
            os.mkdir(hooks, 0o755)
    out = [Protected(hooks), Protected(os.path.join(gitdir, "config"), False)]
    if depth < 3:
        for module in _module_dirs(os.path.join(gitdir, "modules")):
            out.extend(_repository_parts(module, depth + 1))
    return out


def _module_dirs(folder: str, depth: int = 0) -> list[str]:
    """The git dirs of submodules under ``modules/`` (a submodule ``a/b`` is two levels)."""
    found: list[str] = []
    for entry in _subfolders(folder):
        if os.path.exists(os.path.join(entry, "HEAD")):
            found.append(entry)
        elif depth < 3:
            found.extend(_module_dirs(entry, depth + 1))
    return found


def _linked_gitdir(git_file: str) -> str | None:
    try:
        with open(git_file, encoding="utf-8") as handle:
            line = handle.readline().strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not line.startswith("gitdir:"):
        return None
    target = line[len("gitdir:") :].strip()
    return os.path.realpath(os.path.join(os.path.dirname(git_file), target))


def _common_dir(gitdir: str | None) -> str | None:
    if gitdir is None:
        return None
    try:
        with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as handle:
            return os.path.realpath(os.path.join(gitdir, handle.readline().strip()))
    except (OSError, UnicodeDecodeError):
        return None


def mount_plan(writable: Sequence[str], protected: Sequence[Protected]) -> list[Mount]:
    """The binds, in order, that make ``writable`` writable and ``protected`` not."""
    roots = sorted({os.path.realpath(w) for w in writable if os.path.isdir(w)}, key=len)
    plan: list[Mount] = []
    for root in roots:
        plan.append(Mount(root, True))
        plan += _guard(root, [p for p in protected if within(p.path, root) and p.path != root])
    return plan


def _guard(folder: str, protected: list[Protected]) -> list[Mount]:
    """Mounts below ``folder`` (already a writable mount) for the paths inside it."""
    groups: dict[str, list[Protected]] = {}
    for item in protected:
        name = item.path[len(folder.rstrip("/")) + 1 :].split("/", 1)[0]
        groups.setdefault(name, []).append(item)
    mounts: list[Mount] = []
    lock_folder = False
    for name, items in sorted(groups.items()):
        child = os.path.join(folder, name)
        if any(item.path == child for item in items):
            if os.path.islink(child):
                lock_folder = True  # the link must not be replaced; its target is protected
            elif not os.path.lexists(child):
                lock_folder = lock_folder or any(i.guard_missing for i in items)
            else:
                mounts.append(Mount(child, False))
        elif os.path.isdir(child) and not os.path.islink(child):
            mounts.append(Mount(child, True))
            mounts += _guard(child, items)
        elif any(item.guard_missing for item in items):
            lock_folder = True  # a missing (or linked) folder on the way
    if not lock_folder:
        return mounts
    # Links are left alone: binding one would bind wherever it points.
    others = [e for e in _entries(folder) if e not in groups]
    reopened = [
        Mount(os.path.join(folder, e), True)
        for e in others
        if not os.path.islink(os.path.join(folder, e))
    ]
    return [Mount(folder, False), *reopened, *mounts]


def _entries(folder: str) -> list[str]:
    with contextlib.suppress(OSError):
        return sorted(os.listdir(folder))
    return []
