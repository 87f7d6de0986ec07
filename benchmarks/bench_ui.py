"""The web UI in headless Chromium (Debian's, through Playwright): first paint of the page
on loopback, and a 200 KB Markdown reply (paragraphs, lists, code, tables) streamed in
4-character chunks: how long the tab's main thread was blocked (PerformanceObserver
``longtask``: tasks over 50 ms), the longest gap between animation frames, and the time
from sending the task to the rendered reply. The same reply read by a bare websocket
client gives the server's own part. Open Interpreter 0.4.3 has no web UI, so its column
says so; the figures are absolute.

    python benchmarks/bench_ui.py [--quick]      (needs playwright and /usr/bin/chromium)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from typing import Any

import common
from common import OURS, Measure, Options, Row

NO_UI = "no web UI"
CHUNK = 4
TOKEN = "bench-ui-token-0123456789"
CHROMIUM = os.environ.get("INTERPRETER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

SECTION = """## Section {n}

This is paragraph {n} of a long reply, with **bold words**, some *emphasis*, inline `code_{n}()`
and a [link](https://example.com/{n}). It goes on for a while so that the paragraph wraps over
several lines in the browser, the way a model's explanations do.

- first point about item {n}
- second point, with `a_value = {n}`
- third point

```python
def square_{n}(x):
    # returns the square
    return x * x + {n}
```

| name | value |
|---|---|
| alpha | {n} |
| beta | {m} |

"""

OBSERVE = """() => {
  window.__bench = {longtasks: [], maxGap: 0, last: performance.now(), running: true};
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__bench.longtasks.push(e.duration);
  }).observe({type: "longtask"});
  const tick = (now) => {
    const b = window.__bench;
    b.maxGap = Math.max(b.maxGap, now - b.last);
    b.last = now;
    if (b.running) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""

RESULTS = """() => {
  const b = window.__bench;
  b.running = false;
  return {longtasks: b.longtasks, maxGap: b.maxGap,
          headings: document.querySelectorAll(".msg h2").length,
          chars: document.querySelector(".msg").textContent.length,
          nodes: document.querySelectorAll("#transcript *").length};
}"""

DONE = """() => new Promise((resolve) => {
  const html = document.documentElement;
  const check = () => {
    const done = document.body.dataset.state === "idle" && !("rendering" in html.dataset);
    if (done) { observer.disconnect(); resolve(true); }
  };
  const observer = new MutationObserver(check);
  observer.observe(html, {attributes: true, subtree: false});
  observer.observe(document.body, {attributes: true});
})"""

PAINT = """() => {
  const paint = performance.getEntriesByType("paint");
  const fcp = paint.find((e) => e.name === "first-contentful-paint") || paint[0];
  return fcp ? fcp.startTime : null;
}"""


def reply_text(size: int) -> str:
    """``size`` characters of varied Markdown."""
    out, total, n = [], 0, 0
    while total < size:
        piece = SECTION.format(n=n, m=n * n)
        out.append(piece)
        total += len(piece)
        n += 1
    return "".join(out)[:size]


def _server(model: Any) -> Any:
    from interpreter import OpenInterpreter
    from interpreter.server import ServerSettings, create_app
    from interpreter.server.runner import ServerThread, listen

    def make() -> OpenInterpreter:
        interp = OpenInterpreter(load_profile=False)
        interp.llm.model, interp.llm.api_base, interp.llm.api_key = "gpt-4o", model.url, "x"
        interp.conversation_history = False
        return interp

    sock = listen()
    settings = ServerSettings(make_interpreter=make, token=TOKEN, port=sock.getsockname()[1])
    return ServerThread(create_app(settings, ui=True), sock).start()


def _bare_client_time(port: int, text: str, fake: Any, model: Any) -> float:
    from interpreter.server.client import LmcClient

    model.script(fake.Reply.text(text, chunk_size=CHUNK))
    with LmcClient(f"ws://127.0.0.1:{port}/", TOKEN, timeout=120) as client:
        started = time.perf_counter()
        client.chat("Write a long text.")
        return time.perf_counter() - started


def _first_paints(context: Any, url: str, loads: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import expect

    paints, ready = [], []
    for _ in range(loads):
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url)
        expect(page.locator("body")).to_have_attribute("data-state", "idle", timeout=30_000)
        ready.append(time.perf_counter() - started)
        paints.append(page.evaluate(PAINT) / 1000)
        page.close()
    return paints, ready


def _stream(context: Any, url: str, text: str, fake: Any, model: Any) -> dict[str, Any]:
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-state", "idle", timeout=30_000)
    model.script(fake.Reply.text(text, chunk_size=CHUNK))
    page.evaluate(OBSERVE)
    page.locator("#input").fill("Write a long text.")
    started = time.perf_counter()
    page.locator("#input").press("Enter")
    page.evaluate(DONE)  # one call that waits in the page: polling from here would load it
    elapsed = time.perf_counter() - started
    page.wait_for_timeout(100)  # let the observer deliver the last entries
    result: dict[str, Any] = page.evaluate(RESULTS)
    page.close()
    result["elapsed"] = elapsed
    return result


def worker(side: str, rest: list[str]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from interpreter.testing import fake_server as fake

    size, loads = int(rest[0]), int(rest[1])
    text = reply_text(size)
    home = tempfile.mkdtemp(prefix="bench-ui-chromium-")
    with fake.FakeModelServer() as model, sync_playwright() as playwright:
        server = _server(model)
        url = f"http://127.0.0.1:{server.port}/ui/#token={TOKEN}"
        context = playwright.chromium.launch_persistent_context(
            f"{home}/profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            _first_paints(context, url, 1)  # warm-up: the browser's own start
            paints, ready = _first_paints(context, url, loads)
            streamed = _stream(context, url, text, fake, model)
            bare = _bare_client_time(server.port, text, fake, model)
        finally:
            context.close()
            server.stop()
    sections = text.count("\n## Section") + 1
    if streamed["headings"] != sections:
        raise RuntimeError(f"rendered {streamed['headings']} of {sections} sections")
    tasks = streamed["longtasks"]
    return {
        "first_paint": statistics.median(paints),
        "ready": statistics.median(ready),
        "elapsed": streamed["elapsed"],
        "bare": bare,
        "longtask_count": len(tasks),
        "longtask_max": max(tasks, default=0.0) / 1000,
        "longtask_total": sum(tasks) / 1000,
        "max_frame_gap": streamed["maxGap"] / 1000,
    }


def collect(opts: Options) -> list[Row]:
    size = 20_000 if opts.quick else 200_000
    loads = 3 if opts.quick else 7
    result = common.run_worker(OURS, opts, "bench_ui.py", [str(size), str(loads)], 600)
    peer = Measure.failed(NO_UI)
    kb = f"{size // 1000} KB"

    def row(key: str, label: str, limit: float | None = None, target: str = "") -> Row:
        return Row(label, "s", common.pick(result, key), peer, target, limit)

    count = result.get("longtask_count", "?") if isinstance(result, dict) else "?"
    return [
        row("first_paint", f"UI first contentful paint (median of {loads})", 0.3, "< 300 ms"),
        row("ready", "UI load to connected (page, websocket, settings)"),
        row("elapsed", f"{kb} reply in {CHUNK}-char chunks: send to rendered"),
        row("bare", "  of which server (bare websocket client)"),
        row("longtask_max", "  longest main-thread task (longtask)", 0.1, "< 100 ms"),
        row("longtask_total", f"  main thread in long tasks ({count} over 50 ms)"),
        row("max_frame_gap", "  longest gap between animation frames", 0.2, "< 200 ms"),
    ]


if __name__ == "__main__":
    sys.exit(common.main_for(collect, __doc__ or "", worker))
