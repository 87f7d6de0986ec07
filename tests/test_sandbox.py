"""The OS sandbox through the Computer (python kernel and shell), both Linux mechanisms."""

from __future__ import annotations

import http.server
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from interpreter.execution.computer import Computer
from interpreter.execution.sandbox import UNAVAILABLE, SandboxUnavailable, mechanism
from interpreter.execution.sandbox_landlock import landlock_abi

MECHANISMS = [m for m in ("bwrap",) if shutil.which("bwrap")]
MECHANISMS += ["landlock"] if sys.platform.startswith("linux") and landlock_abi() >= 1 else []
if not MECHANISMS or mechanism() is None:
    pytest.skip("no sandbox: neither bubblewrap nor Landlock works here", allow_module_level=True)


def out(computer: Computer, language: str, code: str) -> str:
    chunks = computer.run(language, code)
    return "".join(str(c.get("content", "")) for c in chunks if c.get("format") == "output")


@pytest.fixture(scope="module", params=MECHANISMS)
def box(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Computer, Path, Path]]:
    work = tmp_path_factory.mktemp("work")
    outside = Path("/var/tmp") / f"interp-sbx-{uuid.uuid4().hex}"
    outside.mkdir()
    old_env, old_cwd = os.environ.get("INTERPRETER_SANDBOX"), os.getcwd()
    os.environ["INTERPRETER_SANDBOX"] = request.param
    os.chdir(work)
    computer = Computer(timeout=30)
    computer.sandbox = True
    try:
        yield computer, work, outside
    finally:
        computer.terminate()
        os.chdir(old_cwd)
        os.environ.pop("INTERPRETER_SANDBOX", None)
        if old_env is not None:
            os.environ["INTERPRETER_SANDBOX"] = old_env
        shutil.rmtree(outside, ignore_errors=True)


def test_writes_outside_the_workspace_fail_inside_work(box: tuple[Computer, Path, Path]) -> None:
    computer, work, outside = box
    out(computer, "shell", f"echo x > {outside}/sh.txt; echo y > sh-in.txt")
    code = f"open({str(outside / 'py.txt')!r}, 'w')"
    text = out(computer, "python", f"try:\n    {code}\nexcept OSError as e:\n    print('no', e)")
    out(computer, "python", "open('py-in.txt', 'w').write('z')")
    assert "no" in text
    assert not (outside / "sh.txt").exists() and not (outside / "py.txt").exists()
    assert (work / "sh-in.txt").read_text() == "y\n"
    assert (work / "py-in.txt").read_text() == "z"


@pytest.fixture
def web() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_no_network(box: tuple[Computer, Path, Path], web: int) -> None:
    computer, _, _ = box
    url = f"http://127.0.0.1:{web}/"
    code = (
        "import urllib.request, socket\n"
        f"try:\n    urllib.request.urlopen({url!r}, timeout=3); print('HTTP-OK')\n"
        "except Exception as e:\n    print('http failed', type(e).__name__)\n"
        "try:\n    socket.getaddrinfo('example.com', 80); print('DNS-OK')\n"
        "except OSError as e:\n    print('dns failed')\n"
    )
    text = out(computer, "python", code)
    assert "http failed" in text and "dns failed" in text, text
    shell = out(computer, "shell", f"echo hi > /dev/tcp/127.0.0.1/{web} && echo TCP-OK")
    assert "TCP-OK" not in shell
    if shutil.which("curl"):
        assert "CURL-OK" not in out(computer, "shell", f"curl -s -m 3 {url} && echo CURL-OK")


def test_no_new_privileges(box: tuple[Computer, Path, Path]) -> None:
    computer, _, _ = box
    assert "NoNewPrivs:\t1" in out(computer, "shell", "grep NoNewPrivs /proc/self/status")
    assert "NoNewPrivs:\t1" in out(computer, "python", "print(open('/proc/self/status').read())")


def test_process_flood_is_limited(box: tuple[Computer, Path, Path]) -> None:
    computer, _, _ = box
    code = (
        "import subprocess\nprocs = []\n"
        "try:\n    for _ in range(1500):\n"
        "        procs.append(subprocess.Popen(['sleep', '30']))\n"
        "except OSError as e:\n    print('limited', type(e).__name__)\n"
        "print('started', len(procs))\n"
        "for p in procs:\n    p.kill(); p.wait()\n"
    )
    text = out(computer, "python", code)
    assert "limited" in text, text
    assert out(computer, "python", "print(6 * 7)") == "42\n"


def test_memory_hog_is_contained(box: tuple[Computer, Path, Path]) -> None:
    computer, _, _ = box
    text = out(computer, "python", "hog = bytearray(4 * 1024**3)\nprint('ALLO' + 'CATED')")
    assert "MemoryError" in text and "ALLOCATED" not in text
    assert out(computer, "python", "print('alive')") == "alive\n"


def _interrupt_after(computer: Computer, seconds: float) -> None:
    threading.Timer(seconds, computer.interrupt).start()


def test_interrupt_and_restart_inside(box: tuple[Computer, Path, Path]) -> None:
    computer, _, _ = box
    out(computer, "python", "kept = 'state'")
    _interrupt_after(computer, 1.5)
    began = time.monotonic()
    text = out(computer, "python", "import time\ntime.sleep(30)")
    assert time.monotonic() - began < 10 and "KeyboardInterrupt" in text
    assert out(computer, "python", "print(kept)") == "state\n"
    out(computer, "shell", "export KEEP=shell-state")
    _interrupt_after(computer, 1.5)
    began = time.monotonic()
    out(computer, "shell", "sleep 30")
    assert time.monotonic() - began < 10
    assert out(computer, "shell", "echo $KEEP") == "shell-state\n"
    computer.terminate()  # restart: the next run starts a fresh, still sandboxed, process
    assert "NoNewPrivs:\t1" in out(computer, "shell", "grep NoNewPrivs /proc/self/status")


def test_no_sandbox_is_refused_not_pretended(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("INTERPRETER_SANDBOX", "none")
    computer = Computer()
    with pytest.raises(SandboxUnavailable, match="Sandbox unavailable"):
        computer.sandbox = True
    assert not computer.sandbox
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "INTERPRETER_SANDBOX": "none"}
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "interpreter", "--sandbox", "-y", "hello"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and UNAVAILABLE in done.stderr
