"""safe_mode: scanning code for dangerous patterns before it runs.

``off``: no scan. ``ask``: scan, show the findings with the confirmation, and always ask
(even with ``auto_run``; 0.4.3 turned auto_run off in safe mode). ``auto``: scan; code
with findings is refused without asking and the model is told why; code without
findings follows ``auto_run``. Semgrep runs too where it is installed (it is not a
dependency: ``pip install semgrep``); otherwise only the built-in checks run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile

__all__ = [
    "HASH_MISMATCH",
    "MODES",
    "SEMGREP_MISSING",
    "builtin_findings",
    "digest",
    "safe_mode_refusal",
    "scan",
    "scan_for",
    "semgrep_findings",
]

MODES = ("off", "ask", "auto")
SEMGREP_MISSING = "semgrep is not installed (pip install semgrep): only built-in checks ran."
_SEMGREP_TIMEOUT_S = 60.0

_CHECKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "recursive delete of the root or home directory",
        re.compile(
            r"\brm\s+(?:-\S*\s+)*-\S*[rR]\S*\s+(?:-\S+\s+)*(?:/|/\*|~/?|\$HOME/?|\$\{HOME\}/?)"
            r"(?=[\s;'\"&|)]|$)"
        ),
    ),
    ("recursive delete of / or ~ from Python", re.compile(r"rmtree\(\s*['\"](?:/|~)/?['\"]")),
    (
        "piping a download into a shell",
        re.compile(r"\b(?:curl|wget)\b[^\n|]*\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b"),
    ),
    ("world-writable permissions (chmod 777)", re.compile(r"\bchmod\s+(?:-\S+\s+)*0?777\b")),
    ("fork bomb", re.compile(r":\s*\(\s*\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:")),
    (
        "writing to SSH keys or config",
        re.compile(
            r"(?:>>?|\btee\b|\bcp\b|\bmv\b|open\([^)\n]*)[^\n]*\.ssh/|\.ssh/authorized_keys"
        ),
    ),
    ("formatting a file system", re.compile(r"\bmkfs(?:\.\w+)?\b")),
    ("raw write to a disk device", re.compile(r"\bdd\b[^\n]*\bof=/dev/(?:sd|nvme|hd|disk|xvd)")),
)


def builtin_findings(code: str) -> list[str]:
    """One line per dangerous pattern found in ``code`` (any language)."""
    found: list[str] = []
    for label, pattern in _CHECKS:
        match = pattern.search(code)
        if match is not None:
            line = code.count("\n", 0, match.start()) + 1
            found.append(f"line {line}: {label}: {match.group(0).strip()[:80]}")
    return found


def semgrep_findings(language: str, code: str) -> list[str] | None:
    """Semgrep's findings, or None when semgrep is not installed or failed."""
    semgrep = shutil.which("semgrep")
    if semgrep is None:
        return None
    from ..execution.computer import file_suffix

    suffix = file_suffix(language)
    fd, path = tempfile.mkstemp(prefix="interpreter-scan-", suffix=suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(code)
        command = [semgrep, "scan", "--config", "auto", "--json", "--quiet", path]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_SEMGREP_TIMEOUT_S, check=False
        )
        results = json.loads(done.stdout or "{}").get("results", [])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    finally:
        os.unlink(path)
    return [_semgrep_line(result) for result in results if isinstance(result, dict)]


def _semgrep_line(result: dict[str, object]) -> str:
    start = result.get("start")
    line = start.get("line") if isinstance(start, dict) else "?"
    extra = result.get("extra")
    message = extra.get("message", "") if isinstance(extra, dict) else ""
    return f"line {line}: semgrep {result.get('check_id', '')}: {message}".strip()


def scan(language: str, code: str) -> tuple[list[str], str | None]:
    """The findings for ``code``, and a note when the scan was partial (no semgrep)."""
    found = builtin_findings(code)
    extra = semgrep_findings(language, code)
    if extra is None:
        return found, SEMGREP_MISSING
    return found + extra, None


HASH_MISMATCH = "Error: the code to run differs from the code that was approved; it was not run."


def digest(code: str) -> str:
    """The sha256 of ``code`` (what a confirmation's ``hash`` carries)."""
    import hashlib

    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def scan_for(mode: str, language: str, code: str) -> tuple[list[str], str | None]:
    """``scan`` under safe_mode ``mode``: nothing when it is ``off``."""
    if mode not in ("ask", "auto"):
        return [], None
    return scan(language, code)


def safe_mode_refusal(findings: list[str]) -> str:
    """What the model is told when safe_mode ``auto`` refuses code."""
    listed = "\n".join(f"- {finding}" for finding in findings)
    return (
        "Code was not run: safe_mode is 'auto' and the code scan found:\n"
        f"{listed}\nDo not try to work around this; ask the user instead."
    )
