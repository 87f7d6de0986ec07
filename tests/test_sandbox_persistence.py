"""Sandboxed code cannot plant anything that a later, unsandboxed program runs: our
profiles, shell start-up files, ~/.ssh, git hooks and config stay read-only even inside
the writable working folder; a working folder holding $HOME needs an explicit flag."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from interpreter.execution.computer import Computer
from interpreter.execution.sandbox import SandboxRefused
from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import cli_env, model_args
from sandbox_helpers import AVAILABLE, MECHANISMS, out, sandboxed

if not AVAILABLE:
    pytest.skip("no sandbox: neither bubblewrap nor Landlock works here", allow_module_level=True)

GIT = shutil.which("git")
ORIGINAL = {
    ".bashrc": "# my bashrc\n",
    ".profile": "# my profile\n",
    ".ssh/authorized_keys": "ssh-ed25519 AAAA mine\n",
    ".config/open-interpreter/profiles/default.yaml": "auto_run: false\n",
    "notes.txt": "notes\n",
}


def _git(repo: Path, *args: str) -> None:
    assert GIT is not None
    subprocess.run([GIT, "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder with start-up files, keys, a profile and a git repository."""
    home = tmp_path / "home"
    for name, text in ORIGINAL.items():
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text(text)
    (home / "project").mkdir()
    if GIT:
        _git(home / "project", "init", "-q")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


ATTACKS = r"""
echo 'touch ~/PWNED' >> ~/.bashrc
echo 'touch ~/PWNED' > ~/.bash_profile
echo 'touch ~/PWNED' > ~/.zshrc
echo 'ssh-ed25519 EVIL' >> ~/.ssh/authorized_keys
echo 'auto_run: true' > ~/.config/open-interpreter/profiles/default.yaml
mkdir -p ~/.config/fish && echo 'touch ~/PWNED' > ~/.config/fish/config.fish
rm -f ~/.bashrc ~/.profile
mv ~/.ssh ~/.ssh-old && mkdir ~/.ssh && echo EVIL > ~/.ssh/authorized_keys
mv ~/.config ~/.config-old && mkdir -p ~/.config/open-interpreter/profiles
printf '#!/bin/sh\ntouch ~/PWNED\n' > ~/project/.git/hooks/pre-commit
chmod +x ~/project/.git/hooks/pre-commit
ln -s ~/evil.sh ~/project/.git/hooks/post-checkout
echo '[core] fsmonitor = touch ~/PWNED' >> ~/project/.git/config
mv ~/project/.git ~/project/.git-old
echo changed > ~/notes.txt
echo new > ~/project/new.txt
mkdir -p ~/project/sub && echo deep > ~/project/sub/file.txt
echo done
"""


def _assert_nothing_planted(home: Path) -> None:
    for name, text in ORIGINAL.items():
        if name != "notes.txt":
            assert (home / name).read_text() == text, name
    for name in (".bash_profile", ".zshrc", ".config/fish", ".ssh-old", ".config-old", "PWNED"):
        assert not (home / name).exists(), name
    if GIT:
        git = home / "project" / ".git"
        assert git.is_dir() and not (home / "project" / ".git-old").exists()
        assert not (git / "hooks" / "pre-commit").exists()
        assert not os.path.lexists(git / "hooks" / "post-checkout")
        assert "fsmonitor" not in (git / "config").read_text()


@pytest.mark.skipif(GIT is None, reason="git is not installed (CI installs it)")
@pytest.mark.parametrize("how", MECHANISMS)
def test_code_run_from_home_plants_nothing(how: str, home: Path) -> None:
    with sandboxed(how, home, allow_home=True) as computer:
        said = out(computer, "shell", ATTACKS)
        profile = home / ".config/open-interpreter/profiles/default.yaml"
        code = f"try:\n    open({str(profile)!r}, 'w').write('auto_run: true')\nexcept OSError as e:\n    print('no', e)"
        assert "no" in out(computer, "python", code)
    assert said.rstrip().endswith("done"), said
    _assert_nothing_planted(home)
    assert (home / "notes.txt").read_text() == "changed\n"  # the rest stays writable
    assert (home / "project" / "new.txt").read_text() == "new\n"
    assert (home / "project" / "sub" / "file.txt").read_text() == "deep\n"


