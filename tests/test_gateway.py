"""Python through a real Jupyter Kernel Gateway on 127.0.0.1: REST + websocket channels."""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers import (
    IGNORES_INTERRUPTS,
    best_round_trip,
    check_interrupt_from_the_streaming_thread,
    make_interpreter,
    text,
    tool_messages,
)
from interpreter.execution.computer import Computer
from interpreter.execution.gateway import GatewayError, RemotePython, remote_language
from interpreter.execution.languages import Python
from interpreter.terminal.args import parse_args
from interpreter.terminal.settings import build_interpreter
from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import cli_env, model_args, run_piped

pytest.importorskip("kernel_gateway")

pytestmark = pytest.mark.deadline(60)

TOKEN = "test-gateway-token"
HEADERS = {"Authorization": f"token {TOKEN}"}
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32).decode()


class Gateway:
    """A jupyter_kernel_gateway process on a free loopback port."""

    def __init__(self, home: Path) -> None:
        self.cwd = home / "gateway-cwd"
        self.cwd.mkdir(parents=True)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(home / "runtime")}
        env["JUPYTER_DATA_DIR"] = str(home / "data")
        self.log = open(home / "gateway.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kernel_gateway",
                "--KernelGatewayApp.ip=127.0.0.1",
                f"--KernelGatewayApp.port={self.port}",
                "--KernelGatewayApp.port_retries=0",
                f"--KernelGatewayApp.auth_token={TOKEN}",
                "--JupyterWebsocketPersonality.list_kernels=True",
            ],
            cwd=self.cwd,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the kernel gateway exited at start")
            try:
                if httpx.get(self.url + "/api/kernelspecs", headers=HEADERS, timeout=1).is_success:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the kernel gateway did not answer")

    def kernels(self) -> list[dict[str, object]]:
        response = httpx.get(self.url + "/api/kernels", headers=HEADERS, timeout=5)
        answer: list[dict[str, object]] = response.raise_for_status().json()
        return answer

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gw = Gateway(tmp_path_factory.mktemp("gateway"))
    try:
        gw.wait_ready()
        yield gw
    finally:
        gw.stop()


def remote_computer(gateway: Gateway) -> Computer:
    c = Computer()
    c.kernel_gateway = gateway.url
    c.kernel_gateway_token = TOKEN
    return c


@pytest.fixture(scope="module")
def computer(gateway: Gateway) -> Iterator[Computer]:
    c = remote_computer(gateway)
    yield c
    c.terminate()


def run(computer: Computer, code: str) -> str:
    return text(computer.run("python", code))


def test_code_runs_in_the_gateway_and_state_persists(computer: Computer, gateway: Gateway) -> None:
    assert run(computer, "x = 41\nprint('set')") == "set\n"
    assert run(computer, "x + 1") == "42\n"
    assert run(computer, "import os; print(os.getcwd())") == f"{gateway.cwd}\n"
    assert isinstance(computer._instances[Python], RemotePython)


def test_output_streams_as_it_arrives(computer: Computer) -> None:
    code = "import time\nprint('a', flush=True)\ntime.sleep(0.5)\nprint('b')"
    seen: dict[str, float] = {}
    start = time.monotonic()
    for chunk in computer.stream("python", code):
        if chunk["format"] == "output":
            seen.setdefault(chunk["content"].strip(), time.monotonic() - start)
    assert set(seen) == {"a", "b"}
    assert seen["b"] - seen["a"] > 0.4, seen


def test_active_lines_come_through_and_markers_stay_hidden(computer: Computer) -> None:
    chunks = list(computer.stream("python", "for i in range(2):\n    print(i)\nprint('end')"))
    lines = [c["content"] for c in chunks if c["format"] == "active_line"]
    assert lines[0] == 1 and lines[-1] is None and 3 in lines
    assert text(chunks) == "0\n1\nend\n"


def test_images_and_html_are_chunks(computer: Computer) -> None:
    code = (
        "from IPython.display import display, HTML\n"
        f"display({{'image/png': '{PNG}', 'text/plain': 'img'}}, raw=True)\n"
        "display(HTML('<b>bold</b>'))"
    )
    chunks = [c for c in computer.run("python", code) if c["type"] != "console"]
    assert chunks == [
        {"role": "computer", "type": "image", "format": "base64.png", "content": PNG},
        {"role": "computer", "type": "code", "format": "html", "content": "<b>bold</b>"},
    ]


