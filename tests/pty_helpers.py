"""Run the real ``interpreter`` command in a pseudo-terminal (pexpect) or a pipe, for tests."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pexpect

PROMPT = "> "
# prompt_toolkit turns bracketed paste on whenever it starts reading a line
PROMPT_READY = b"\x1b[?2004h"
QUESTION = "Would you like to run this code?"


def cli_env(config_home: Path, **extra: str) -> dict[str, str]:
    """The environment for a CLI run: its own config dir, no keys, no CPR queries."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(
        XDG_CONFIG_HOME=str(config_home),
        PROMPT_TOOLKIT_NO_CPR="1",
        TERM="xterm-256color",
        COLUMNS="200",
        LINES="50",
        EDITOR="true",
        PYTHONUNBUFFERED="1",
    )
    env.pop("INTERPRETER_NO_DEFAULT_PROFILE", None)
    env.update(extra)
    return env


def model_args(url: str) -> list[str]:
    return ["--api_base", url, "--model", "gpt-4o", "--api_key", "test-key"]


class Cli:
    """A CLI process in a pty; every byte it writes is kept in ``raw``."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, timeout: float = 20):
        self.raw = io.BytesIO()
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "interpreter", *args],
            env=env,
            cwd=str(cwd),
            dimensions=(50, 200),
            timeout=timeout,
        )
        self.child.logfile_read = self.raw

    def expect(self, pattern: Any, timeout: float | None = None) -> int:
        return int(self.child.expect(pattern, timeout=timeout if timeout is not None else -1))

    def expect_text(self, text: str, timeout: float | None = None) -> None:
        self.child.expect_exact(text.encode(), timeout=timeout if timeout is not None else -1)

    def prompt(self, timeout: float | None = None) -> None:
        """Wait until the input prompt reads a line."""
        self.child.expect_exact(PROMPT_READY, timeout=timeout if timeout is not None else -1)

    def send_line(self, text: str) -> None:
        self.child.send(text.encode() + b"\r")

    def interrupt(self, timeout: float) -> float:
        """Send Ctrl-C, wait for "Stopped" and the next prompt; return the seconds that took."""
        started = time.monotonic()
        self.child.sendintr()
        self.expect_text("Stopped", timeout=timeout)
        self.prompt(timeout=timeout)
        return time.monotonic() - started

    def output(self) -> bytes:
        return self.raw.getvalue()

    def quit(self) -> int:
        """Send Ctrl-D, wait for the exit, return the exit code."""
        if self.child.isalive():
            self.child.sendeof()
            self.child.expect(pexpect.EOF, timeout=15)
        self.child.close()
        return int(self.child.exitstatus if self.child.exitstatus is not None else -1)

    def kill(self) -> None:
        if self.child.isalive():
            self.child.kill(9)
        self.child.close(force=True)


def run_piped(
    args: list[str], env: dict[str, str], cwd: Path, stdin: str = "", timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with pipes (no terminal): the one-shot and scripting mode."""
    return subprocess.run(
        [sys.executable, "-m", "interpreter", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=str(cwd),
        timeout=timeout,
        check=False,
    )


def screen_text(raw: bytes, columns: int = 200, lines: int = 50) -> str:
    """What a terminal of that size shows after ``raw`` (scrollback first), as plain text:
    the output as the user sees it, after every redraw and erase (pyte emulates it)."""
    import pyte

    screen = pyte.HistoryScreen(columns, lines, history=5000)
    pyte.ByteStream(screen).feed(raw)
    rows = ["".join(row[x].data for x in range(columns)) for row in screen.history.top]
    rows += list(screen.display)
    return "\n".join(row.rstrip() for row in rows).strip("\n")


def processes_with(text: str) -> set[int]:
    """The processes whose command line contains ``text`` (e.g. a test's temporary dir)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and int(entry.name) != os.getpid():
            found.add(int(entry.name))
    return found


def wait_until(condition: Any, seconds: float, step: float = 0.05) -> Any:
    """Poll ``condition()`` until it returns something truthy (returned) or time runs out
    (the last falsy value is returned)."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)
