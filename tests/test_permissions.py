"""Allow rules: conservative matching, and code they allow runs without a confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helpers import make_interpreter
from interpreter.core.permissions import allowed, matches, rule_for
from interpreter.store.profile_edit import add_allow_rule, save_allow_rule
from interpreter.store.profiles import default_profile_text
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


# -- "always allow" rules saved in the profile ---------------------------------------------


def test_saved_rule_is_appended_once_and_keeps_every_line(tmp_path: Path) -> None:
    path = tmp_path / "default.yaml"
    old = default_profile_text()
    path.write_text(old)
    assert "Saved in" in save_allow_rule(path, LS)
    first = path.read_text()
    assert first.startswith(old)  # a new block at the end, nothing else changed
    assert yaml.safe_load(first)["permissions"] == {"allow": [LS]}
    assert "Already allowed" in save_allow_rule(path, LS)
    assert path.read_text() == first
    assert "(updated)" in save_allow_rule(path, GIT)
    second = path.read_text()
    assert second.startswith(first.rstrip("\n")) and second.count("permissions:") == 1
    assert yaml.safe_load(second)["permissions"] == {"allow": [LS, GIT]}
    assert yaml.safe_load(second)["llm"] == yaml.safe_load(old)["llm"]


def test_rule_joins_an_existing_allow_block_in_place(tmp_path: Path) -> None:
    path = tmp_path / "work.yml"
    text = (
        "# mine\npermissions:  # rules\n  allow:\n  - {language: python}  # py\n"
        "  # end of rules\nauto_run: false\n"
    )
    path.write_text(text)
    save_allow_rule(path, LS)
    new = path.read_text()
    assert new == text.replace("# py\n", '# py\n  - {"language": "shell", "command": "ls"}\n')
    assert yaml.safe_load(new)["permissions"]["allow"] == [{"language": "python"}, LS]
    assert add_allow_rule("permissions:\n  other: 1\n", LS).endswith(
        'other: 1\n  allow:\n    - {"language": "shell", "command": "ls"}\n'
    )


def test_rule_keeps_the_layout_of_a_hand_written_profile(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    text = (
        "# head\n---\npermissions:\n    allow:\n        - language: python  # py\n"
        "          command: x\n    other: 1  # o\nllm:\n    model: gpt-4o  # m\n"
    )
    path.write_text(text)
    assert "(updated)" in save_allow_rule(path, LS)
    rule = '        - {"language": "shell", "command": "ls"}\n'
    assert path.read_text() == text.replace("command: x\n", "command: x\n" + rule)


def test_flow_style_is_edited_in_place_and_other_kinds_are_never_touched(tmp_path: Path) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text("permissions: {allow: [{language: python}]}  # flow\nversion: 0.2.5\n")
    assert "(updated)" in save_allow_rule(flow, LS)
    assert flow.read_text().startswith('permissions: {allow: [{language: python}, {"language": ')
    assert "# flow\n" in flow.read_text()
    data = yaml.safe_load(flow.read_text())
    assert data == {"permissions": {"allow": [{"language": "python"}, LS]}, "version": "0.2.5"}
    twice = tmp_path / "twice.yaml"  # a key given twice: PyYAML keeps the last, ruamel refuses
    twice.write_text("# mine\nauto_run: true\nauto_run: false\n")
    assert "comments were lost" in save_allow_rule(twice, LS)
    assert yaml.safe_load(twice.read_text()) == {"auto_run": False, "permissions": {"allow": [LS]}}
    for name, text in (("p.json", '{"auto_run": false}'), ("p.py", "interpreter.loop = True\n")):
        other = tmp_path / name
        other.write_text(text)
        assert "not a YAML profile" in save_allow_rule(other, LS)
        assert other.read_text() == text
    broken = tmp_path / "broken.yaml"
    broken.write_text("permissions:\n  allow: ls\n")
    assert "session only" in save_allow_rule(broken, LS)
    assert broken.read_text() == "permissions:\n  allow: ls\n"
