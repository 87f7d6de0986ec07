"""The sandbox launcher: terminal detached, limits, namespaces, mounts, Landlock, seccomp,
no capabilities, then exec.

Run as a script (``python -I -S sandbox_landlock.py CONFIG_JSON -- ARGV...``), so it
needs only the standard library (and its sibling ``sandbox_seccomp.py``). It always
leaves the terminal: a new session (no controlling terminal, so no ``/dev/tty``) and no
terminal among its open files. CONFIG_JSON keys:

- ``nproc`` and ``data``: limits; ``cgroup``: try a pids cgroup; ``env``: variables to set;
- ``unshare_net``: try a fresh, empty network namespace;
- ``mounts``: ``[[path, writable], ...]`` bound on themselves, in order, in a new mount
  namespace (required: without one the launcher refuses);
- ``landlock``: ``{"write": [paths], "net": bool}``: writes only beneath those paths;
  files read only outside ``/dev`` (but ``/dev/null`` and the like), so no terminal
  device can be opened; with ``net``, no TCP;
- ``seccomp``: ``{"kernel": bool}`` applies sandbox_seccomp's "no network" filter (for a
  Jupyter kernel, the one that lets it open its sockets, leaving the full one in the
  environment for later); ``bwrap_seccomp``: hand it to bubblewrap (``argv[0]``, which
  always makes a network namespace) as ``--seccomp FD`` instead;
- ``drop_caps``: drop every capability (bounding, ambient, inheritable, permitted,
  effective) and lock root out of regaining them; ``nnp``: set no_new_privs.

Any step that fails ends the launcher with one line on stderr and exit status 126.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import sys
from typing import Any

if __package__:
    from . import sandbox_seccomp
else:  # run as a script (python -I -S): the sibling module sits next to this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import sandbox_seccomp  # type: ignore[import-not-found,no-redef]

SYS_CREATE_RULESET = 444
SYS_ADD_RULE = 445
SYS_RESTRICT_SELF = 446
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
PR_SET_SECUREBITS = 28
# SECBIT_NOROOT, NO_SETUID_FIXUP, NO_CAP_AMBIENT_RAISE and their locks, KEEP_CAPS_LOCKED
SECUREBITS_LOCKED_DOWN = 0b11101111
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_NOATIME, MS_NODIRATIME, MS_REMOUNT, MS_BIND, MS_REC = 1024, 2048, 32, 4096, 16384
MS_PRIVATE, MS_RELATIME = 1 << 18, 1 << 21
_KEPT_MOUNT_FLAGS = (  # statvfs flag -> mount flag, kept when remounting a bind
    (os.ST_NOSUID, MS_NOSUID),
    (os.ST_NODEV, MS_NODEV),
    (os.ST_NOEXEC, MS_NOEXEC),
    (os.ST_NOATIME, MS_NOATIME),
    (os.ST_NODIRATIME, MS_NODIRATIME),
    (os.ST_RELATIME, MS_RELATIME),
)
_RULE_PATH_BENEATH = 1
_CGROUP_V1 = "/sys/fs/cgroup/pids"
_CGROUP_PREFIX = "interpreter-sandbox-"

# Landlock file system rights (uapi/linux/landlock.h).
EXECUTE, WRITE_FILE, READ_FILE = 1 << 0, 1 << 1, 1 << 2
TRUNCATE, IOCTL_DEV = 1 << 14, 1 << 15
_WRITES_V1 = (1 << 1) | (1 << 4) | (1 << 5) | sum(1 << bit for bit in range(6, 13))
_REFER = 1 << 13
_FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2
#: The only devices sandboxed code may open (no terminal, no GPU, no disk).
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


class _FilterProgram(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


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


# -- the terminal -----------------------------------------------------------------------


def detach_terminal() -> None:
    """A new session without a controlling terminal, and no terminal among our files
    (stdin, stdout and stderr that were one now read or write /dev/null)."""
    with contextlib.suppress(PermissionError):  # already a session leader: fine
        os.setsid()
    for fd in _open_fds():
        with contextlib.suppress(OSError):
            if not os.isatty(fd):
                continue
            if fd <= 2:
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, fd)
                os.close(null)
            else:
                os.close(fd)


def _open_fds() -> list[int]:
    try:
        return sorted(int(name) for name in os.listdir("/proc/self/fd"))
    except OSError:
        return [0, 1, 2]


# -- limits -----------------------------------------------------------------------------


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


# -- namespaces and mounts ----------------------------------------------------------------


def _unshare(libc: Any, flags: int) -> bool:
    """New namespaces (as root, or through a user namespace mapping us to ourselves)."""
    if libc.unshare(flags) == 0:
        return True
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | flags) != 0:
        return False
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    with open("/proc/self/gid_map", "w") as handle:
        handle.write(f"{gid} {gid} 1")
    return True


def bind_mounts(libc: Any, mounts: list[tuple[str, bool]]) -> None:
    """Bind each path on itself (read-only unless writable), in a new mount namespace."""
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        _fail("making mounts private")
    for path, writable in mounts:
        target = os.fsencode(path)
        if libc.mount(target, target, None, MS_BIND | MS_REC, None) != 0:
            _fail(f"bind {path}")
        flags = MS_BIND | MS_REMOUNT | _kept_flags(path) | (0 if writable else MS_RDONLY)
        if libc.mount(None, target, None, flags, None) != 0:
            _fail(f"remount {path}")
    os.chdir(os.getcwd())  # the working directory as seen through the new mounts


def _kept_flags(path: str) -> int:
    info = os.statvfs(path)
    return sum(flag for st, flag in _KEPT_MOUNT_FLAGS if info.f_flag & st)


# -- Landlock -----------------------------------------------------------------------------


def _write_rights(abi: int) -> int:
    rights = _WRITES_V1
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= TRUNCATE
    return rights


def _read_rights(abi: int) -> int:
    return READ_FILE | (IOCTL_DEV if abi >= 5 else 0)


def _read_roots() -> list[str]:
    """Every top-level entry but /dev: files are read everywhere else."""
    with contextlib.suppress(OSError):
        return ["/" + name for name in sorted(os.listdir("/")) if name != "dev"]
    return []


def restrict(write: list[str], block_tcp: bool) -> None:
    """Writes only beneath ``write``; no device but DEVICES; optionally no TCP."""
    libc, abi = _libc(), landlock_abi()
    if abi < 1:
        raise OSError("sandbox: Landlock is not available")
    writes, reads = _write_rights(abi), _read_rights(abi)
    scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if abi >= 6 else 0
    attr = _RulesetAttr(writes | reads, 3 if block_tcp and abi >= 4 else 0, scoped)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    fd = int(libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), size, 0))
    if fd < 0:
        _fail("landlock_create_ruleset")
    try:
        for path in _read_roots():
            _add_path(libc, fd, path, reads)
        for path in write:
            _add_path(libc, fd, path, writes | reads)
        for device in DEVICES:
            _add_path(libc, fd, device, (writes | reads) & _FILE_ONLY)
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


# -- seccomp ------------------------------------------------------------------------------


def _seccomp_program(inet: bool, kernel: bool) -> bytes:
    """The filter to start under; for a kernel, the full one is left in the environment."""
    try:
        if kernel:
            os.environ[sandbox_seccomp.LATER_ENV] = sandbox_seccomp.later_filter(inet=inet)
        return sandbox_seccomp.no_network_program(inet=inet, kernel=kernel)
    except sandbox_seccomp.UnsupportedArchitecture as err:
        raise OSError(f"sandbox: cannot turn the network off: {err}") from None


def apply_seccomp(libc: Any, program: bytes) -> None:
    """Install the filter on this process (inherited by everything it starts)."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _FilterProgram(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    _no_new_privs(libc)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        _fail("seccomp filter")


