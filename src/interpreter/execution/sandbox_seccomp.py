"""The sandbox's seccomp filter for "no network" (standard library only: the launcher
loads it as a script's sibling).

Namespaces and Landlock leave ways out when the network is off: UDP where no network
namespace can be made (Landlock covers TCP only), unix sockets of the host at paths the
sandbox can see (``/run/...``, an agent's or tmux's socket: connecting is not a file
write), and io_uring, which makes socket calls without system calls. The filter:

- ``socket`` makes no unix socket (``socketpair`` makes connected stream pairs, which
  reach nothing else), no internet socket unless the sandbox has its own network
  namespace (where they reach only its own loopback), routing netlink only, nothing else;
- ``io_uring_setup`` is refused, and system calls of another architecture end the process.

A Jupyter kernel must open its unix sockets first: it starts under a filter that allows
them (``kernel=True``) and, once they are open, adds the full filter for every thread
(kernel_side.py, from :data:`LATER_ENV`).
"""

from __future__ import annotations

import errno
import platform
import struct
from dataclasses import dataclass

__all__ = ["LATER_ENV", "UnsupportedArchitecture", "later_filter", "no_network_program"]

#: Where the launcher leaves the full filter for a kernel to add: ``"<seccomp nr>:<hex>"``.
LATER_ENV = "INTERPRETER_SANDBOX_SECCOMP"

# struct sock_filter codes (linux/filter.h, linux/bpf_common.h)
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_AND_K = 0x54
_RET_K = 0x06
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_KILL_PROCESS = 0x80000000
# struct seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8 * i (low half first)
_NR, _ARCH, _ARG0, _ARG1 = 0, 4, 16, 24
_AF_UNIX, _AF_INET, _AF_INET6, _AF_NETLINK = 1, 2, 10, 16
_NETLINK_ROUTE = 0
_SOCK_STREAM, _SOCK_SEQPACKET, _SOCK_TYPE_MASK = 1, 5, 0xF
_X32_BIT = 0x40000000


class UnsupportedArchitecture(OSError):
    """No filter for this machine's architecture (x86_64 and aarch64 have one)."""


@dataclass(frozen=True)
class _Arch:
    audit: int  # AUDIT_ARCH_*
    socket: int
    socketpair: int
    io_uring_setup: int
    seccomp: int
    x32: bool  # x86_64: numbers with bit 30 set are the x32 ABI


_X86_64 = _Arch(0xC000003E, 41, 53, 425, 317, True)
_AARCH64 = _Arch(0xC00000B7, 198, 199, 425, 277, False)
_ARCHES = {"x86_64": _X86_64, "amd64": _X86_64, "aarch64": _AARCH64, "arm64": _AARCH64}


@dataclass(frozen=True)
class _Jump:
    """A conditional jump to labels (None: the next instruction)."""

    code: int
    k: int
    if_true: str | None = None
    if_false: str | None = None


@dataclass(frozen=True)
class _Label:
    name: str


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def _arch(machine: str | None) -> _Arch:
    name = (machine or platform.machine()).lower()
    found = _ARCHES.get(name)
    if found is None:
        raise UnsupportedArchitecture(f"no seccomp filter for the {name} architecture")
    return found


def no_network_program(*, inet: bool, kernel: bool = False, machine: str | None = None) -> bytes:
    """The compiled filter (an array of ``struct sock_filter``) for ``machine``.

    ``inet``: internet sockets are allowed (the sandbox has its own network namespace);
    ``kernel``: unix sockets are allowed too, until the kernel adds the full filter."""
    arch = _arch(machine)
    program: list[bytes | _Jump | _Label] = [
        _op(_LD_W_ABS, _ARCH),
        _Jump(_JEQ_K, arch.audit, if_false="kill"),
        _op(_LD_W_ABS, _NR),
    ]
    if arch.x32:
        program.append(_Jump(_JGE_K, _X32_BIT, if_true="no_sys"))
    program += [
        _Jump(_JEQ_K, arch.socket, if_true="socket"),
        _Jump(_JEQ_K, arch.socketpair, if_true="pair"),
        _Jump(_JEQ_K, arch.io_uring_setup, if_true="no_sys"),
        _op(_RET_K, _ALLOW),
        _Label("socket"),
        _op(_LD_W_ABS, _ARG0),
        _Jump(_JEQ_K, _AF_UNIX, if_true="unix" if kernel else "deny"),
        _Jump(_JEQ_K, _AF_INET, if_true="inet" if inet else "deny"),
        _Jump(_JEQ_K, _AF_INET6, if_true="inet" if inet else "deny"),
        _Jump(_JEQ_K, _AF_NETLINK, if_false="deny"),
        _op(_LD_W_ABS, _ARG0 + 16),  # the protocol (args[2])
        _Jump(_JEQ_K, _NETLINK_ROUTE, if_true="ok", if_false="deny"),
        _Label("pair"),
        _op(_LD_W_ABS, _ARG0),
        _Jump(_JEQ_K, _AF_UNIX, if_false="deny"),
        _Label("unix"),
        _op(_LD_W_ABS, _ARG1),
        _op(_AND_K, _SOCK_TYPE_MASK),
        _Jump(_JEQ_K, _SOCK_STREAM, if_true="ok"),
        _Jump(_JEQ_K, _SOCK_SEQPACKET, if_true="ok", if_false="deny"),
        _Label("inet"),
        _op(_RET_K, _ALLOW),
        _Label("deny"),
        _op(_RET_K, _ERRNO | errno.EACCES),
        _Label("no_sys"),
        _op(_RET_K, _ERRNO | errno.ENOSYS),
        _Label("kill"),
        _op(_RET_K, _KILL_PROCESS),
        _Label("ok"),
        _op(_RET_K, _ALLOW),
    ]
    return _assemble(program)


def later_filter(*, inet: bool, machine: str | None = None) -> str:
    """The value of :data:`LATER_ENV`: the seccomp syscall number and the full filter."""
    program = no_network_program(inet=inet, machine=machine)
    return f"{_arch(machine).seccomp}:{program.hex()}"


def _assemble(program: list[bytes | _Jump | _Label]) -> bytes:
    """The instructions with labels resolved to jump offsets (classic BPF jumps only
    forward: every label a jump names comes after it)."""
    where: dict[str, int] = {}
    position = 0
    for item in program:
        if isinstance(item, _Label):
            where[item.name] = position
        else:
            position += 1
    out: list[bytes] = []
    for item in program:
        if isinstance(item, _Label):
            continue
        if isinstance(item, _Jump):
            here = len(out)
            offsets = [
                0 if t is None else where[t] - here - 1 for t in (item.if_true, item.if_false)
            ]
            if min(offsets) < 0:
                raise ValueError("classic BPF cannot jump backwards")
            out.append(_op(item.code, item.k, offsets[0], offsets[1]))
        else:
            out.append(item)
    return b"".join(out)
