"""A conversation's checkpoints of a working folder, in a git store of our own.

Why the ``git`` binary: its index is a stat cache written in C, so a snapshot of an
unchanged 2 000-file tree costs a few milliseconds of ``git add -A``; a pure-Python
library (dulwich) stats and hashes in Python. The store is a bare-style git dir (the
caller gives it, e.g. ``<conversation data dir>/checkpoints.git``) used with
``--work-tree``: the user's own ``.git`` is never read or written (git never adds paths
named ``.git``; a nested repository is recorded as a gitlink, not its files). Each working
folder has its own index file and ref (``refs/workdirs/<hash of its path>``); each
checkpoint is a commit on that ref whose message is JSON metadata. The user's and the
system's git configuration are ignored.

Restores never let git write files (git rewrites them in place): each file is written to a
temporary file beside it and renamed over it, so a killed restore leaves every file old or
new. The temporary names are journalled first; the next store opened removes any left.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Checkpoint", "CheckpointError", "CheckpointStore", "Diff", "FileChange"]

_STATUS = {"A": "added", "M": "changed", "D": "deleted", "T": "changed"}
_TEMP = ".interpreter-restore-"


class CheckpointError(Exception):
    """The store cannot do what was asked; ``str()`` is one line."""


@dataclass(frozen=True)
class Checkpoint:
    id: str
    time: float
    label: str
    language: str
    workdir: str
    kind: str
    message: int | None = None  # the index in the conversation of the code that ran after it


@dataclass(frozen=True)
class FileChange:
    path: str
    status: str
    added: int
    removed: int
    binary: bool


@dataclass(frozen=True)
class Diff:
    changes: tuple[FileChange, ...]
    patch: str

    def summary(self) -> str:
        if not self.changes:
            return "no file changes"
        counts = {s: sum(c.status == s for c in self.changes) for s in _STATUS.values()}
        parts = [f"{n} {s}" for s, n in counts.items() if n]
        plus = sum(c.added for c in self.changes)
        minus = sum(c.removed for c in self.changes)
        files = len(self.changes)
        return f"{files} file{'s' if files != 1 else ''}: {', '.join(parts)}, +{plus} -{minus}"

    def __bool__(self) -> bool:
        return bool(self.changes)


class CheckpointStore:
    """The checkpoints of ``workdir`` in the git dir ``git_dir``."""

    def __init__(
        self, git_dir: Path, workdir: Path, *, size_cap: int = 20 * 1024 * 1024,
        timeout: float = 60.0,
    ) -> None:  # fmt: skip
        self.git_dir = Path(git_dir)
        self.workdir = Path(os.path.realpath(workdir))
        self.size_cap = size_cap
        self.timeout = timeout
        key = hashlib.sha1(str(self.workdir).encode()).hexdigest()[:16]
        self.ref = f"refs/workdirs/{key}"
        self.index = self.git_dir / f"index-{key}"
        self._skipped: set[str] = set()
        self._reported: set[str] = set()
        self._cleaned = False

    # -- git ---------------------------------------------------------------------------

    def _git(
        self, *args: str, data: bytes | None = None, check: bool = True, plain: bool = False
    ) -> bytes:
        env = {
            **os.environ, "GIT_DIR": str(self.git_dir), "GIT_WORK_TREE": str(self.workdir),
            "GIT_INDEX_FILE": str(self.index), "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0",
        }  # fmt: skip
        for name in (
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_CEILING_DIRECTORIES",
        ):
            env.pop(name, None)
        if plain:  # git init: no work tree yet
            for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
                env.pop(name)
        try:
            done = subprocess.run(
                ["git", "-c", "core.quotepath=off", *args], input=data, capture_output=True,
                cwd=self.workdir, env=env, timeout=self.timeout, check=False,
            )  # fmt: skip
        except FileNotFoundError:
            raise CheckpointError("checkpoints need git, which is not installed") from None
        except subprocess.TimeoutExpired:
            raise CheckpointError(f"git {args[0]} took over {self.timeout:g} s") from None
        if check and done.returncode != 0:
            raise CheckpointError(self._failure(args[0], done.stderr))
        return done.stdout

    def _failure(self, verb: str, stderr: bytes) -> str:
        lines = [ln for ln in stderr.decode(errors="replace").splitlines() if ln.strip()]
        reason = lines[-1].strip() if lines else "failed"
        return f"the checkpoint store {self.git_dir} is damaged or unusable (git {verb}: {reason})"

    def _init(self) -> None:
        if (self.git_dir / "HEAD").exists():
            self._clean_leftovers()
            return
        self.git_dir.mkdir(parents=True, exist_ok=True)
        self._git("init", "-q", "--bare", str(self.git_dir), plain=True)
        settings = {
            "user.name": "interpreter", "user.email": "checkpoints@localhost", "gc.auto": "0",
            "core.autocrlf": "false", "core.hooksPath": os.devnull, "commit.gpgsign": "false",
            "core.untrackedCache": "true", "core.bare": "false", "core.fsmonitor": "false",
        }  # fmt: skip
        for key, value in settings.items():
            self._git("config", key, value)
        inside = os.path.relpath(os.path.realpath(self.git_dir), self.workdir)
        if not inside.startswith(".."):  # our data folder lies in the working folder
            (self.git_dir / "info").mkdir(exist_ok=True)
            top = Path(inside).parts[0]
            (self.git_dir / "info" / "exclude").write_text(f"/{_glob_escape(top)}/\n")
        self._cleaned = True

    # -- snapshots ---------------------------------------------------------------------

    def snapshot(
        self, label: str, language: str = "", kind: str = "run", message: int | None = None
    ) -> Checkpoint:
        self._init()
        self._exclude_large()
        self._git("add", "-A", "--ignore-errors", "--", ".")
        meta = {"time": time.time(), "label": label, "language": language,
                "workdir": str(self.workdir), "kind": kind, "message": message}  # fmt: skip
        tree = self._git("write-tree").decode().strip()
        parent = self._head()
        args = ["commit-tree", tree, "-m", json.dumps(meta)]
        if parent:
            args += ["-p", parent]
        commit = self._git(*args).decode().strip()
        self._git("update-ref", self.ref, commit)
        return _checkpoint(commit, meta)

    def _head(self) -> str | None:
        out = self._git("rev-parse", "-q", "--verify", f"{self.ref}^{{commit}}", check=False)
        return out.decode().strip() or None

    def _exclude_large(self) -> None:
        """Leaves files over the size cap out (never hashed), remembering them to say so."""
        listed = self._git("ls-files", "-z", "-o", "-m", "--exclude-standard")
        big: list[str] = []
        for name in filter(None, listed.decode(errors="surrogateescape").split("\0")):
            try:
                info = os.lstat(self.workdir / name)
            except OSError:
                continue
            if info.st_size > self.size_cap:
                big.append(name)
        new = [name for name in big if name not in self._skipped]
        if not new:
            return
        self._skipped.update(new)
        exclude = self.git_dir / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a", encoding="utf-8", errors="surrogateescape") as handle:
            handle.writelines(f"/{_glob_escape(name)}\n" for name in new)
        self._git("rm", "-q", "--cached", "--ignore-unmatch", "--", *new)

    def take_skipped(self) -> list[str]:
        new = sorted(self._skipped - self._reported)
        self._reported.update(new)
        return new

    # -- reading -----------------------------------------------------------------------

    def list(self) -> list[Checkpoint]:
        if not (self.git_dir / "HEAD").exists() or self._head() is None:
            return []
        out = self._git("log", "--format=%H%x00%B%x01", self.ref)
        found = []
        for record in out.decode(errors="replace").split("\x01"):
            commit, _, message = record.strip().partition("\0")
            if commit:
                try:
                    found.append(_checkpoint(commit, json.loads(message)))
                except ValueError:
                    raise CheckpointError(
                        f"the checkpoint store {self.git_dir} is damaged"
                    ) from None
        return found[::-1]

    def get(self, ref: str) -> Checkpoint:
        matches = (
            [c for c in self.list() if c.id.startswith(ref.strip().lower())] if ref.strip() else []
        )
        if len(matches) != 1:
            what = "is ambiguous" if matches else "does not exist here"
            raise CheckpointError(f"no checkpoint {ref!r} (it {what}; %checkpoints lists them)")
        return matches[0]

    def changes(self, ref: str, to: str | None = None) -> Diff:
        start = self._full(ref)
        end = self._full(to) if to is not None else self._current_tree()
        return self._diff(start, end)

    def touched(self, ref: str) -> Diff:
        listed = self.list()
        ids = [c.id for c in listed]
        position = ids.index(self.get(ref).id)
        return self.changes(ids[position], ids[position + 1] if position + 1 < len(ids) else None)

    def _full(self, ref: str) -> str:
        short = self.get(ref).id
        return self._git("rev-parse", f"{short}^{{commit}}").decode().strip()

    def _current_tree(self) -> str:
        self._exclude_large()
        self._git("add", "-A", "--ignore-errors", "--", ".")
        return self._git("write-tree").decode().strip()

    def _diff(self, start: str, end: str) -> Diff:
        names = self._git("diff-tree", "-r", "-z", "--no-renames", "--name-status", start, end)
        numbers = self._git("diff-tree", "-r", "-z", "--no-renames", "--numstat", start, end)
        counts: dict[str, tuple[int, int, bool]] = {}
        for record in numbers.decode(errors="surrogateescape").split("\0"):
            if record.count("\t") < 2:
                continue
            plus, minus, path = record.split("\t", 2)
            binary = plus == "-"
            counts[path] = (0 if binary else int(plus), 0 if binary else int(minus), binary)
        changes = []
        fields = names.decode(errors="surrogateescape").split("\0")
        for i in range(0, len(fields) - 1, 2):
            status, path = fields[i], fields[i + 1]
            if not status:
                continue
            added, removed, binary = counts.get(path, (0, 0, False))
            changes.append(
                FileChange(path, _STATUS.get(status[0], "changed"), added, removed, binary)
            )
        patch = self._git("diff-tree", "-r", "-p", "--no-renames", start, end).decode(
            errors="replace"
        )
        return Diff(tuple(changes), patch)

    # -- restoring ---------------------------------------------------------------------

    def restore(self, ref: str) -> tuple[Checkpoint, Diff]:
        target = self._full(ref)
        saved = self.snapshot(f"before restoring {ref}", kind="restore")
        now = self._full(saved.id)
        applied = self._diff(target, now)  # what is undone
        entries = self._entries(target, [c.path for c in applied.changes if c.status != "added"])
        journal = self.git_dir / "restore-journal"
        temps = {c.path: self._temp_name(c.path) for c in applied.changes}
        journal.write_text("\n".join(str(p) for p in temps.values()), encoding="utf-8")
        try:
            self._write_all(applied, entries, temps)
        finally:
            journal.unlink(missing_ok=True)
        self._git("read-tree", target)
        return saved, applied

    def _temp_name(self, path: str) -> Path:
        full = self.workdir / path
        return full.with_name(f"{_TEMP}{os.getpid()}-{full.name}")

    def _entries(self, tree: str, paths: builtins.list[str]) -> dict[str, tuple[str, bytes]]:
        """mode and content of ``paths`` at ``tree`` (one cat-file process)."""
        if not paths:
            return {}
        listed = self._git("ls-tree", "-r", "-z", tree, "--", *paths).decode(
            errors="surrogateescape"
        )
        modes: dict[str, tuple[str, str]] = {}
        for line in filter(None, listed.split("\0")):
            info, path = line.split("\t", 1)
            mode, _kind, sha = info.split()
            modes[path] = (mode, sha)
        request = "".join(f"{sha}\n" for _mode, sha in modes.values()).encode()
        out = self._git("cat-file", "--batch", data=request)
        contents: dict[str, tuple[str, bytes]] = {}
        offset = 0
        for path, (mode, _sha) in modes.items():
            header_end = out.index(b"\n", offset)
            size = int(out[offset:header_end].split()[2])
            start = header_end + 1
            contents[path] = (mode, out[start : start + size])
            offset = start + size + 1
        return contents

    def _write_all(
        self, applied: Diff, entries: dict[str, tuple[str, bytes]], temps: dict[str, Path]
    ) -> None:
        for change in applied.changes:
            full = self.workdir / change.path
            if change.status == "added":  # added since the checkpoint: remove it
                full.unlink(missing_ok=True)
                _remove_empty_parents(full.parent, self.workdir)
                continue
            mode, data = entries[change.path]
            _write_atomic(full, temps[change.path], mode, data)

    def _clean_leftovers(self) -> None:
        if self._cleaned:
            return
        self._cleaned = True
        journal = self.git_dir / "restore-journal"
        if journal.exists():
            for name in journal.read_text(encoding="utf-8").splitlines():
                Path(name).unlink(missing_ok=True)
            journal.unlink(missing_ok=True)


def _checkpoint(commit: str, meta: dict[str, object]) -> Checkpoint:
    return Checkpoint(
        id=commit[:12], time=float(str(meta.get("time", 0))), label=str(meta.get("label", "")),
        language=str(meta.get("language", "")), workdir=str(meta.get("workdir", "")),
        kind=str(meta.get("kind", "run")),
        message=meta["message"] if isinstance(meta.get("message"), int) else None,  # type: ignore[arg-type]
    )  # fmt: skip


def _write_atomic(full: Path, temp: Path, mode: str, data: bytes) -> None:
    full.parent.mkdir(parents=True, exist_ok=True)
    if full.is_dir() and not full.is_symlink():
        import shutil

        shutil.rmtree(full)
    temp.unlink(missing_ok=True)
    if mode == "120000":
        os.symlink(os.fsdecode(data), temp)
    else:
        executable = mode == "100755"
        try:
            current = os.lstat(full).st_mode & 0o777
        except OSError:
            current = 0o644
        keep = current if bool(current & 0o100) == executable else None
        bits = keep if keep is not None else (0o755 if executable else 0o644)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, bits)
    os.replace(temp, full)


def _remove_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _glob_escape(name: str) -> str:
    return "".join(f"\\{ch}" if ch in "*?[]\\!#" else ch for ch in name)