def seccomp_fd(program: bytes) -> int:
    """An inheritable file holding the filter, for ``bwrap --seccomp FD``."""
    fd = os.memfd_create("interpreter-seccomp", 0)  # no MFD_CLOEXEC: bwrap reads it
    os.set_inheritable(fd, True)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


# -- capabilities -------------------------------------------------------------------------


def drop_capabilities(libc: Any) -> None:
    """No capability left, and none that root (uid 0) would regain at exec."""
    last = _last_capability()
    for cap in range(last + 1):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # EPERM without CAP_SETPCAP: none to drop
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    libc.prctl(PR_SET_SECUREBITS, SECUREBITS_LOCKED_DOWN, 0, 0, 0)
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        _fail("capset")
    left = _capabilities_left()
    if left:
        raise OSError(f"sandbox: cannot drop capabilities ({', '.join(left)} left)")


def _last_capability() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return 63


def _capabilities_left() -> list[str]:
    """The capability sets of this process that are not empty (the bounding set counts
    for root only: elsewhere no_new_privs keeps exec from granting any)."""
    names = ["CapInh", "CapPrm", "CapEff", "CapAmb"]
    if os.getuid() == 0:
        names.append("CapBnd")
    left: list[str] = []
    with contextlib.suppress(OSError), open("/proc/self/status") as handle:
        for line in handle:
            name, _, value = line.partition(":")
            if name in names and int(value.strip(), 16):
                left.append(name)
    return left