def test_errors_are_plain_tracebacks(computer: Computer) -> None:
    out = run(computer, "a = 1\n\n1/0")
    assert "ZeroDivisionError" in out and "line 3" in out
    assert "\x1b[" not in out and "<interpreter>" not in out


def test_interrupt_stops_a_busy_loop_and_keeps_state(computer: Computer) -> None:
    run(computer, "kept = 'yes'")
    threading.Timer(0.5, computer.interrupt).start()
    started = time.monotonic()
    out = run(computer, "while True: pass")
    assert time.monotonic() - started < 5
    assert "KeyboardInterrupt" in out
    assert run(computer, "print(kept)") == "yes\n"


def test_output_is_capped_as_it_streams(computer: Computer) -> None:
    out = run(computer, "print('x' * 3_000_000)")
    assert out.startswith("x" * 1000) and len(out) < 1_000_100
    assert f"\n... {3_000_001 - 1_000_000} bytes omitted ...\n" in out
    computer.max_output_bytes = 5
    try:
        assert run(computer, "print('abcdefgh')") == "abc\n... 4 bytes omitted ...\nh\n"
    finally:
        computer.max_output_bytes = 1_000_000


def test_restart_loses_state_and_keeps_working(gateway: Gateway) -> None:
    runtime = RemotePython(gateway.url, token=TOKEN)
    try:
        assert text(list(runtime.run("gone = 1"))) == ""
        kernel_id = runtime.kernel_id
        runtime.restart()
        assert "NameError" in text(list(runtime.run("gone")))
        chunks = list(runtime.run("print('again')"))
        assert text(chunks) == "again\n"
        assert any(c["format"] == "active_line" and c["content"] == 1 for c in chunks)
        assert runtime.kernel_id == kernel_id
    finally:
        runtime.terminate()


def test_kernel_death_restarts_with_a_notice(gateway: Gateway) -> None:
    computer = remote_computer(gateway)
    try:
        run(computer, "lost = 1")
        out = run(computer, "import os; os._exit(1)")
        assert "The remote Python kernel died and was restarted; its state was lost." in out
        assert "NameError" in run(computer, "lost")
        assert run(computer, "print('alive')") == "alive\n"
    finally:
        computer.terminate()


def test_terminate_deletes_the_remote_kernel(gateway: Gateway) -> None:
    computer = remote_computer(gateway)
    run(computer, "print(1)")
    runtime = computer._instances[Python]
    assert isinstance(runtime, RemotePython)
    assert runtime.kernel_id in [k["id"] for k in gateway.kernels()]
    kernel_id = runtime.kernel_id
    computer.terminate()
    assert runtime.kernel_id is None
    assert kernel_id not in [k["id"] for k in gateway.kernels()]


def test_wrong_token_is_a_clear_error(gateway: Gateway) -> None:
    computer = Computer()
    computer.kernel_gateway = gateway.url
    computer.kernel_gateway_token = "wrong"
    out = run(computer, "print(1)")
    assert re.fullmatch(
        r"Error: the kernel gateway at \S+ refused the token \(HTTP 40[13]\)[^\n]*\n", out
    )
    computer.terminate()


def test_unreachable_gateway_and_missing_kernel_spec(gateway: Gateway) -> None:
    nowhere = RemotePython(f"http://127.0.0.1:{_free_port()}", token=TOKEN)
    out = text(list(nowhere.run("1")))
    assert (
        out.startswith("Error: cannot reach the kernel gateway at http://127")
        and out.count("\n") == 1
    )
    with pytest.raises(GatewayError, match="cannot reach"):
        nowhere._gateway_client().kernel_specs()
    missing = RemotePython(gateway.url, token=TOKEN, kernel_name="no-such-kernel")
    out = text(list(missing.run("1")))
    assert "Error: the kernel gateway at" in out
    assert "has no kernel spec 'no-such-kernel' (it offers: python3)" in out
    assert gateway.kernels() == [] or all(k["name"] == "python3" for k in gateway.kernels())


