"""The web UI end to end in real headless Chromium (Debian's, driven by Playwright), against
our server on loopback and the scripted fake model: tasks, approval, output, plots, HTML,
interrupts, resuming, and a foreign origin that must not get in."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from interpreter.server.runner import ServerThread
from interpreter.testing.fake_server import FakeModelServer, Reply
from webui_helpers import TOKEN, chromium, page_url, ui_servers

pytestmark = pytest.mark.deadline(240)
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def context() -> Iterator[BrowserContext]:
    with chromium() as ctx:
        yield ctx


@pytest.fixture
def ui(model: FakeModelServer, config_dir: Path) -> Iterator[ServerThread]:
    with ui_servers(model) as start:
        yield start()


class Problems:
    """What a page complained about: script errors and console errors (CSP violations)."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda err: self.errors.append(f"pageerror: {err}"))
        page.on(
            "console",
            lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
        )


@pytest.fixture
def pages(context: BrowserContext) -> Iterator[list[tuple[Page, Problems]]]:
    opened: list[tuple[Page, Problems]] = []
    yield opened
    for page, _ in opened:
        page.close()


def open_ui(
    pages: list[tuple[Page, Problems]], context: BrowserContext, server: ServerThread
) -> Page:
    page = context.new_page()
    problems = Problems(page)
    pages.append((page, problems))
    page.goto(page_url(server))
    expect(page.locator("body")).to_have_attribute("data-state", "idle", timeout=WAIT_MS)
    return page


def ask(page: Page, text: str) -> None:
    page.locator("#input").fill(text)
    page.locator("#input").press("Enter")


def idle(page: Page) -> None:
    expect(page.locator("body")).to_have_attribute("data-state", "idle", timeout=WAIT_MS)


def button(page: Page, name: str) -> Any:
    return page.get_by_role("button", name=name, exact=True)


def clean(pages: list[tuple[Page, Problems]]) -> None:
    for _, problems in pages:
        assert problems.errors == []


def last_request_text(model: FakeModelServer) -> str:
    return json.dumps(model.requests[-1]["messages"])


# -- the main path ---------------------------------------------------------------------


PLOT = (
    "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
    "import matplotlib.pyplot as plt\nprint('plotting squares')\n"
    "plt.plot([1, 2, 3, 4], [1, 4, 9, 16])\nplt.title('squares')\nplt.show()"
)


def test_task_shows_code_then_approve_runs_it_with_output_and_plot(
    context: BrowserContext,
    pages: list[tuple[Page, Problems]],
    ui: ServerThread,
    model: FakeModelServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "matplotlib"))  # the kernel's font cache
    model.script(
        Reply.text("I will **plot** the squares:\n\n- x from 1 to 4\n- y = x²\n")
        + Reply.tool_call("python", PLOT),
        Reply.text("Here is the plot of `y = x**2`."),
    )
    page = open_ui(pages, context, ui)
    ask(page, "plot the squares")
    expect(page.locator(".turn-user")).to_have_text("plot the squares")
    code = page.locator(".code-block").last
    expect(code).to_contain_text("plt.plot([1, 2, 3, 4], [1, 4, 9, 16])", timeout=WAIT_MS)
    expect(code.locator(".tok-kw").first).to_have_text("import")  # highlighted
    expect(page.locator(".msg strong")).to_have_text("plot")
    expect(page.locator(".msg li")).to_have_count(2)
    expect(page.locator("body")).to_have_attribute("data-state", "awaiting", timeout=WAIT_MS)
    assert len(model.requests) == 1  # nothing ran yet: no second model call

    button(page, "Approve").click()
    expect(page.locator("pre.console")).to_contain_text("plotting squares", timeout=60_000)
    image = page.locator(".output-image img")
    expect(image).to_have_count(1, timeout=60_000)
    assert image.get_attribute("src").startswith("data:image/png;base64,")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 100
    expect(page.locator(".msg").last).to_contain_text(
        "Here is the plot of y = x**2.", timeout=WAIT_MS
    )
    idle(page)
    expect(page.locator(".approval .verdict")).to_have_text("Approved")
    expect(page.locator("#usage-tokens")).not_to_have_text("0")
    assert "plotting squares" in last_request_text(model)
    clean(pages)


def test_decline_runs_nothing_and_tells_the_model(
    context: BrowserContext,
    pages: list[tuple[Page, Problems]],
    ui: ServerThread,
    model: FakeModelServer,
    tmp_path: Path,
) -> None:
    marker = tmp_path / "declined-marker"
    model.script(Reply.tool_call("shell", f"touch {marker}"))
    page = open_ui(pages, context, ui)
    ask(page, "make a marker file")
    expect(button(page, "Decline")).to_be_visible(timeout=WAIT_MS)
    button(page, "Decline").click()
    idle(page)
    expect(page.locator(".approval .verdict")).to_have_text("Declined")
    expect(page.locator("pre.console")).to_contain_text("declined")
    assert not marker.exists()
    assert len(model.requests) == 1
    clean(pages)