# -- the whole sequence -------------------------------------------------------------------


def apply(config: dict[str, Any], argv: list[str]) -> list[str]:
    """Apply ``config`` to this process (see the module docstring); the argv to exec."""
    libc = _libc()
    detach_terminal()
    nproc = int(config.get("nproc", 0))
    if nproc and not (config.get("cgroup") and _join_pids_cgroup(nproc)):
        _limit(resource.RLIMIT_NPROC, _user_processes() + nproc)
    if int(config.get("data", 0)):
        _limit(resource.RLIMIT_DATA, int(config["data"]))
    os.environ.update({str(k): str(v) for k, v in dict(config.get("env", {})).items()})
    own_network = _namespaces(libc, config)
    landlock = config.get("landlock")
    if landlock is not None:
        restrict([str(p) for p in landlock["write"]], bool(landlock.get("net")))
    seccomp = config.get("seccomp")
    if seccomp is not None:
        kernel = bool(seccomp.get("kernel"))
        if config.get("bwrap_seccomp"):
            program = _seccomp_program(True, kernel)
            argv = [argv[0], "--seccomp", str(seccomp_fd(program)), *argv[1:]]
        else:
            apply_seccomp(libc, _seccomp_program(own_network, kernel))
    if config.get("nnp"):
        _no_new_privs(libc)
    if config.get("drop_caps"):
        drop_capabilities(libc)
    return argv


def _namespaces(libc: Any, config: dict[str, Any]) -> bool:
    """New namespaces as configured; whether the sandbox has its own (empty) network."""
    mounts = [(str(path), bool(writable)) for path, writable in config.get("mounts", [])]
    net = CLONE_NEWNET if config.get("unshare_net") else 0
    flags = net | (CLONE_NEWNS if mounts else 0)
    if not flags:
        return False
    made = _unshare(libc, flags)
    if not made and mounts:
        raise OSError(
            f"sandbox: cannot keep {mounts[-1][0]} read-only: no mount namespace here "
            "(run as root or allow user namespaces, or install bubblewrap)"
        )
    if mounts:
        bind_mounts(libc, mounts)
    return bool(net) and made


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: sandbox_landlock.py CONFIG_JSON -- ARGV...\n")
        return 2
    try:
        command = apply(json.loads(argv[0]), argv[2:])
        os.execvp(command[0], command)
    except OSError as err:
        sys.stderr.write(f"{err}\n")
    return 126


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
