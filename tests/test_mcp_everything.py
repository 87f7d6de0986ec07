"""The reference ``@modelcontextprotocol/server-everything`` (npm, installed by .ci/run),
over stdio and streamable HTTP: images and embedded resources come back as LMC, names
that are not Python names work, and code in the Python kernel calls the tools through
``computer.mcp`` (the loopback bridge)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import make_interpreter, tool_messages
from interpreter import OpenInterpreter
from interpreter.testing.fake_server import FakeModelServer, Reply
from mcp_helpers import everything_over_http, everything_server, time_server

pytestmark = pytest.mark.deadline(180)


@pytest.fixture
def interp(server: FakeModelServer, config_dir: Path) -> Iterator[OpenInterpreter]:
    it = make_interpreter(server, auto_run=True)
    it.mcp_servers = {"everything": everything_server()}
    yield it
    it.mcp.close()
    it.computer.terminate()


def test_an_image_comes_back_as_an_image_message(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(
        Reply.raw_arguments("{}", name="mcp__everything__get-tiny-image"), Reply.text("a tiny one")
    )
    new = interp.chat("show me an image", display=False)
    images = [m for m in new if m["type"] == "image"]
    assert len(images) == 1 and images[0]["format"] == "base64.png"
    assert str(images[0]["content"]).startswith("iVBORw0KGgo")  # a PNG
    assert "Here's the image you requested" in tool_messages(server.requests[1])[0]["content"]


def test_an_embedded_resource_comes_back_as_its_text(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(
        Reply.raw_arguments(
            '{"resourceType": "Text", "resourceId": 3}',
            name="mcp__everything__get-resource-reference",
        ),
        Reply.text("read it"),
    )
    interp.chat("get resource 3", display=False)
    told = tool_messages(server.requests[1])[0]["content"]
    assert "[resource demo://resource/dynamic/text/3]" in told
    assert "Resource 3: This is a plaintext resource" in told


def test_a_name_that_is_not_python_is_shown_as_an_item(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.auto_run = False
    server.script(Reply.raw_arguments('{"a": 2, "b": 3}', name="mcp__everything__get-sum"))
    chunks = list(interp.chat("2+3", display=False, stream=True))
    [asked] = [c["content"] for c in chunks if c.get("type") == "confirmation"]
    assert asked["content"] == "computer.mcp.everything['get-sum'](a=2, b=3)"
    assert asked["rule"] == ["mcp__everything", "get-sum"]


def test_kernel_code_calls_tools_and_computes_with_the_results(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.mcp_servers["time"] = time_server()
    code = (
        "now = computer.mcp.time.get_current_time(timezone='Asia/Tokyo')\n"
        "total = computer.mcp.everything.get_sum(a=20, b=22)\n"
        "print(now['timezone'], total.split()[-1])\n"
        "try:\n"
        "    computer.mcp.time.get_current_time(timezone='Nowhere/Nothing')\n"
        "except computer.mcp.Error as err:\n"
        "    print('error:', err)\n"
        "print(sorted(dir(computer.mcp)), 'get_sum' in dir(computer.mcp.everything))"
    )
    server.script(Reply.tool_call("python", code), Reply.text("done"))
    new = interp.chat("use the tools from python", display=False)
    output = str(new[2]["content"])
    assert "Asia/Tokyo 42." in output
    assert "error: " in output and "Nowhere/Nothing" in output
    assert "['everything', 'time'] True" in output


def test_the_bridge_answers_only_with_its_token(interp: OpenInterpreter) -> None:
    import httpx

    interp.mcp.list()  # connects; the bridge starts with the first server
    api = interp.computer.kernel_apis["mcp"]
    url, token = api.config["url"], api.config["token"]
    body = {"server": "everything", "tool": "echo", "arguments": {"message": "hi"}}
    assert httpx.post(url, json=body).status_code == 403
    assert httpx.post(url, json=body, headers={"Authorization": "Bearer wrong"}).status_code == 403
    evil = {"Authorization": f"Bearer {token}", "Host": "evil.example:80"}
    assert httpx.post(url, json=body, headers=evil).status_code == 403
    good = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert good.json()["result"]["content"][0]["text"] == "Echo: hi"


def test_streamable_http(server: FakeModelServer, config_dir: Path) -> None:
    with everything_over_http() as url:
        interp = make_interpreter(server, auto_run=True)
        interp.mcp_servers = {"web": {"url": url, "headers": {"X-Test": "1"}}}
        try:
            server.script(
                Reply.raw_arguments('{"message": "over http"}', name="mcp__web__echo"),
                Reply.text("echoed"),
            )
            interp.chat("echo", display=False)
            assert tool_messages(server.requests[1])[0]["content"] == "Echo: over http"
            [info] = interp.mcp.list()
            assert info.transport == "http" and info.where == f"http: {url}"
        finally:
            interp.mcp.close()
