"""The web UI's files, headers and launcher: served under ``/ui/`` without a token but with
the server's Host and Origin rules, a strict CSP, no inline script; ``interpreter --ui``."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from interpreter.server.client import LmcClient
from interpreter.server.runner import ServerThread
from interpreter.server.ui_launch import can_open_browser, ui_url
from interpreter.server.ui_route import UI_DIR, ui_files
from interpreter.testing.fake_server import FakeModelServer
from pty_helpers import cli_env
from server_helpers import running_servers
from webui_helpers import TOKEN, ui_servers

pytestmark = pytest.mark.deadline(90)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ui(model: FakeModelServer, config_dir: Path) -> Iterator[ServerThread]:
    with ui_servers(model) as start:
        yield start()


def get(server: ServerThread, path: str, **headers: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{server.port}{path}", headers=headers, timeout=10)


def test_page_is_served_without_a_token_with_a_strict_csp(ui: ServerThread) -> None:
    page = get(ui, "/ui/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = dict(d.strip().split(" ", 1) for d in page.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'" and csp["img-src"] == "'self' data: blob:"
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert "unsafe" not in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    script = get(ui, "/ui/app.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )


def test_ui_redirect_and_unknown_files(ui: ServerThread) -> None:
    redirect = get(ui, "/ui")
    assert redirect.status_code == 307 and redirect.headers["location"] == "/ui/"
    assert get(ui, "/ui/nope.js").status_code == 404
    assert get(ui, "/ui/../conversations").status_code in (401, 404)
    assert get(ui, "/ui/%2e%2e/conversations").status_code in (401, 404)


def test_page_obeys_the_host_and_origin_rules(ui: ServerThread) -> None:
    assert get(ui, "/ui/", Host="evil.example").status_code == 403  # DNS rebinding
    assert get(ui, "/ui/", Origin="http://evil.example").status_code == 403
    assert get(ui, "/ui/", Host=f"localhost:{ui.port}").status_code == 200


def test_without_ui_there_is_no_public_page(model: FakeModelServer, config_dir: Path) -> None:
    with running_servers(model, TOKEN) as start:
        server = start()
        assert get(server, "/ui/").status_code == 401
        assert get(server, "/ui/", **{"X-API-KEY": TOKEN}).status_code == 404


def test_page_has_no_inline_script_and_loads_only_its_own_files() -> None:
    files = ui_files()
    html = files["index.html"][0].decode()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son[a-z]+\s*=", html)  # no inline event handlers
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere
    for name in re.findall(r'(?:src|href)="([^"#]+)"', html):
        assert name in files, name
    for name, (body, _) in files.items():
        if name.endswith(".js"):
            text = body.decode()
            for imported in re.findall(r'from "\./([^"]+)"', text):
                assert imported in files, (name, imported)
            assert "innerHTML" not in text and "insertAdjacentHTML" not in text, name
            assert "eval(" not in text and "new Function" not in text, name


def test_package_data_ships_every_ui_file() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    block = text.split("[tool.setuptools.package-data]", 1)[1].split("\n[", 1)[0]
    patterns = re.findall(r'"([^"]+)"', block)
    base = ROOT / "src" / "interpreter"
    shipped = {p for pattern in patterns for p in base.glob(pattern)}
    assert {p for p in UI_DIR.iterdir() if p.is_file()} <= shipped


# -- the launcher ----------------------------------------------------------------------------


def test_browser_opens_only_where_one_can_be_shown() -> None:
    assert not can_open_browser({}, "linux")
    assert can_open_browser({"DISPLAY": ":0"}, "linux")
    assert can_open_browser({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert can_open_browser({"BROWSER": "firefox"}, "linux")
    assert can_open_browser({}, "darwin") and can_open_browser({}, "win32")


def test_ui_url_carries_the_token_in_the_fragment() -> None:
    assert ui_url("127.0.0.1", 8123, "a b/c") == "http://127.0.0.1:8123/ui/#token=a%20b%2Fc"
    assert ui_url("0.0.0.0", 1, "t") == "http://127.0.0.1:1/ui/#token=t"
    assert ui_url("::1", 2, "t") == "http://[::1]:2/ui/#token=t"


def _launch(args: list[str], tmp_path: Path, **env: str) -> tuple[subprocess.Popen[str], str]:
    """Starts the CLI; returns it and the web UI line it printed."""
    environment = cli_env(tmp_path / "cfg", **env)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER", "INTERPRETER_PORT", "INTERPRETER_HOST"):
        environment.pop(name, None)
    environment.update(env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "interpreter", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("web UI: "):
            return proc, "".join(lines)
    raise AssertionError("no web UI line: " + "".join(lines))


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_cli_ui_serves_on_a_free_port_and_prints_the_address(tmp_path: Path) -> None:
    proc, printed = _launch(["--ui"], tmp_path)
    try:
        match = re.search(r"web UI: http://127\.0\.0\.1:(\d+)/ui/#token=([\w%-]+)", printed)
        assert match, printed
        port, token = int(match.group(1)), match.group(2)
        assert port != 8000
        page = httpx.get(f"http://127.0.0.1:{port}/ui/", timeout=10)
        assert page.status_code == 200 and "content-security-policy" in page.headers
        with LmcClient(f"ws://127.0.0.1:{port}/", token, timeout=10) as client:
            assert client.authenticated
            assert _switch_model(client) == "gpt-4o-mini"  # the operator's own page
    finally:
        assert _stop(proc) == 0


def _switch_model(client: LmcClient) -> str:
    """The model after a ``settings`` command asking for gpt-4o-mini (or the error)."""
    change = {"llm": {"model": "gpt-4o-mini"}}
    client.send({"role": "user", "type": "command", "content": "settings", "settings": change})
    (reply,) = client.until_complete()
    return str(reply["content"]["llm"]["model"] if reply["type"] == "settings" else reply)


def test_cli_server_with_ui_uses_the_server_port(tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    proc, printed = _launch(["--server", "--ui"], tmp_path, INTERPRETER_PORT=str(port))
    try:
        assert f"interpreter server on http://127.0.0.1:{port}" in printed
        assert f"web UI: http://127.0.0.1:{port}/ui/#token=" in printed
        assert httpx.get(f"http://127.0.0.1:{port}/heartbeat", timeout=10).status_code == 200
        token = printed.split("#token=", 1)[1].split()[0]
        with LmcClient(f"ws://127.0.0.1:{port}/", token, timeout=10) as client:
            assert "cannot be changed" in _switch_model(client)  # a server: the operator's
    finally:
        assert _stop(proc) == 0
