"""Runs inside the Jupyter kernel (its source is sent there): active lines and an output cap.

Self-contained on purpose (standard library and IPython only): the host sends this file's
text to the kernel and calls ``install``. Markers travel in-band on stdout as
``\\x02oi-<token>:<line>\\x03`` (the active line) and ``\\x02oi-<token>:d<count>\\x03``
(bytes the cap left out here); the host strips them, so the user never sees them.

The cap keeps each cell's head and tail, ``limit`` bytes in all (as the host's OutputCap
does): the first half is written as it comes, the last half is held here and written
after the ``d`` marker when the cell ends, or before a traceback or the value of the last
expression, so those keep their place after the output that came before them.

In the OS sandbox without network, the kernel started under a seccomp filter that let it
open its unix sockets; ``install`` adds the full filter (sandbox_seccomp.py, left in
``INTERPRETER_SANDBOX_SECCOMP``) to every thread before any user code runs, or ends the
kernel if it cannot.
"""

from __future__ import annotations

import ast
import builtins
import ctypes
import os
import sys
from collections.abc import Callable
from typing import Any

MARKER_NAME = "__interpreter_active_line__"
SECCOMP_ENV = "INTERPRETER_SANDBOX_SECCOMP"
_SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC = 1, 1
FLUSH_INTERVAL_S = 0.02  # ipykernel's default (0.2 s) makes output feel late
STATE: _State | None = None


class _State:
    """Per-kernel bookkeeping, reset before each cell."""

    def __init__(self, token: str, limit: int | None, raw_write: Callable[[str], Any]) -> None:
        self.token = token
        self.limit = limit
        self.raw_write = raw_write
        self.last_line: int | None = None
        self.reset()

    def reset(self, *_: Any) -> None:
        self.last_line = None
        self.sent = 0
        self.dropped = 0
        self.holding = False
        self.tail: list[str] = []
        self.tail_size = 0

    def mark(self, line: int) -> None:
        if line != self.last_line:
            self.last_line = line
            self.raw_write(f"\x02oi-{self.token}:{line}\x03")

    def head_room(self) -> int:
        limit = self.limit or 0
        return limit - limit // 2 - self.sent

    def hold(self, text: str) -> None:
        """Keep ``text`` in the tail (at most half the limit), counting what falls out."""
        tail_limit = (self.limit or 0) // 2
        size = _size(text)
        if size >= tail_limit:
            kept = _last(text, tail_limit)
            self.dropped += self.tail_size + size - _size(kept)
            self.tail, self.tail_size = [kept], _size(kept)
            return
        self.tail.append(text)
        self.tail_size += size
        while self.tail_size > tail_limit:
            first = self.tail.pop(0)
            excess = self.tail_size - tail_limit
            rest = _last(first, _size(first) - excess) if _size(first) > excess else ""
            if rest:
                self.tail.insert(0, rest)
            self.dropped += _size(first) - _size(rest)
            self.tail_size -= _size(first) - _size(rest)

    def report(self, *_: Any) -> None:
        """Write the ``d`` marker (if anything was left out) and the held tail."""
        if self.dropped:
            self.raw_write(f"\x02oi-{self.token}:d{self.dropped}\x03")
            self.dropped = 0
        if self.tail:
            self.raw_write("".join(self.tail))
            self.tail, self.tail_size = [], 0


def _size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "replace"))


def _capped_class(base: type[Any], state: _State) -> type[Any]:
    """A subclass of the stream's class whose ``write`` forwards each cell's head and holds
    its tail (a subclass, so isinstance checks still pass)."""

    class CappedStream(base):  # type: ignore[misc]
        def write(self, text: str) -> Any:
            if state.limit is None or not isinstance(text, str):
                return base.write(self, text)
            if not state.holding:
                room = state.head_room()
                if _size(text) <= room:
                    state.sent += _size(text)
                    return base.write(self, text)
                kept = _cut(text, room) if room > 0 else ""
                if kept:
                    state.sent += _size(kept)
                    base.write(self, kept)
                state.holding = True
                state.hold(text[len(kept) :] if kept else text)
            else:
                state.hold(text)
            return len(text)

    return CappedStream


