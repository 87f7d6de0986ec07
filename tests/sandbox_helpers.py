"""Shared by the sandbox tests: which mechanisms work here, a sandboxed computer, output."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from interpreter.execution.computer import Computer
from interpreter.execution.sandbox import mechanism
from interpreter.execution.sandbox_landlock import landlock_abi

MECHANISMS = [m for m in ("bwrap",) if shutil.which("bwrap")]
MECHANISMS += ["landlock"] if sys.platform.startswith("linux") and landlock_abi() >= 1 else []
AVAILABLE = bool(MECHANISMS) and mechanism() is not None


def out(computer: Computer, language: str, code: str) -> str:
    chunks = computer.run(language, code)
    return "".join(str(c.get("content", "")) for c in chunks if c.get("format") == "output")


@contextmanager
def sandboxed(how: str, workdir: Path, *, allow_home: bool = False) -> Iterator[Computer]:
    """A Computer sandboxed with mechanism ``how``, run from ``workdir``."""
    old_env, old_cwd = os.environ.get("INTERPRETER_SANDBOX"), os.getcwd()
    os.environ["INTERPRETER_SANDBOX"] = how
    os.chdir(workdir)
    computer = Computer(timeout=60)
    try:
        computer.sandbox_allow_home = allow_home
        computer.sandbox = True
        yield computer
    finally:
        computer.terminate()
        os.chdir(old_cwd)
        os.environ.pop("INTERPRETER_SANDBOX", None)
        if old_env is not None:
            os.environ["INTERPRETER_SANDBOX"] = old_env
