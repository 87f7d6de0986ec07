"""The sandbox launcher: limits, no_new_privs, Landlock and a network namespace, then exec.

Run as a script (``python -I -S sandbox_landlock.py CONFIG_JSON -- ARGV...``), so it
needs only the standard library. CONFIG_JSON keys: ``nproc`` and ``data`` (limits),
``cgroup`` (try a pids cgroup), ``env`` (variables to set), ``nnp`` (set no_new_privs),
``landlock`` (``{"write": [paths], "net": bool}``: writes only under those paths; with
``net`` true, no TCP), ``unshare_net`` (best effort: a fresh network namespace).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import sys
from typing import Any

SYS_CREATE_RULESET = 444
SYS_ADD_RULE = 445
SYS_RESTRICT_SELF = 446
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
_RULE_PATH_BENEATH = 1
_RULE_NET_PORT = 2
_CGROUP_V1 = "/sys/fs/cgroup/pids"
_CGROUP_PREFIX = "interpreter-sandbox-"

# Landlock file system rights (uapi/linux/landlock.h).
WRITE_FILE, TRUNCATE = 1 << 1, 1 << 14
_WRITES_V1 = (1 << 1) | (1 << 4) | (1 << 5) | sum(1 << bit for bit in range(6, 13))
_REFER = 1 << 13
_FILE_ONLY = WRITE_FILE | TRUNCATE | 1 | (1 << 2) | (1 << 15)
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty")


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 when Landlock is off."""
    try:
        version = int(_libc().syscall(SYS_CREATE_RULESET, None, 0, 1))
    except (OSError, AttributeError):
        return 0
    return max(version, 0)


def _fail(what: str) -> None:
    err = ctypes.get_errno()
    raise OSError(err, f"sandbox: {what}: {os.strerror(err)}")


def _write_rights(abi: int) -> int:
    rights = _WRITES_V1
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= TRUNCATE
    return rights


def restrict(write: list[str], block_tcp: bool) -> None:
    """Allow writes only beneath ``write`` (and to a few devices); optionally no TCP."""
    libc, abi = _libc(), landlock_abi()
    if abi < 1:
        raise OSError("sandbox: Landlock is not available")
    rights = _write_rights(abi)
    attr = _RulesetAttr(rights, 3 if block_tcp and abi >= 4 else 0, 3 if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    fd = int(libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), size, 0))
    if fd < 0:
        _fail("landlock_create_ruleset")
    try:
        for path in write:
            _add_path(libc, fd, path, rights)
        for device in _DEVICES:
            _add_path(libc, fd, device, rights & _FILE_ONLY)
        _no_new_privs(libc)
        if libc.syscall(SYS_RESTRICT_SELF, fd, 0) != 0:
            _fail("landlock_restrict_self")
    finally:
        os.close(fd)


def _add_path(libc: Any, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a path that does not exist needs no rule
    try:
        if not os.path.isdir(path):
            rights &= _FILE_ONLY
        rule = _PathBeneath(rights, fd)
        if libc.syscall(SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            _fail(f"landlock_add_rule {path}")
    finally:
        os.close(fd)


def _no_new_privs(libc: Any) -> None:
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        _fail("prctl(PR_SET_NO_NEW_PRIVS)")


def _unshare_net(libc: Any) -> bool:
    """A fresh, empty network namespace (as root, or through a user namespace)."""
    if libc.unshare(CLONE_NEWNET) == 0:
        return True
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        return False
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    with open("/proc/self/gid_map", "w") as handle:
        handle.write(f"{gid} {gid} 1")
    return True


def _join_pids_cgroup(limit: int) -> bool:
    """Move this process into a new pids cgroup (v1) capped at ``limit`` tasks."""
    if not os.access(_CGROUP_V1, os.W_OK):
        return False
    with contextlib.suppress(OSError):
        for name in os.listdir(_CGROUP_V1):
            if name.startswith(_CGROUP_PREFIX):
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(_CGROUP_V1, name))  # only empty ones go
    path = os.path.join(_CGROUP_V1, f"{_CGROUP_PREFIX}{os.getpid()}")
    try:
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "pids.max"), "w") as handle:
            handle.write(str(limit))
        with open(os.path.join(path, "cgroup.procs"), "w") as handle:
            handle.write("0")
    except OSError:
        return False
    return True


def _user_processes() -> int:
    uid, count = os.getuid(), 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
    return count


def _limit(kind: int, value: int) -> None:
    _soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(kind, (value, value))


def apply(config: dict[str, Any]) -> None:
    """Apply ``config`` to this process (see the module docstring)."""
    libc = _libc()
    nproc = int(config.get("nproc", 0))
    if nproc and not (config.get("cgroup") and _join_pids_cgroup(nproc)):
        _limit(resource.RLIMIT_NPROC, _user_processes() + nproc)
    if int(config.get("data", 0)):
        _limit(resource.RLIMIT_DATA, int(config["data"]))
    os.environ.update({str(k): str(v) for k, v in dict(config.get("env", {})).items()})
    if config.get("unshare_net") and not _unshare_net(libc) and landlock_abi() < 4:
        raise OSError("sandbox: cannot turn the network off (no namespaces, Landlock < 4)")
    landlock = config.get("landlock")
    if landlock is not None:
        restrict([str(p) for p in landlock["write"]], bool(landlock.get("net")))
    elif config.get("nnp"):
        _no_new_privs(libc)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: sandbox_landlock.py CONFIG_JSON -- ARGV...\n")
        return 2
    try:
        apply(json.loads(argv[0]))
        os.execvp(argv[2], argv[2:])
    except OSError as err:
        sys.stderr.write(f"{err}\n")
    return 126


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
