"""Runs inside the Jupyter kernel (its source is sent there): active lines and an output cap.

Self-contained on purpose (standard library and IPython only): the host sends this file's
text to the kernel and calls ``install``. Markers travel in-band on stdout as
``\\x02oi-<token>:<line>\\x03`` (the active line) and ``\\x02oi-<token>:d<count>\\x03``
(bytes the cap dropped); the host strips them, so the user never sees them.
"""

from __future__ import annotations

import ast
import builtins
import sys
from collections.abc import Callable
from typing import Any

MARKER_NAME = "__interpreter_active_line__"
FLUSH_INTERVAL_S = 0.02  # ipykernel's default (0.2 s) makes output feel late
STATE: _State | None = None


class _State:
    """Per-kernel bookkeeping, reset before each cell."""

    def __init__(self, token: str, limit: int | None, raw_write: Callable[[str], Any]) -> None:
        self.token = token
        self.limit = limit
        self.raw_write = raw_write
        self.last_line: int | None = None
        self.sent = 0
        self.dropped = 0

    def reset(self, *_: Any) -> None:
        self.last_line = None
        self.sent = 0
        self.dropped = 0

    def mark(self, line: int) -> None:
        if line != self.last_line:
            self.last_line = line
            self.raw_write(f"\x02oi-{self.token}:{line}\x03")

    def report(self, *_: Any) -> None:
        if self.dropped:
            self.raw_write(f"\x02oi-{self.token}:d{self.dropped}\x03")


def _size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "replace"))


def _capped_class(base: type[Any], state: _State) -> type[Any]:
    """A subclass of the stream's class whose ``write`` forwards at most ``state.limit``
    bytes per cell and counts the rest (a subclass, so isinstance checks still pass)."""

    class CappedStream(base):  # type: ignore[misc]
        def write(self, text: str) -> Any:
            if state.limit is None or not isinstance(text, str):
                return base.write(self, text)
            size = _size(text)
            room = state.limit - state.sent
            if size <= room:
                state.sent += size
                return base.write(self, text)
            kept = ""
            if room > 0:
                kept = text[:room] if text.isascii() else _cut(text, room)
                state.sent += _size(kept)
                base.write(self, kept)
            state.dropped += size - _size(kept)
            return len(text)

    return CappedStream


def _cut(text: str, limit: int) -> str:
    return text.encode("utf-8", "replace")[:limit].decode("utf-8", "ignore")


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
    STATE = state
    return state
