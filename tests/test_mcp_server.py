"""``interpreter --mcp-server`` against a real MCP client (the ``mcp`` package's): its
tools over stdio and streamable HTTP, approval through elicitation (2026-era retries and
2025-era mid-call requests), a client that cannot be asked is declined, and HTTP keeps
the token and Origin rules of ``--server``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.context import ClientRequestContext
from mcp_types import ElicitRequestParams, ElicitResult, TextContent

from interpreter.testing.fake_server import FakeModelServer, Reply
from mcp_helpers import free_port, wait_for_port

pytestmark = pytest.mark.deadline(180)

TOKEN = "mcp-test-token-0123456789abcdef"


def command(model: FakeModelServer, *more: str) -> list[str]:
    return [
        sys.executable, "-m", "interpreter", "--mcp-server", *more,
        "--api_base", model.url, "--model", "gpt-4o", "--api_key", "sk-x",
    ]  # fmt: skip


class Answers:
    """An elicitation callback that answers ``run`` and keeps what it was asked."""

    def __init__(self, run: bool) -> None:
        self.run = run
        self.asked: list[str] = []

    async def __call__(
        self, ctx: ClientRequestContext, params: ElicitRequestParams
    ) -> ElicitResult:
        self.asked.append(str(getattr(params, "message", "")))
        return ElicitResult(action="accept", content={"run": self.run})


@asynccontextmanager
async def stdio_client(
    model: FakeModelServer, *flags: str, answers: Answers | None = None, mode: str = "auto"
) -> AsyncIterator[Client]:
    args = command(model, "stdio", *flags)
    params = StdioServerParameters(command=args[0], args=args[1:], env=dict(os.environ))
    callback: Any = answers
    async with Client(params, elicitation_callback=callback, mode=mode) as client:
        yield client


def text_of(result: Any) -> str:
    return "".join(c.text for c in result.content if isinstance(c, TextContent))


def run(coro: Any) -> Any:
    return anyio.run(lambda: coro)


def test_the_tools_are_listed(model: FakeModelServer, config_dir: Path) -> None:
    async def main() -> list[str]:
        async with stdio_client(model) as client:
            return [t.name for t in (await client.list_tools()).tools]

    assert sorted(run(main())) == ["chat", "run_code"]


def test_run_code_with_auto_run(model: FakeModelServer, config_dir: Path) -> None:
    async def main() -> Any:
        async with stdio_client(model, "-y") as client:
            return await client.call_tool("run_code", {"language": "python", "code": "print(6*7)"})

    result = run(main())
    assert not result.is_error and text_of(result) == "42\n"


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-era retries, 2025-era requests
@pytest.mark.parametrize("approve", [True, False])
def test_run_code_asks_through_elicitation(
    model: FakeModelServer, config_dir: Path, here: Path, mode: str, approve: bool
) -> None:
    answers = Answers(approve)
    code = "open('made', 'w').write('x'); print('made it')"

    async def main() -> Any:
        async with stdio_client(model, answers=answers, mode=mode) as client:
            return await client.call_tool("run_code", {"language": "python", "code": code})

    result = run(main())
    assert len(answers.asked) == 1 and code in answers.asked[0]
    assert "python" in answers.asked[0]
    if approve:
        assert text_of(result) == "made it\n" and (here / "made").exists()
    else:
        assert result.is_error and text_of(result).startswith("Declined")
        assert not (here / "made").exists()


def test_a_client_that_cannot_be_asked_is_declined(
    model: FakeModelServer, config_dir: Path, here: Path
) -> None:
    async def main() -> Any:
        async with stdio_client(model) as client:  # no elicitation callback
            code = "open('made', 'w')"
            return await client.call_tool("run_code", {"language": "python", "code": code})

    result = run(main())
    assert result.is_error and text_of(result).startswith("Declined")
    assert not (here / "made").exists()


def test_an_unknown_language_is_an_error(model: FakeModelServer, config_dir: Path) -> None:
    async def main() -> Any:
        async with stdio_client(model, "-y") as client:
            return await client.call_tool("run_code", {"language": "cobol", "code": "x"})

    result = run(main())
    assert result.is_error and "language 'cobol' is not supported" in text_of(result)


def test_chat_runs_the_task_with_approval_asked_of_the_client(
    model: FakeModelServer, config_dir: Path
) -> None:
    model.script(Reply.tool_call("python", "print(2 ** 10)"), Reply.text("It is 1024."))
    answers = Answers(True)

    async def main() -> Any:
        async with stdio_client(model, answers=answers) as client:
            return await client.call_tool("chat", {"message": "what is 2**10?"})

    result = run(main())
    said = text_of(result)
    assert "```python\nprint(2 ** 10)\n```" in said and "1024" in said
    assert said.endswith("It is 1024.")
    assert len(answers.asked) == 1 and "print(2 ** 10)" in answers.asked[0]
    assert model.requests[0]["messages"][-1]["content"] == "what is 2**10?"


@pytest.fixture
def http_server(model: FakeModelServer, config_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "INTERPRETER_PORT": str(port), "INTERPRETER_API_KEY": TOKEN}
    process = subprocess.Popen(
        [*command(model, "http"), "-y"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(20)
        if process.stderr is not None:
            process.stderr.close()


def test_streamable_http_with_the_token(http_server: str) -> None:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    async def main() -> Any:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx2.AsyncClient(headers=headers) as http:
            transport = streamable_http_client(http_server, http_client=http)
            async with Client(transport) as client:
                code = {"language": "shell", "code": "echo over http"}
                return await client.call_tool("run_code", code)

    result = run(main())
    assert text_of(result).strip() == "over http"


def test_http_refuses_no_token_a_wrong_one_and_a_foreign_origin(http_server: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    accept = {"Accept": "application/json, text/event-stream"}
    assert httpx.post(http_server, json=body, headers=accept).status_code == 401
    wrong = {**accept, "Authorization": "Bearer nope"}
    assert httpx.post(http_server, json=body, headers=wrong).status_code == 403
    foreign = {**accept, "Authorization": f"Bearer {TOKEN}", "Origin": "http://evil.example"}
    assert httpx.post(http_server, json=body, headers=foreign).status_code == 403
    rebinding = {**accept, "Authorization": f"Bearer {TOKEN}", "Host": "evil.example"}
    assert httpx.post(http_server, json=body, headers=rebinding).status_code == 403