def test_edit_runs_the_edited_code(
    context: BrowserContext,
    pages: list[tuple[Page, Problems]],
    ui: ServerThread,
    model: FakeModelServer,
) -> None:
    model.script(Reply.tool_call("shell", "echo original-text"), Reply.text("ok"))
    page = open_ui(pages, context, ui)
    ask(page, "echo something")
    button(page, "Edit").click(timeout=WAIT_MS)
    editor = page.get_by_label("Edit the code")
    expect(editor).to_have_value("echo original-text")
    editor.fill("echo edited-text")
    button(page, "Run edited").click()
    expect(page.locator("pre.console")).to_contain_text("edited-text", timeout=WAIT_MS)
    idle(page)
    expect(page.locator(".code-block").last).to_contain_text("echo edited-text")
    expect(page.locator(".approval .verdict")).to_have_text("Approved (edited)")
    assert "original-text" not in page.locator("pre.console").inner_text()
    assert "edited-text" in last_request_text(model)
    clean(pages)


def test_two_code_blocks_are_asked_about_in_order(
    context: BrowserContext,
    pages: list[tuple[Page, Problems]],
    ui: ServerThread,
    model: FakeModelServer,
) -> None:
    model.script(
        Reply.tool_call("shell", "echo first-block")
        + Reply.tool_call("shell", "echo second-block"),
        Reply.text("both ran"),
    )
    page = open_ui(pages, context, ui)
    ask(page, "run two things")
    button(page, "Approve").click(timeout=WAIT_MS)  # the first block
    expect(page.locator("pre.console").first).to_contain_text("first-block", timeout=WAIT_MS)
    button(page, "Decline").click(timeout=WAIT_MS)  # then the second one is asked about
    idle(page)
    blocks = page.locator(".code-block")
    expect(blocks).to_have_count(2)
    expect(blocks.nth(0)).to_contain_text("echo first-block")
    expect(blocks.nth(0).locator(".verdict")).to_have_text("Approved")
    expect(blocks.nth(1)).to_contain_text("echo second-block")
    expect(blocks.nth(1).locator(".verdict")).to_have_text("Declined")
    assert "second-block" not in page.locator("pre.console").first.inner_text()
    clean(pages)


def test_stop_interrupts_a_long_run(
    context: BrowserContext,
    pages: list[tuple[Page, Problems]],
    ui: ServerThread,
    model: FakeModelServer,
) -> None:
    code = "import time\nprint('started', flush=True)\ntime.sleep(120)\nprint('finished')"
    model.script(Reply.tool_call("python", code))
    page = open_ui(pages, context, ui)
    ask(page, "wait a long time")
    button(page, "Approve").click(timeout=WAIT_MS)
    expect(page.locator("pre.console")).to_contain_text("started", timeout=60_000)
    expect(page.locator("body")).to_have_attribute("data-state", "busy")
    button(page, "Stop").click()
    idle(page)
    expect(page.locator("pre.console")).to_contain_text("KeyboardInterrupt")
    assert "finished" not in page.locator("pre.console").inner_text().splitlines()
    expect(button(page, "Stop")).to_be_hidden()
    assert len(model.requests) == 1  # stopped: the output did not go back to the model
    model.script(Reply.text("still here"))
    ask(page, "are you there?")
    expect(page.locator(".msg").last).to_contain_text("still here", timeout=WAIT_MS)
    clean(pages)


def test_resume_a_saved_conversation(
    context: BrowserContext,
    pages: list[tuple[Page, Problems]],
    ui: ServerThread,
    model: FakeModelServer,
) -> None:
    model.script(Reply.text("The capital is Paris."))
    first = open_ui(pages, context, ui)
    ask(first, "capital of France")
    expect(first.locator(".msg")).to_contain_text("The capital is Paris.", timeout=WAIT_MS)
    idle(first)
    first.close()

    page = open_ui(pages, context, ui)  # a new session
    saved = page.locator("#conversations button", has_text="capital of")
    expect(saved).to_have_count(1, timeout=WAIT_MS)
    saved.click()
    expect(page.locator(".turn-user")).to_have_text("capital of France", timeout=WAIT_MS)
    expect(page.locator(".msg")).to_have_text("The capital is Paris.")
    expect(page.locator("#title")).to_contain_text("capital of")
    idle(page)
    model.script(Reply.text("About 2 million people."))
    ask(page, "and its population?")
    expect(page.locator(".msg").last).to_contain_text("About 2 million", timeout=WAIT_MS)
    sent = model.requests[-1]["messages"]
    assert [m["content"] for m in sent if m["role"] in ("user", "assistant")][-3:] == [
        "capital of France",
        "The capital is Paris.",
        "and its population?",
    ]
    clean(pages)


