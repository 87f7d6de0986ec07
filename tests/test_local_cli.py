"""``interpreter --local`` end to end: a model server on Jan's port, the arrow-key picker in a
pty, a chat turn to the picked model, and the choice saved in ``default.yaml`` (a targeted
edit that keeps the file's comments)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from interpreter.llm.local_servers import discover
from interpreter.store.profiles import default_profile_text
from interpreter.terminal.local import remember_model, set_llm_keys
from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import Cli, cli_env, run_piped

PORT = 1337  # Jan's port: free on build machines
BASE = f"http://127.0.0.1:{PORT}/v1"
DOWN = "\x1b[B"


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def jan() -> Iterator[FakeModelServer]:
    if not _port_free(PORT):
        pytest.skip(f"port {PORT} is in use on this machine")
    if discover(timeout=0.3):
        pytest.skip("another local model server runs here; the picker's list would differ")
    server = FakeModelServer(
        port=PORT,
        models=("first-model", "second-model"),
        responder=lambda request: Reply.text(f"Hello from {request['model']}."),
    ).start()
    yield server
    server.stop()


def test_local_picks_a_model_with_the_arrow_keys_chats_and_saves_it(
    jan: FakeModelServer, tmp_path: Path
) -> None:
    env = cli_env(tmp_path / "cfg")
    cli = Cli(["--local"], env, tmp_path)
    try:
        cli.expect_text("Which local model?")
        cli.expect_text("second-model")
        cli.child.send(DOWN)
        cli.child.send("\r")
        cli.expect_text("Using second-model")
        cli.prompt()
        cli.send_line("hi")
        cli.expect_text("Hello from second-model.")
        cli.prompt()
    finally:
        cli.quit()
    assert jan.requests[-1]["model"] == "second-model"
    profile = tmp_path / "cfg" / "open-interpreter" / "profiles" / "default.yaml"
    text = profile.read_text()
    llm = yaml.safe_load(text)["llm"]
    assert (llm["model"], llm["api_base"]) == ("second-model", BASE)
    assert "# The computer that runs the code" in text and "# max_budget: 0.50" in text

    # next time, without a terminal, the saved model comes first and is used
    done = run_piped(["--local", "again"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Hello from second-model." in done.stdout
    assert jan.requests[-1]["model"] == "second-model"


def test_local_with_a_model_uses_the_server_and_saves_nothing(
    jan: FakeModelServer, tmp_path: Path
) -> None:
    env = cli_env(tmp_path / "cfg")
    done = run_piped(["--local", "--model", "first-model", "hi"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Hello from first-model." in done.stdout and "Jan" in done.stderr
    profile = tmp_path / "cfg" / "open-interpreter" / "profiles" / "default.yaml"
    assert "first-model" not in profile.read_text()


def test_the_profile_edit_touches_only_the_model_and_api_base_lines() -> None:
    old = default_profile_text()
    new = set_llm_keys(old, {"model": "llama3.1:8b", "api_base": "http://127.0.0.1:11434/v1"})
    assert len(old.splitlines()) == len(new.splitlines())
    changed = [(a, b) for a, b in zip(old.splitlines(), new.splitlines(), strict=True) if a != b]
    assert len(changed) == 2
    assert changed[0][1].startswith('  model: "llama3.1:8b"  # Any model name')
    assert changed[1][1].startswith('  api_base: "http://127.0.0.1:11434/v1"  # The URL')
    data = yaml.safe_load(new)
    assert data["llm"]["model"] == "llama3.1:8b" and data["version"] == "0.2.5"


def test_the_profile_edit_adds_what_is_missing() -> None:
    text = "# mine\nauto_run: true\nllm:\n    temperature: 0.5  # warm\nversion: 0.2.5\n"
    new = set_llm_keys(text, {"model": "m", "api_base": "http://localhost:1234/v1"})
    data = yaml.safe_load(new)
    assert data["llm"] == {"model": "m", "api_base": "http://localhost:1234/v1", "temperature": 0.5}
    assert new.startswith("# mine\nauto_run: true\n") and "# warm" in new
    bare = yaml.safe_load(set_llm_keys("auto_run: true", {"model": "m"}))
    assert bare == {"auto_run": True, "llm": {"model": "m"}}


def test_a_flow_style_block_is_edited_in_place(tmp_path: Path) -> None:
    path = tmp_path / "default.yaml"
    path.write_text("llm: {model: gpt-4o, temperature: 0.2}  # flow style\nversion: 0.2.5\n")
    said = remember_model(path, "m", "http://127.0.0.1:8080/v1")
    assert "(updated)" in said and "# flow style\n" in path.read_text()
    data = yaml.safe_load(path.read_text())
    assert data["llm"] == {"model": "m", "temperature": 0.2, "api_base": "http://127.0.0.1:8080/v1"}
    assert data["version"] == "0.2.5"


def test_a_profile_that_cannot_be_edited_in_place_is_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "default.yaml"  # llm given twice: PyYAML keeps the last, ruamel refuses
    path.write_text("# mine\nllm:\n  model: gpt-4o\nllm:\n  temperature: 0.2\nversion: 0.2.5\n")
    said = remember_model(path, "m", "http://127.0.0.1:8080/v1")
    assert "comments were lost" in said
    data = yaml.safe_load(path.read_text())
    assert data["llm"] == {"model": "m", "temperature": 0.2, "api_base": "http://127.0.0.1:8080/v1"}
    assert data["version"] == "0.2.5"
    assert "not a YAML profile" in remember_model(tmp_path / "p.json", "m", None)


def test_offline_refuses_a_hosted_model_in_one_line(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "cfg")
    done = run_piped(["--offline", "--model", "gpt-4o", "--api_key", "sk-x", "hi"], env, tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("offline:") and "api.openai.com" in lines[0]


class _Trap:
    """A listening socket standing in for every proxy: counts who connects."""

    def __init__(self) -> None:
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.hits = 0
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        self.sock.close()


def test_offline_sends_nothing_but_the_local_models_requests(tmp_path: Path) -> None:
    trap = _Trap()
    proxy = f"http://127.0.0.1:{trap.sock.getsockname()[1]}"
    env = cli_env(tmp_path / "cfg", HTTP_PROXY=proxy, HTTPS_PROXY=proxy, ALL_PROXY=proxy,
                  http_proxy=proxy, https_proxy=proxy, all_proxy=proxy)  # fmt: skip
    for name in ("NO_PROXY", "no_proxy"):
        env.pop(name, None)
    try:
        with FakeModelServer() as server:
            server.script(Reply.text("offline answer"))
            args = ["--offline", "--api_base", server.url, "--model", "fake-model", "hi"]
            done = run_piped(args, env, tmp_path)
            paths = list(server.request_paths) + list(server.get_paths)
    finally:
        trap.close()
    assert done.returncode == 0, done.stderr
    assert "offline answer" in done.stdout
    assert trap.hits == 0  # no version check, no telemetry, nothing through any proxy
    assert set(paths) <= {"/v1/chat/completions", "/v1/models", "/props", "/api/show",
                          "/api/ps", "/api/v0/models", "/api/v1/models"}  # fmt: skip
