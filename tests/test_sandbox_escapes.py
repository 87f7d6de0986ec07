"""Ways out of the OS sandbox that must stay shut, in every mechanism that works here:
the host's terminal, capabilities, the host's unix sockets, UDP, other languages."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from interpreter.execution.computer import Computer
from sandbox_helpers import AVAILABLE, MECHANISMS, out, sandboxed

if not AVAILABLE:
    pytest.skip("no sandbox: neither bubblewrap nor Landlock works here", allow_module_level=True)


@pytest.fixture(scope="module", params=MECHANISMS)
def box(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Computer]:
    with sandboxed(request.param, tmp_path_factory.mktemp("work")) as computer:
        yield computer


# Every way into a terminal: the controlling tty, the console, every pty slave, every
# terminal another process holds open; typing into it with TIOCSTI. (A ptmx opened here
# is a new pty of the sandbox's own, not a way in.)
INJECT = r"""
import fcntl, os, termios
payload = b"echo INJECTED$((6*7))\n"
paths = ["/dev/tty", "/dev/console"] + ["/dev/pts/" + n for n in os.listdir("/dev/pts")]
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith(("/dev/pts", "/dev/tty", "/dev/console")):
                paths.append(f"/proc/{pid}/fd/{fd}")
    except OSError:
        pass
opened, reached = [], []
for path in paths:
    if os.path.basename(os.path.realpath(path)) == "ptmx":
        continue
    for flags in (os.O_RDONLY, os.O_RDWR):
        try:
            fd = os.open(path, flags | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            continue
        opened.append(path)
        try:
            for byte in payload:
                fcntl.ioctl(fd, termios.TIOCSTI, bytes([byte]))
            reached.append(path)
        except OSError:
            pass
        os.close(fd)
print("tried", len(paths), "opened", opened, "reached", reached)
"""

INNER = """
import os, shlex, sys
from interpreter.execution.computer import Computer
os.chdir(sys.argv[1])
computer = Computer(timeout=60)
computer.sandbox = True
for language in ("python", "shell"):
    code = sys.argv[2] if language == "python" else "python3 -c " + shlex.quote(sys.argv[2])
    chunks = computer.run(language, code)
    print(language, "said:", "".join(str(c["content"]) for c in chunks if c.get("format") == "output"))
computer.terminate()
print("RUN-" + "DONE")
"""


@pytest.mark.parametrize("how", MECHANISMS)
def test_code_cannot_type_into_the_host_terminal(how: str, tmp_path: Path) -> None:
    script = tmp_path / "inner.py"
    script.write_text(INNER)
    env = {**os.environ, "INTERPRETER_SANDBOX": how, "PS1": "$ ", "TERM": "dumb"}
    shell = pexpect.spawn(
        "bash", ["--norc", "--noprofile"], env=env, cwd=str(tmp_path), timeout=120
    )
    try:
        shell.expect_exact("$ ")
        command = f"{sys.executable} {script} {tmp_path} {shlex.quote(INJECT)}"
        shell.sendline(command)
        shell.expect_exact("RUN-DONE")
        said = shell.before.decode(errors="replace")
        assert "python said: tried" in said and "shell said: tried" in said, said
        shell.sendline("echo AFTER-$((1+1))")
        shell.expect_exact("AFTER-2")
        shell.sendline("exit")
        shell.expect(pexpect.EOF)
        everything = said + shell.before.decode(errors="replace")
    finally:
        shell.close(force=True)
    assert "INJECTED42" not in everything, everything
    assert said.count("opened [] reached []") == 2, said


def test_no_capability_is_left(box: Computer) -> None:
    for language, code in (
        ("shell", "grep ^Cap /proc/self/status"),
        ("python", "print(open('/proc/self/status').read())"),
    ):
        caps = [line for line in out(box, language, code).splitlines() if line.startswith("Cap")]
        assert len(caps) == 5 and all(line.endswith("0000000000000000") for line in caps), caps


@pytest.fixture
def host_sockets() -> Iterator[dict[str, socket.socket]]:
    """Unix sockets of the host: a stream and a datagram socket at paths the sandbox can
    see, and an abstract one."""
    base = Path("/var/tmp") / f"interp-sock-{uuid.uuid4().hex[:8]}"
    made = {
        "stream": socket.socket(socket.AF_UNIX, socket.SOCK_STREAM),
        "dgram": socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM),
        "abstract": socket.socket(socket.AF_UNIX, socket.SOCK_STREAM),
    }
    made["stream"].bind(f"{base}.stream")
    made["dgram"].bind(f"{base}.dgram")
    made["abstract"].bind(f"\0{base.name}")
    for sock in made.values():
        sock.setblocking(False)
        if sock.type == socket.SOCK_STREAM:
            sock.listen(5)
    yield made
    for name, sock in made.items():
        sock.close()
        if name != "abstract":
            Path(f"{base}.{name}").unlink(missing_ok=True)


REACH_UNIX = r"""
import socket
results = []
def attempt(name, make, address, dgram=False):
    try:
        sock = make()
        if dgram:
            sock.sendto(b"hello", address)
        else:
            sock.connect(address)
            sock.send(b"hello")
        results.append(name + " REACHED")
    except OSError as e:
        results.append(name + " blocked " + type(e).__name__)
attempt("stream", lambda: socket.socket(socket.AF_UNIX), {stream!r})
attempt("abstract", lambda: socket.socket(socket.AF_UNIX), {abstract!r})
attempt("dgram", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM), {dgram!r}, True)
attempt("pair", lambda: socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)[0], {dgram!r}, True)
a, b = socket.socketpair()
a.send(b"x")
results.append("socketpair works" if b.recv(1) == b"x" else "socketpair broken")
print(results)
"""


def test_host_unix_sockets_cannot_be_reached(
    box: Computer, host_sockets: dict[str, socket.socket]
) -> None:
    names = {n: s.getsockname() for n, s in host_sockets.items()}
    code = REACH_UNIX.format(
        stream=names["stream"], dgram=names["dgram"], abstract="\0" + names["abstract"][1:].decode()
    )
    for language in ("python", "shell"):
        program = code if language == "python" else f"python3 -c {shlex.quote(code)}"
        text = out(box, language, program)
        assert "REACHED" not in text and "socketpair works" in text, text
    for name in ("stream", "abstract"):
        with pytest.raises(BlockingIOError):
            host_sockets[name].accept()
    with pytest.raises(BlockingIOError):
        host_sockets["dgram"].recv(100)


def test_udp_does_not_reach_the_host(box: Computer) -> None:
    host = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    host.bind(("127.0.0.1", 0))
    host.setblocking(False)
    port = host.getsockname()[1]
    try:
        code = (
            "import socket\n"
            "try:\n"
            "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            f"    s.sendto(b'hello', ('127.0.0.1', {port})); print('sent')\n"
            "except OSError as e:\n    print('blocked', e)\n"
        )
        out(box, "python", code)
        with pytest.raises(BlockingIOError):
            host.recv(100)
    finally:
        host.close()


# The Landlock fallback where no namespace can be made (not root, no user namespaces):
# only Landlock (TCP) and the seccomp filter (UDP, unix sockets) keep the network off.
NO_NETWORK_CODE = r"""
import socket
kinds = [(socket.AF_INET, socket.SOCK_DGRAM), (socket.AF_INET6, socket.SOCK_DGRAM),
         (socket.AF_INET, socket.SOCK_STREAM), (socket.AF_UNIX, socket.SOCK_STREAM)]