# -- what the page must never do -------------------------------------------------------


def test_model_markup_is_shown_as_text_and_html_output_is_sandboxed(
    context: BrowserContext,
    pages: list[tuple[Page, Problems]],
    ui: ServerThread,
    model: FakeModelServer,
) -> None:
    hostile = (
        "<img src=x onerror=\"document.body.dataset.pwned='img'\"> "
        "<script>document.body.dataset.pwned='script'</script> "
        "[click](javascript:document.body.dataset.pwned='link') ![x](http://example.invalid/x.png)\n\n"
    )
    page_html = (
        "<h1 id='greeting'>Hello from HTML</h1>"
        "<script>parent.document.body.dataset.pwned = 'frame'</script>"
    )
    model.script(Reply.text(hostile) + Reply.tool_call("html", page_html), Reply.text("shown"))
    page = open_ui(pages, context, ui)
    ask(page, "show a page")
    message = page.locator(".msg").first
    expect(message).to_contain_text("<img src=x onerror=", timeout=WAIT_MS)
    expect(message).to_contain_text("<script>")
    assert message.locator("img, script").count() == 0
    links = message.locator("a")  # javascript: is no link; a remote image is a link, never loaded
    expect(links).to_have_count(1)
    expect(links).to_have_text("image: x")
    assert links.get_attribute("href") == "http://example.invalid/x.png"
    assert links.get_attribute("rel") == "noopener noreferrer"
    button(page, "Approve").click(timeout=WAIT_MS)
    frame = page.locator(".output-html iframe")
    expect(frame).to_have_count(1, timeout=WAIT_MS)
    assert frame.get_attribute("sandbox") == ""
    expect(page.frame_locator(".output-html iframe").locator("#greeting")).to_have_text(
        "Hello from HTML"
    )
    idle(page)
    assert page.locator("body").get_attribute("data-pwned") is None
    assert [e for _, p in pages for e in p.errors if e.startswith("pageerror")] == []


class _ForeignPage(BaseHTTPRequestHandler):
    """A page on another loopback port that tries to drive our server with the token."""

    target_port = 0

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        port = self.target_port
        body = f"""<!DOCTYPE html><title>foreign</title><body><pre id="log"></pre><script>
const log = (line) => {{ document.getElementById('log').textContent += line + '\\n'; }};
const ws = new WebSocket('ws://127.0.0.1:{port}/');
ws.onopen = () => {{ log('ws-open'); ws.send(JSON.stringify({{auth: '{TOKEN}'}}));
  ws.send(JSON.stringify({{role: 'user', type: 'message', content: 'rm -rf everything'}})); }};
ws.onmessage = (e) => log('ws-message ' + e.data);
ws.onclose = (e) => log('ws-closed ' + e.code);
fetch('http://127.0.0.1:{port}/conversations', {{headers: {{'X-API-KEY': '{TOKEN}'}}}})
  .then((r) => log('fetch-status ' + r.status)).catch(() => log('fetch-blocked'));
</script>""".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_page_from_a_foreign_origin_cannot_drive_the_websocket(
    context: BrowserContext,
    pages: list[tuple[Page, Problems]],
    ui: ServerThread,
    model: FakeModelServer,
) -> None:
    handler = type("Handler", (_ForeignPage,), {"target_port": ui.port})
    foreign = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=foreign.serve_forever, daemon=True)
    thread.start()
    try:
        page = context.new_page()
        pages.append((page, Problems(page)))
        page.goto(f"http://127.0.0.1:{foreign.server_address[1]}/")
        log = page.locator("#log")
        expect(log).to_contain_text("ws-closed", timeout=WAIT_MS)
        expect(log).to_contain_text("fetch-blocked", timeout=WAIT_MS)
    finally:
        foreign.shutdown()
        foreign.server_close()
    text = log.inner_text()
    assert "ws-open" not in text and "ws-message" not in text
    assert model.requests == []
    # the same browser, from the UI's own origin, does get in
    page = open_ui(pages, context, ui)
    expect(page.locator("#state")).to_have_text("idle")


def test_page_without_token_asks_for_one(
    context: BrowserContext, pages: list[tuple[Page, Problems]], ui: ServerThread
) -> None:
    page = context.new_page()
    pages.append((page, Problems(page)))
    page.goto(f"http://127.0.0.1:{ui.port}/ui/")
    expect(page.locator("#token-prompt")).to_be_visible(timeout=WAIT_MS)
    page.locator("#token-input").fill("wrong-token")
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#token-prompt")).to_contain_text("refused", timeout=WAIT_MS)
    page.locator("#token-input").fill(TOKEN)
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("body")).to_have_attribute("data-state", "idle", timeout=WAIT_MS)
