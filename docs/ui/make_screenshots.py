"""Regenerates the web UI screenshots in this folder (README "Web UI").

    .venv/bin/python docs/ui/make_screenshots.py

Runs the real server with the UI against the scripted fake model, drives Debian's
Chromium with Playwright, and saves small palette PNGs (Pillow, from matplotlib's deps).
Everything happens in a temporary home: nothing is written to your config.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
HOME = tempfile.mkdtemp(prefix="ui-screenshots-")
os.environ.update(XDG_CONFIG_HOME=f"{HOME}/config", IPYTHONDIR=f"{HOME}/ipython")
os.environ["MPLCONFIGDIR"] = f"{HOME}/mpl"
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from playwright.sync_api import Page, expect  # noqa: E402

from interpreter.store.conversations import save_conversation  # noqa: E402
from interpreter.store.paths import conversations_dir  # noqa: E402
from interpreter.testing.fake_server import FakeModelServer, Reply  # noqa: E402
from webui_helpers import chromium, page_url, ui_servers  # noqa: E402

PLOT = """import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 10, 200)
plt.figure(figsize=(6, 3))
plt.plot(x, np.sin(x), label="sin")
plt.plot(x, np.cos(x), label="cos")
plt.legend()
plt.title("Waves")
plt.show()
print("plotted", len(x), "points")"""

INTRO = """I'll plot **sine** and **cosine** with matplotlib:

1. sample `x` from 0 to 10
2. draw both curves with a legend
"""

HTML = """<h3>Cities</h3>
<table border="1"><tr><th>city</th><th>people (M)</th></tr>
<tr><td>Paris</td><td>2.1</td></tr><tr><td>Lyon</td><td>0.52</td></tr>
<tr><td>Nice</td><td>0.34</td></tr></table>"""


def _seed_conversations() -> None:
    folder = conversations_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in [
        ("Resize_all_photos_in__November_28_2026_10-12-40.json", "Resize all photos in ~/Pictures"),
        ("Summarize_the_sales_CSV__November_30_2026_16-03-11.json", "Summarize the sales CSV"),
    ]:
        messages = [
            {"role": "user", "type": "message", "content": text},
            {"role": "assistant", "type": "message", "content": "Done."},
        ]
        save_conversation(messages, folder, name)


def _shoot(page: Page, name: str) -> None:
    from PIL import Image

    path = HERE / f"{name}.png"
    page.screenshot(path=str(path))
    image = Image.open(path).convert("RGB").quantize(colors=96, method=Image.Quantize.MEDIANCUT)
    image.save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")


def main() -> None:
    _seed_conversations()
    with FakeModelServer() as model, ui_servers(model) as start, chromium() as context:
        server = start()
        model.script(
            Reply.text(INTRO) + Reply.tool_call("python", PLOT),
            Reply.text("The two curves are shifted by a quarter period (π/2)."),
            Reply.text("As a table:") + Reply.tool_call("html", HTML),
            Reply.text("That is the table, shown in a sandboxed frame."),
        )
        page = context.new_page()
        page.set_viewport_size({"width": 1000, "height": 640})
        page.goto(page_url(server))
        expect(page.locator("body")).to_have_attribute("data-state", "idle")
        page.locator("#input").fill("Plot sin and cos from 0 to 10")
        page.locator("#input").press("Enter")
        expect(page.get_by_role("button", name="Approve", exact=True)).to_be_visible()
        _shoot(page, "approval")
        page.get_by_role("button", name="Approve", exact=True).click()
        expect(page.locator(".output-image img")).to_have_count(1, timeout=90_000)
        expect(page.locator("body")).to_have_attribute("data-state", "idle", timeout=30_000)
        page.locator("#transcript").evaluate("el => { el.scrollTop = el.scrollHeight; }")
        _shoot(page, "output")
        page.locator("#input").fill("Show the biggest cities as a table")
        page.locator("#input").press("Enter")
        page.get_by_role("button", name="Edit", exact=True).click()
        expect(page.get_by_label("Edit the code")).to_be_visible()
        _shoot(page, "edit")
        page.get_by_role("button", name="Run edited", exact=True).click()
        expect(page.locator(".output-html iframe")).to_have_count(1, timeout=30_000)
        expect(page.locator("body")).to_have_attribute("data-state", "idle", timeout=30_000)
        page.locator("#transcript").evaluate("el => { el.scrollTop = el.scrollHeight; }")
        _shoot(page, "html")


if __name__ == "__main__":
    main()