for family, kind in kinds:
    try:
        socket.socket(family, kind)
        print("MADE", family, kind)
    except OSError as e:
        print("refused", e.errno)
try:
    socket.getaddrinfo("example.com", 80)
    print("DNS-OK")
except OSError:
    print("no dns")
"""
NO_NAMESPACES = """
import os, shlex, sys
from interpreter.execution.computer import Computer
os.chdir(sys.argv[1])
computer = Computer(timeout=60)
computer.sandbox = True
code = open(sys.argv[2]).read()
for language in ("python", "shell"):
    program = code if language == "python" else "python3 -c " + shlex.quote(code)
    chunks = computer.run(language, program)
    print(language, "".join(str(c["content"]) for c in chunks if c.get("format") == "output"))
computer.terminate()
"""


@pytest.mark.skipif("landlock" not in MECHANISMS, reason="Landlock is not available here")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to take namespaces away")
def test_landlock_without_namespaces_still_has_no_network(tmp_path: Path) -> None:
    script, code = tmp_path / "inner.py", tmp_path / "code.py"
    script.write_text(NO_NAMESPACES)
    code.write_text(NO_NETWORK_CODE)
    # A user namespace that allows no further one, and no capability: unshare() fails.
    inner = f"exec setpriv --bounding-set=-all --inh-caps=-all {sys.executable} {script} {tmp_path} {code}"
    outer = f"echo 0 > /proc/sys/user/max_user_namespaces && {inner}"
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "bash", "-c", outer],
        capture_output=True,
        text=True,
        env={**os.environ, "INTERPRETER_SANDBOX": "landlock"},
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for language in ("python", "shell"):
        line = next(line for line in done.stdout.splitlines() if line.startswith(language))
        said = done.stdout[done.stdout.index(line) :]
        assert said.count("refused 13") >= 4 and "no dns" in said, done.stdout
    assert "MADE" not in done.stdout and "DNS-OK" not in done.stdout


@pytest.mark.parametrize(
    ("language", "executable", "code"),
    [
        ("javascript", "node", "require('fs').writeFileSync({path!r}, 'x')"),
        ("ruby", "ruby", "File.write({path!r}, 'x')"),
    ],
)
def test_other_languages_run_inside_too(
    box: Computer, language: str, executable: str, code: str
) -> None:
    if shutil.which(executable) is None:
        pytest.skip(f"{executable} is not installed (CI installs it)")
    outside = Path("/var/tmp") / f"interp-{language}-{uuid.uuid4().hex[:8]}"
    try:
        out(box, language, code.format(path=str(outside)).replace("'", '"'))
        assert not outside.exists()
        assert (
            out(box, language, "console.log(6 * 7)" if language == "javascript" else "puts 6 * 7")
            == "42\n"
        )
    finally:
        outside.unlink(missing_ok=True)


def test_an_architecture_without_a_filter_is_refused_not_left_open() -> None:
    from interpreter.execution.sandbox_seccomp import UnsupportedArchitecture, no_network_program

    with pytest.raises(UnsupportedArchitecture, match="riscv64"):
        no_network_program(inet=True, machine="riscv64")
    for machine in ("x86_64", "aarch64"):  # whole struct sock_filter instructions
        assert len(no_network_program(inet=False, machine=machine)) % 8 == 0
