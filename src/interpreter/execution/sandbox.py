"""The OS sandbox that languages launch their processes in (``computer.sandbox = True``).

Inside, the file system is read-only except the working directory, a private /tmp and
the few directories a language names (its IPC sockets, its saved state), and even there
the files a later unsandboxed program would run code from stay read-only (our config
dir, shell start-up files, ``~/.ssh``, git hooks and config: sandbox_paths.py). No
terminal of the host can be reached (new session, no host pty or tty device); no
capability is left, even as root; no new privileges; limits on processes and memory.
Without the network there is also no UDP, no unix socket of the host (abstract or at a
path) and no io_uring (sandbox_seccomp.py). A working directory that holds the home
folder is refused unless allowed (``sandbox_allow_home``); whatever a mechanism cannot
enforce here is refused with one line, never run unsandboxed.

Mechanisms, best first: bubblewrap (Linux namespaces), Landlock (Linux 5.13+, with a
mount namespace where paths inside the working directory must stay read-only),
``sandbox-exec`` (macOS). ``INTERPRETER_SANDBOX=bwrap|landlock|sandbox-exec|none`` forces
one (for tests and for users who know their system).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .sandbox_paths import HOME_FILES, Mount, Protected, mount_plan, protected_paths, within

__all__ = [
    "SandboxPolicy",
    "SandboxRefused",
    "SandboxUnavailable",
    "UNAVAILABLE",
    "mechanism",
    "policy_for",
    "require",
    "wrap",
]

UNAVAILABLE = (
    "Sandbox unavailable: install bubblewrap (apt-get install bubblewrap) or use a Linux "
    "kernel with Landlock (5.13+), or macOS sandbox-exec; refusing to run code unsandboxed."
)
DEFAULT_MAX_PROCESSES = 256
DEFAULT_MAX_MEMORY = 2 * 1024**3
_LAUNCHER = Path(__file__).with_name("sandbox_landlock.py")
_MECHANISMS = ("bwrap", "landlock", "sandbox-exec")


class SandboxUnavailable(RuntimeError):
    """No sandbox mechanism works on this system; ``str()`` is one line saying so."""

    def __init__(self, message: str = UNAVAILABLE) -> None:
        super().__init__(message)


class SandboxRefused(SandboxUnavailable):
    """The sandbox would not protect what it must from here (one line: why, and what to do)."""


@dataclass(frozen=True)
class SandboxPolicy:
    """What sandboxed code may do. ``workdir`` is writable; the rest is read-only."""

    workdir: str
    allow_network: bool = False
    allow_home: bool = False
    max_processes: int = DEFAULT_MAX_PROCESSES
    max_memory_bytes: int = DEFAULT_MAX_MEMORY
    writable: tuple[str, ...] = field(default_factory=tuple)


def _bwrap_works() -> bool:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    probe = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    probe += ["--unshare-all", "--die-with-parent", "--cap-drop", "ALL", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _landlock_works() -> bool:
    from .sandbox_landlock import landlock_abi

    return sys.platform.startswith("linux") and landlock_abi() >= 1


@functools.cache
def _detect(forced: str | None) -> str | None:
    if forced:
        return forced if forced in _MECHANISMS else None
    if sys.platform == "darwin":
        return "sandbox-exec" if shutil.which("sandbox-exec") else None
    if _bwrap_works():
        return "bwrap"
    return "landlock" if _landlock_works() else None


def mechanism() -> str | None:
    """The sandbox mechanism this system offers (``bwrap``, ``landlock``, ``sandbox-exec``)."""
    return _detect(os.environ.get("INTERPRETER_SANDBOX") or None)


def require() -> str:
    """The mechanism, or SandboxUnavailable."""
    found = mechanism()
    if found is None:
        raise SandboxUnavailable()
    return found


def wrap(
    argv: Sequence[str],
    policy: SandboxPolicy,
    extra_writable: Sequence[str] = (),
    *,
    jupyter_kernel: bool = False,
) -> list[str]:
    """The command line that runs ``argv`` inside the sandbox ``policy`` describes.

    ``extra_writable`` are directories the language itself needs to write (sockets, state).
    ``jupyter_kernel``: ``argv`` starts a kernel that opens unix sockets before any code
    runs, then locks them away itself (kernel_side.py).
    """
    how = require()
    writable = [policy.workdir, *policy.writable, *extra_writable]
    config: dict[str, object] = {
        "nproc": policy.max_processes,
        "data": policy.max_memory_bytes,
        "cgroup": True,
    }
    if not policy.allow_network and how != "sandbox-exec":
        config["seccomp"] = {"kernel": jupyter_kernel}
    if how == "bwrap":
        inner = _bwrap_argv(policy, _plan(writable)) + list(argv)
        config["bwrap_seccomp"] = True
    elif how == "landlock":
        inner = list(argv)
        _landlock_config(config, policy, writable)
    else:
        profile = _macos_profile(policy, writable, _protected(writable))
        inner = ["sandbox-exec", "-p", profile, *argv]
        config["nnp"] = False
    launcher = [sys.executable, "-I", "-S", str(_LAUNCHER), json.dumps(config), "--"]
    return launcher + inner


def _protected(writable: Sequence[str]) -> list[Protected]:
    from ..store.paths import config_dir, data_dir

    home = os.path.realpath(os.path.expanduser("~"))
    own_data = os.path.realpath(data_dir())
    return protected_paths(home, os.path.realpath(config_dir()), writable, own_data)


def _plan(writable: Sequence[str]) -> list[Mount]:
    return mount_plan(writable, _protected(writable))


def _private_tmp() -> str:
    return tempfile.mkdtemp(prefix="interpreter-sandbox-tmp-")


def _tool_env(tmp: str) -> dict[str, str]:
    """Caches that tools write at startup, sent to the private temporary directory."""
    return {
        "TMPDIR": tmp,
        "IPYTHONDIR": os.path.join(tmp, ".ipython"),
        "MPLCONFIGDIR": os.path.join(tmp, ".matplotlib"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _landlock_config(config: dict[str, object], policy: SandboxPolicy, writable: list[str]) -> None:
    tmp = _private_tmp()
    config["env"] = _tool_env(tmp)
    config["landlock"] = {"write": [*writable, tmp], "net": not policy.allow_network}
    config["unshare_net"] = not policy.allow_network
    config["drop_caps"] = True
    plan = _plan(writable)
    roots = {os.path.realpath(w) for w in writable}
    if any(mount.path not in roots for mount in plan):  # something inside must stay read-only
        config["mounts"] = [[mount.path, mount.writable] for mount in plan]


def _hidden_by_tmp(path: str) -> bool:
    return path == "/tmp" or path.startswith("/tmp/")


def _bwrap_argv(policy: SandboxPolicy, plan: list[Mount]) -> list[str]:
    bwrap = shutil.which("bwrap") or "bwrap"
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL"]
    if policy.allow_network:
        args.append("--share-net")
    # A fresh /dev: its own devpts, so no pty of the host, and no /dev/console (the
    # launcher leaves no terminal on stdout for bubblewrap to bind there).
    args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    args += ["--tmpfs", "/tmp", "--tmpfs", "/dev/shm", "--tmpfs", "/run"]
    if policy.allow_network and os.path.isdir("/run/systemd/resolve"):
        args += ["--ro-bind", "/run/systemd/resolve", "/run/systemd/resolve"]
    for path in _readable_under_tmp():
        args += ["--ro-bind", path, path]
    for mount in plan:
        args += ["--bind" if mount.writable else "--ro-bind", mount.path, mount.path]
    for key, value in _tool_env("/tmp").items():
        args += ["--setenv", key, value]
    # Inside the pid namespace every parent looks like pid 1: Jupyter kernels would take
    # that for their launcher's death. --die-with-parent does that job here.
    args += ["--unsetenv", "JPY_PARENT_PID"]
    return args + ["--chdir", policy.workdir, "--"]


def _readable_under_tmp() -> list[str]:
    """Our interpreter and package, when they live under /tmp (hidden by the private /tmp)."""
    here = str(Path(__file__).resolve().parents[2])
    paths = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix), here}
    return sorted(p for p in paths if _hidden_by_tmp(p))


def _macos_profile(policy: SandboxPolicy, writable: list[str], protected: list[Protected]) -> str:
    """A Seatbelt profile: everything but writes outside ``writable`` (and to the
    protected paths inside it) and, unless allowed, the network."""
    places = [*writable, "/private/tmp", "/private/var/folders", "/dev"]
    subpaths = " ".join(f"(subpath {json.dumps(os.path.realpath(p))})" for p in places)
    lines = ["(version 1)", "(allow default)", "(deny file-write*)"]
    lines.append(f"(allow file-write* {subpaths})")
    lines.append('(deny file-read* file-write* file-ioctl (regex #"^/dev/(tty|pty|ptmx|console)"))')
    if protected:
        kept = " ".join(f"(subpath {json.dumps(p.path)})" for p in protected)
        lines.append(f"(deny file-write* {kept})")
    if not policy.allow_network:
        lines.append("(deny network*)")
        lines.append("(allow network* (remote unix-socket))")
    return "\n".join(lines)


def policy_for(
    enabled: bool, allow_network: bool = False, allow_home: bool = False
) -> SandboxPolicy | None:
    """The policy for code run from the current directory, or None when not enabled.

    Raises SandboxUnavailable when enabled on a system without a sandbox, SandboxRefused
    when the working directory holds the home folder (unless ``allow_home``) or when this
    system cannot enforce the policy (both one line)."""
    if not enabled:
        return None
    require()
    workdir = os.getcwd()
    _check_workdir(workdir, allow_home)
    policy = SandboxPolicy(workdir=workdir, allow_network=allow_network, allow_home=allow_home)
    _probe(policy)
    return policy


def _check_workdir(workdir: str, allow_home: bool) -> None:
    """Refuse a working folder that holds the home folder (unless allowed) or that lies
    inside what must stay read-only (it would be writable as the working folder)."""
    from ..store.paths import config_dir

    home = os.path.realpath(os.path.expanduser("~"))
    here = os.path.realpath(workdir)
    if not allow_home and within(home, here):
        raise SandboxRefused(
            f"Sandbox refused: the working folder {here} holds your home folder, which "
            "sandboxed code could then write; start in a project folder, or pass "
            "--sandbox_allow_home (computer.sandbox_allow_home = True)."
        )
    kept = [os.path.join(home, name) for name in HOME_FILES]
    kept.append(os.path.realpath(config_dir()))
    inside = next((p for p in kept if within(here, p)), None)
    if inside is None and "/.git/hooks" in here + "/":
        inside = here[: (here + "/").index("/.git/hooks") + len("/.git/hooks")]
    if inside is not None:
        raise SandboxRefused(
            f"Sandbox refused: the working folder {here} is inside {inside}, which sandboxed "
            "code must not write; start in a project folder."
        )


def _probe(policy: SandboxPolicy) -> None:
    """Start ``true`` in the sandbox: what cannot be enforced here fails now, in one line."""
    try:
        done = subprocess.run(
            wrap(["true"], policy), capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        message = f"Sandbox unavailable: {err}; refusing to run code unsandboxed."
        raise SandboxRefused(message) from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit status {done.returncode}"
        reason = reason.split("] ", 1)[-1] if reason.startswith("[Errno") else reason
        raise SandboxRefused(f"Sandbox unavailable: {reason}; refusing to run code unsandboxed.")
