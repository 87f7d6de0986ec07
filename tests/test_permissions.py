"""Allow rules: conservative matching, and code they allow runs without a confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import make_interpreter
from interpreter.core.permissions import allowed, matches, rule_for
from interpreter.testing.fake_server import FakeModelServer, Reply

GIT = {"language": "shell", "command": "git status*"}
LS = {"language": "shell", "command": "ls"}


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("git status", True),
        ("git status -s", True),
        ("git statusx", False),
        ("git status; rm -rf ~", False),
        ("git status && touch x", False),
        ("git status || touch x", False),
        ("git status | sh", False),
        ("git status `touch x`", False),
        ("git status $(touch x)", False),
        ("git status > out", False),
        ("git status\ntouch x", False),
        ("git status & touch x", False),
    ],
)
def test_shell_prefix_rule_matches_one_simple_command(code: str, ok: bool) -> None:
    assert matches(GIT, "bash", code) is ok


def test_exact_and_language_wide_rules() -> None:
    assert matches(LS, "shell", "  ls ") and not matches(LS, "shell", "ls -la")
    assert not matches(LS, "python", "ls")
    assert allowed([{"language": "python"}], "python", "import os; os.listdir()")
    assert allowed([{"language": "shell"}], "sh", "a; b | c")  # language-wide: anything
    assert rule_for("bash", "ls -la") == {"language": "shell", "command": "ls -la"}
    assert rule_for("shell", "ls; rm x") is None


def test_rule_runs_without_asking_and_others_still_ask(model: FakeModelServer, here: Path) -> None:
    model.script(
        Reply.tool_call("shell", "touch allowed-marker"),
        Reply.tool_call("shell", "touch allowed-marker; touch chained-marker"),
        Reply.text("done"),
    )
    interp = make_interpreter(model)
    interp.permissions = {"allow": [{"language": "shell", "command": "touch allowed-marker"}]}
    chunks = list(interp.chat("go", stream=True, display=False))
    kinds = [c.get("type") for c in chunks]
    assert (here / "allowed-marker").exists()
    assert not (here / "chained-marker").exists()
    assert kinds.count("confirmation") == 1  # only the chained command asked
    interp.computer.terminate()


def test_always_answer_stores_a_session_rule(model: FakeModelServer, here: Path) -> None:
    model.script(
        Reply.tool_call("shell", "echo again >> log"),
        Reply.tool_call("shell", "echo again >> log"),
        Reply.text("done"),
    )
    interp = make_interpreter(model)
    interp.approval_callback = lambda language, code: {"always": True}
    interp.chat("go", display=False)
    # A redirection is no simple command: no rule, so the second run asked again.
    assert interp.permissions == {"allow": []}
    model.script(Reply.tool_call("shell", "ls"), Reply.tool_call("shell", "ls"), Reply.text("ok"))
    asked: list[str] = []
    interp.approval_callback = lambda language, code: asked.append(code) or {"always": True}
    interp.chat("again", display=False)
    assert asked == ["ls"]
    assert interp.permissions == {"allow": [{"language": "shell", "command": "ls"}]}
    interp.computer.terminate()
