"""No surface runs unapproved code; approval is bound to the code; children cannot type
into the terminal (TIOCSTI) or read the model's text from stdin."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pexpect
import pytest

from helpers import make_interpreter
from interpreter.core.safety import HASH_MISMATCH
from interpreter.server import ServerSettings, create_app
from interpreter.server.client import LmcClient
from interpreter.server.runner import ServerThread, listen
from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import QUESTION, Cli, cli_env, model_args

TOKEN = "surface-token"


def _script(model: FakeModelServer) -> None:
    model.script(Reply.tool_call("shell", "touch marker"), Reply.text("done"))


def test_python_api_without_callback(model: FakeModelServer, here: Path) -> None:
    _script(model)
    make_interpreter(model).chat("go", display=False)
    assert not (here / "marker").exists()


def test_python_api_stream_plain_iteration(model: FakeModelServer, here: Path) -> None:
    _script(model)
    chunks = list(make_interpreter(model).chat("go", stream=True, display=False))
    assert any(c.get("type") == "confirmation" for c in chunks)
    assert not (here / "marker").exists()


def test_approval_with_another_hash_is_refused(model: FakeModelServer, here: Path) -> None:
    _script(model)
    interp = make_interpreter(model)
    interp.approval_callback = lambda language, code: {"hash": "0" * 64}
    interp.chat("go", display=False)
    assert not (here / "marker").exists()
    assert any(m.get("content") == HASH_MISMATCH for m in interp.messages)


def test_server_websocket_without_go(model: FakeModelServer, here: Path, config_dir: Path) -> None:
    _script(model)
    sock = listen()
    settings = ServerSettings(
        make_interpreter=lambda: make_interpreter(model), token=TOKEN, port=sock.getsockname()[1]
    )
    server = ServerThread(create_app(settings), sock).start()
    try:
        with LmcClient(f"ws://127.0.0.1:{server.port}/", TOKEN, timeout=15) as client:
            assert client.pending_code(client.chat("go"))
    finally:
        server.stop()
    assert not (here / "marker").exists()


def test_terminal_answering_no(model: FakeModelServer, here: Path, config_dir: Path) -> None:
    _script(model)
    cli = Cli(model_args(model.url), cli_env(config_dir), here)
    try:
        cli.prompt()
        cli.send_line("go")
        cli.expect_text(QUESTION)
        cli.send_line("n")
        cli.prompt()
    finally:
        cli.kill()
    assert not (here / "marker").exists()


PROBE = textwrap.dedent(
    """
    import os, sys
    sys.path[:0] = {paths!r}
    from interpreter.execution.computer import Computer
    computer = Computer(timeout=20)
    computer.sandbox = {sandbox!r}
    snippet = (
        "import fcntl, termios\\n"
        "try:\\n"
        "    fd = open('/dev/tty', 'wb', buffering=0)\\n"
        "    fcntl.ioctl(fd, termios.TIOCSTI, b'x')\\n"
        "    print('INJECTED')\\n"
        "except OSError as e:\\n"
        "    print('refused', e.errno)\\n"
    )
    def text(language, code):
        return ''.join(str(c.get('content', '')) for c in computer.run(language, code)
                       if c.get('format') == 'output')
    print('PY:' + text('python', snippet).strip())
    print('SH:' + text('shell', "python3 -c " + repr(snippet).replace("\\\\n", "\\n")).strip())
    print('IN:' + text('python', "try:\\n    input('?')\\nexcept Exception as e:\\n"
                       "    print(type(e).__name__)").strip())
    computer.terminate()
    print('END')
    """
)


@pytest.mark.parametrize("sandbox", [False, True])
def test_children_cannot_type_into_the_terminal(tmp_path: Path, sandbox: bool) -> None:
    if sandbox:
        from interpreter.execution.sandbox import mechanism

        if mechanism() is None:
            pytest.skip("no sandbox mechanism here")
    code = PROBE.format(paths=sys.path, sandbox=sandbox)
    child = pexpect.spawn(sys.executable, ["-c", code], cwd=str(tmp_path), timeout=60)
    child.expect_exact("END")
    text = child.before.decode()
    child.close()
    assert "INJECTED" not in text
    assert "PY:refused" in text and "SH:refused" in text
    assert "IN:StdinNotImplementedError" in text