def _reporting_class(base: type[Any], state: _State) -> type[Any]:
    """The display hook's class, writing the held tail before the last expression's value."""

    class ReportingHook(base):  # type: ignore[misc]
        def __call__(self, result: Any = None) -> Any:
            if result is not None:
                state.report()
            return base.__call__(self, result)

    return ReportingHook


def _cut(text: str, limit: int) -> str:
    return text.encode("utf-8", "replace")[:limit].decode("utf-8", "ignore")


def _last(text: str, limit: int) -> str:
    if limit <= 0:
        return ""
    if text.isascii():
        return text[-limit:]
    return text.encode("utf-8", "replace")[-limit:].decode("utf-8", "ignore")


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _is_future(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"


def _marker(stmt: ast.stmt) -> ast.stmt:
    call = ast.Call(
        func=ast.Name(id=MARKER_NAME, ctx=ast.Load()),
        args=[ast.Constant(value=stmt.lineno)],
        keywords=[],
    )
    return ast.copy_location(ast.Expr(value=call), stmt)


def _marked(stmts: list[ast.stmt]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    leading = True
    for index, stmt in enumerate(stmts):
        if leading and ((index == 0 and _is_docstring(stmt)) or _is_future(stmt)):
            out.append(stmt)
            continue
        leading = False
        out.extend((_marker(stmt), stmt))
    return out


class ActiveLineTransformer(ast.NodeTransformer):
    """An IPython AST transformer: a marker call before every statement, same line number."""

    def visit(self, node: ast.AST) -> ast.AST:
        for parent in list(ast.walk(node)):
            for field in ("body", "orelse", "finalbody"):
                stmts = getattr(parent, field, None)
                if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                    setattr(parent, field, _marked(stmts))
        return ast.fix_missing_locations(node)


def install(token: str, limit: int | None) -> _State:
    """Hook the running IPython shell: markers, AST transformer, capped stdout/stderr.

    Call it outside a cell (e.g. from a user expression): IPython patches ``write`` on the
    streams during each cell and puts back what it found afterwards.
    """
    global STATE
    from IPython import get_ipython

    _lock_sockets()
    shell: Any = get_ipython()
    out = sys.stdout
    state = _State(token, limit, type(out).write.__get__(out))
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "flush_interval"):
            stream.flush_interval = FLUSH_INTERVAL_S
        stream.__dict__.pop("write", None)
        stream.__class__ = _capped_class(type(stream), state)
    setattr(builtins, MARKER_NAME, state.mark)
    shell.ast_transformers.append(ActiveLineTransformer())
    shell.events.register("pre_run_cell", state.reset)
    shell.events.register("post_run_cell", state.report)
    _report_before_tracebacks(shell, state)
    STATE = state
    return state


def _report_before_tracebacks(shell: Any, state: _State) -> None:
    """The held tail goes out before a traceback or an expression's value (which ipykernel
    sends as their own messages, right after flushing the streams)."""
    show = shell._showtraceback

    def showtraceback(*args: Any, **kwargs: Any) -> Any:
        state.report()
        return show(*args, **kwargs)

    shell._showtraceback = showtraceback
    hook = shell.displayhook
    hook.__class__ = _reporting_class(type(hook), state)


class _FilterProgram(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def _lock_sockets() -> None:
    """Add the sandbox's full seccomp filter to all threads (when the launcher left one)."""
    value = os.environ.pop(SECCOMP_ENV, None)
    if value is None:
        return
    try:
        number, _, program_hex = value.partition(":")
        program = bytes.fromhex(program_hex)
        buffer = ctypes.create_string_buffer(program, len(program))
        fprog = _FilterProgram(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
        libc = ctypes.CDLL(None, use_errno=True)
        flags = _SECCOMP_FILTER_FLAG_TSYNC
        if libc.syscall(int(number), _SECCOMP_SET_MODE_FILTER, flags, ctypes.byref(fprog)) != 0:
            raise OSError(ctypes.get_errno(), "seccomp")
    except (OSError, ValueError) as err:
        os.write(2, f"sandbox: cannot lock the kernel's sockets: {err}\n".encode())
        os._exit(70)
