"""``interpreter --reset_profile``: asks first (y/N in a terminal, ``-y`` without one),
keeps a backup of the old profile and carries its permission rules over. The real
command, in a pty and through pipes."""

from __future__ import annotations

from pathlib import Path

import pexpect
import yaml

from interpreter.store.profiles import default_profile_text
from pty_helpers import Cli, cli_env, run_piped

OLD = """\
# my own notes
llm:
  model: something-else
permissions:
  allow:
    - {language: shell, command: "git status*"}
    - {language: python}
"""
RULES = [{"language": "shell", "command": "git status*"}, {"language": "python"}]
EXIT_DECLINED = 3


def _profile(tmp_path: Path, text: str = OLD) -> Path:
    path = tmp_path / "cfg" / "open-interpreter" / "profiles" / "default.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob("default.yaml.bak-*"))


def _run_in_pty(tmp_path: Path, answer: str) -> tuple[int, str]:
    cli = Cli(["--reset_profile"], cli_env(tmp_path / "cfg"), tmp_path)
    try:
        cli.expect_text("[y/N]")
        cli.send_line(answer)
        cli.child.expect(pexpect.EOF, timeout=20)
        cli.child.close()
        return int(cli.child.exitstatus or 0), cli.output().decode(errors="replace")
    finally:
        cli.kill()


def test_yes_in_a_terminal_resets_keeps_a_backup_and_the_rules(tmp_path: Path) -> None:
    path = _profile(tmp_path)
    status, shown = _run_in_pty(tmp_path, "y")
    assert status == 0, shown
    (backup,) = _backups(path)
    assert backup.read_text() == OLD
    assert f"saved as {backup}" in shown.replace("\r\n", "")
    assert "2 permission rule(s) were carried over" in shown
    new = path.read_text()
    assert new.startswith(default_profile_text().split("\n")[0])  # the commented defaults
    data = yaml.safe_load(new)
    assert data["llm"]["model"] == "gpt-4o" and data["permissions"] == {"allow": RULES}
    assert oct(backup.stat().st_mode & 0o777) == "0o600"


def test_no_in_a_terminal_changes_nothing(tmp_path: Path) -> None:
    path = _profile(tmp_path)
    status, shown = _run_in_pty(tmp_path, "")  # Enter: the default answer, N
    assert status == EXIT_DECLINED
    assert "Nothing changed." in shown
    assert path.read_text() == OLD and _backups(path) == []


def test_without_a_terminal_it_refuses_unless_y(tmp_path: Path) -> None:
    path = _profile(tmp_path)
    env = cli_env(tmp_path / "cfg")
    refused = run_piped(["--reset_profile"], env, tmp_path)
    assert refused.returncode == EXIT_DECLINED
    assert "add -y" in refused.stderr
    assert path.read_text() == OLD and _backups(path) == []
    done = run_piped(["--reset_profile", "-y"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(path.read_text())["permissions"] == {"allow": RULES}
    (backup,) = _backups(path)
    assert backup.read_text() == OLD
    again = run_piped(["--reset_profile", "-y"], env, tmp_path)
    assert again.returncode == 0 and len(_backups(path)) == 2  # a second backup, not lost


def test_an_unreadable_profile_is_backed_up_and_reset(tmp_path: Path) -> None:
    path = _profile(tmp_path, "llm: [not: closed\n")
    done = run_piped(["--reset_profile", "-y"], cli_env(tmp_path / "cfg"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "not carried over: it is not valid YAML" in done.stdout
    (backup,) = _backups(path)
    assert backup.read_text() == "llm: [not: closed\n"
    assert path.read_text() == default_profile_text()


def test_a_profile_holding_the_defaults_is_left_alone(tmp_path: Path) -> None:
    path = _profile(tmp_path, default_profile_text())
    done = run_piped(["--reset_profile"], cli_env(tmp_path / "cfg"), tmp_path)
    assert done.returncode == 0 and "already holds the defaults" in done.stdout
    assert _backups(path) == []


def test_only_the_default_profile_can_be_reset(tmp_path: Path) -> None:
    done = run_piped(["--reset_profile", "other"], cli_env(tmp_path / "cfg"), tmp_path)
    assert done.returncode == 2 and "only the default profile" in done.stderr