def test_token_from_the_environment_and_any_kernel_spec(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_GATEWAY_AUTH_TOKEN", TOKEN)
    computer = Computer()
    computer.kernel_gateway = gateway.url
    computer.languages.append(remote_language("python3", "remote3", aliases=("r3",)))
    try:
        chunks = computer.run("r3", "import sys\nprint('plain kernel')\nsys.version_info[0]")
        assert text(chunks) == "plain kernel\n3\n"  # no active-line instrumentation here
        assert computer.get_language("remote3") is not None
    finally:
        computer.terminate()


def test_chat_runs_the_models_code_in_the_gateway(gateway: Gateway) -> None:
    with FakeModelServer() as server:
        server.script(
            Reply.tool_call("python", "import os\nprint('cwd', os.getcwd())"),
            Reply.text("It ran remotely."),
        )
        interp = make_interpreter(server, auto_run=True)
        interp.computer.kernel_gateway = gateway.url
        interp.computer.kernel_gateway_token = TOKEN
        try:
            interp.chat("where are you?", display=False)
        finally:
            interp.computer.terminate()
        answers = tool_messages(server.requests[1])
    assert len(answers) == 1 and f"cwd {gateway.cwd}" in str(answers[0]["content"])


def test_cli_flag_sets_the_gateway(gateway: Gateway, tmp_path: Path) -> None:
    args = parse_args(["--kernel_gateway", gateway.url])
    assert build_interpreter(args).computer.kernel_gateway == gateway.url
    with FakeModelServer() as server:
        server.script(Reply.tool_call("python", "import os; print(os.getcwd())"), Reply.text("ok"))
        env = cli_env(tmp_path / "cfg", JUPYTER_GATEWAY_AUTH_TOKEN=TOKEN)
        argv = ["-y", "--kernel_gateway", gateway.url, *model_args(server.url), "where?"]
        done = run_piped(argv, env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert str(gateway.cwd) in done.stdout


def test_warm_round_trip_has_no_delayed_ack_stall(computer: Computer) -> None:
    run(computer, "x = 1")
    best = best_round_trip(computer, "python", "x = 1", runs=7)
    print(f"warm gateway round trip: {best * 1000:.1f} ms")
    assert best < 0.035  # Nagle + a 40 ms delayed ACK would make every run >= 40 ms


def test_code_ignoring_interrupts_gets_its_kernel_restarted(gateway: Gateway) -> None:
    computer = remote_computer(gateway)
    try:
        run(computer, "doomed = 1")
        out = ""
        for chunk in computer.stream("python", IGNORES_INTERRUPTS):
            if chunk.get("format") == "active_line" and chunk["content"] == 4 and not out:
                # From another thread, as a user's Ctrl-C would, once the loop runs.
                threading.Timer(0.1, computer.interrupt).start()
                out = " "
            elif chunk.get("format") == "output":
                out += chunk["content"]
        out = out[1:]
        assert out.startswith("ignored\n")
        assert "did not stop when interrupted, so it was restarted" in out
        assert "NameError" in run(computer, "doomed")
    finally:
        computer.terminate()


def test_a_kernel_deleted_behind_our_back_is_replaced(gateway: Gateway) -> None:
    computer = remote_computer(gateway)
    try:
        run(computer, "old = 1")
        runtime = computer._instances[Python]
        assert isinstance(runtime, RemotePython) and runtime.kernel_id is not None
        url = f"{gateway.url}/api/kernels/{runtime.kernel_id}"
        httpx.delete(url, headers=HEADERS, timeout=10).raise_for_status()
        out = run(computer, "print('after')") + run(computer, "print('after')")
        assert "its state was lost" in out and "after\n" in out
        assert "NameError" in run(computer, "old")
    finally:
        computer.terminate()


def test_cli_with_an_unreachable_gateway_says_so_in_one_line(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{_free_port()}"
    with FakeModelServer() as server:
        server.script(Reply.tool_call("python", "print(1)"), Reply.text("It is down."))
        argv = ["-y", "--kernel_gateway", nowhere, *model_args(server.url), "go"]
        done = run_piped(argv, cli_env(tmp_path / "cfg"), tmp_path)
        told = str(tool_messages(server.requests[1])[0]["content"])
    assert done.returncode == 0, done.stderr
    assert f"Error: cannot reach the kernel gateway at {nowhere}" in done.stdout
    assert "Traceback" not in done.stderr and "It is down." in done.stdout
    assert told.startswith(f"Error: cannot reach the kernel gateway at {nowhere}")


def test_an_interrupt_from_the_streaming_thread_restarts_stuck_code(gateway: Gateway) -> None:
    computer = remote_computer(gateway)
    try:
        check_interrupt_from_the_streaming_thread(computer)
    finally:
        computer.terminate()