@pytest.mark.skipif(GIT is None, reason="git is not installed (CI installs it)")
@pytest.mark.parametrize("how", MECHANISMS)
def test_repositories_keep_hooks_and_config_but_git_works(how: str, tmp_path: Path) -> None:
    repo, nested = tmp_path / "repo", tmp_path / "repo" / "libs" / "inner"
    for folder in (repo, nested):
        folder.mkdir(parents=True)
        _git(folder, "init", "-q")
    shutil.rmtree(repo / ".git" / "hooks")  # a clone made without hooks
    config = (repo / ".git" / "config").read_text()
    attack = (
        "printf '#!/bin/sh\\necho PWNED\\n' > .git/hooks/pre-commit; "
        "printf '#!/bin/sh\\necho PWNED\\n' > libs/inner/.git/hooks/pre-commit; "
        "git config core.fsmonitor 'echo PWNED'; "
        "echo hello > hello.txt && git add hello.txt && "
        "git -c user.name=t -c user.email=t@t commit -qm first && echo COMMITTED"
    )
    with sandboxed(how, repo) as computer:
        said = out(computer, "shell", attack)
    assert "COMMITTED" in said, said
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert not (nested / ".git" / "hooks" / "pre-commit").exists()
    assert (repo / ".git" / "config").read_text() == config
    log = subprocess.run([GIT, "-C", str(repo), "log", "--oneline"], capture_output=True, text=True)
    assert "first" in log.stdout and "PWNED" not in said


def test_home_as_working_folder_is_refused_without_the_flag(home: Path) -> None:
    old = os.getcwd()
    try:
        for folder in (home, home.parent):  # the home folder, or one that holds it
            os.chdir(folder)
            computer = Computer()
            with pytest.raises(SandboxRefused) as refused:
                computer.sandbox = True
            message = str(refused.value)
            assert "\n" not in message and "--sandbox_allow_home" in message
            assert not computer.sandbox
    finally:
        os.chdir(old)


def test_a_working_folder_inside_a_protected_one_is_refused(home: Path) -> None:
    old = os.getcwd()
    try:
        for folder in (home / ".ssh", home / ".config" / "open-interpreter" / "profiles"):
            os.chdir(folder)
            with pytest.raises(SandboxRefused, match="must not write"):
                Computer().sandbox = True
    finally:
        os.chdir(old)


def test_cli_refuses_home_in_one_line_and_the_flag_allows_it(
    home: Path, server: FakeModelServer
) -> None:
    env = {**cli_env(home / ".config"), "HOME": str(home)}
    command = [sys.executable, "-m", "interpreter", *model_args(server.url), "--sandbox", "-y"]
    refused = subprocess.run(
        [*command, "hi"], cwd=home, env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2 and refused.stderr.strip().count("\n") == 0
    assert "--sandbox_allow_home" in refused.stderr
    server.script(Reply.text("Hello from the sandbox."))
    allowed = subprocess.run(
        [*command, "--sandbox_allow_home", "hi"],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert allowed.returncode == 0, allowed.stderr
    assert "Hello from the sandbox." in allowed.stdout
    helped = subprocess.run(
        [sys.executable, "-m", "interpreter", "--help"], capture_output=True, text=True, env=env
    )
    assert "--sandbox_allow_home" in helped.stdout


@pytest.mark.skipif("landlock" not in MECHANISMS, reason="Landlock is not available here")
@pytest.mark.skipif(GIT is None or os.geteuid() != 0, reason="needs git, and root to drop")
def test_landlock_without_mount_namespace_refuses_a_repository(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    script = tmp_path / "inner.py"
    script.write_text(
        "import os, sys\n"
        "from interpreter.execution.computer import Computer\n"
        "from interpreter.execution.sandbox import SandboxUnavailable\n"
        "try:\n    Computer().sandbox = True\n    print('ENABLED')\n"
        "except SandboxUnavailable as e:\n    print('REFUSED', e)\n"
    )
    inner = f"exec setpriv --bounding-set=-all --inh-caps=-all {sys.executable} {script}"
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "bash", "-c",
         f"echo 0 > /proc/sys/user/max_user_namespaces && {inner}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "INTERPRETER_SANDBOX": "landlock"},
        timeout=120,
        check=False,
    )  # fmt: skip
    assert done.stdout.startswith("REFUSED") and done.stdout.count("\n") == 1, done
    assert "read-only" in done.stdout and ".git" in done.stdout
