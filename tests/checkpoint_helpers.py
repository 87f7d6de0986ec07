"""A 2 000-file tree to change and put back, for the checkpoint tests."""

from __future__ import annotations

import os
import stat
from pathlib import Path

#: Python code that deletes, rewrites, creates and chmods files in the tree it runs in.
CHANGE_TREE = """\
import os, shutil
for i in range(0, 2000, 40):
    os.remove(f"d{i % 20}/f{i}.txt")
for i in range(1, 2000, 40):
    with open(f"d{i % 20}/f{i}.txt", "w") as f:
        f.write("rewritten\\n" * 3)
os.makedirs("new/deeper", exist_ok=True)
for i in range(30):
    with open(f"new/deeper/n{i}.txt", "w") as f:
        f.write(f"new {i}\\n")
os.chmod("d2/f2.txt", 0o755)
os.chmod("tools/run.sh", 0o644)
shutil.rmtree("d19")
print("changed the tree")
"""

#: The same changes as a shell command.
CHANGE_TREE_SHELL = (
    "rm d0/f0.txt d0/f40.txt && printf 'rewritten\\n' > d1/f1.txt && mkdir -p new/deeper"
    " && echo new > new/deeper/n0.txt && chmod +x d2/f2.txt && chmod -x tools/run.sh"
    " && rm -r d19 && echo changed the tree"
)


def make_tree(root: Path, files: int = 2000) -> None:
    """``files`` small text files in 20 folders, a script, a binary file and a symlink."""
    for i in range(files):
        folder = root / f"d{i % 20}"
        folder.mkdir(exist_ok=True)
        (folder / f"f{i}.txt").write_text(f"file {i}\n" + "line\n" * (i % 7))
    (root / "tools").mkdir()
    script = root / "tools" / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    (root / "blob.bin").write_bytes(bytes(range(256)) * 64)
    (root / "link").symlink_to("d1/f1.txt")


def tree_state(root: Path) -> dict[str, tuple[str, bytes, bool]]:
    """Every file and link under ``root`` (outside ``.git``): kind, bytes, executable."""
    state: dict[str, tuple[str, bytes, bool]] = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in dirs:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                state[os.path.relpath(path, root) + "/"] = ("dir", b"", False)
        for name in [*names, *(d for d in dirs if os.path.islink(os.path.join(folder, d)))]:
            path = os.path.join(folder, name)
            key = os.path.relpath(path, root)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                state[key] = ("link", os.readlink(path).encode(), False)
            else:
                state[key] = ("file", Path(path).read_bytes(), bool(info.st_mode & 0o100))
    return state
