"""Model errors name the server that answered: the host of an ``api_base`` the user set
("the model server at 127.0.0.1:PORT"), or the provider and its host; never "OpenAI" for
a server that is not OpenAI's. Through the Python API, the model client and the CLI."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from interpreter import OpenInterpreter
from interpreter.llm.errors import ModelError, ProviderError
from interpreter.llm.llm import Llm
from interpreter.llm.providers import choose_route
from interpreter.testing.fake_server import FakeModelServer, Reply
from pty_helpers import cli_env, model_args, run_piped

ROUTED_TO_THE_SERVER = ["gpt-4o", "openai/gpt-4o", "llama3", "ollama/llama3", "claude-3-5-sonnet"]


def _host(server: FakeModelServer) -> str:
    return server.url.split("/")[2]  # 127.0.0.1:PORT


@pytest.fixture
def interp(server: FakeModelServer, config_dir: Path) -> Iterator[OpenInterpreter]:
    it = OpenInterpreter(load_profile=False)
    it.llm.api_base, it.llm.api_key, it.llm.max_retries = server.url, "sk-test", 0
    yield it
    it.computer.terminate()


def _error(interp: OpenInterpreter) -> str:
    with pytest.raises(ModelError) as info:
        interp.chat("hi", display=False)
    return str(info.value)


@pytest.mark.parametrize("model", ROUTED_TO_THE_SERVER)
def test_a_server_error_names_the_host_on_every_route(
    model: str, server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.llm.model = model
    server.script(Reply.status(500, body="boom"))
    message = _error(interp)
    assert message == f"the model server at {_host(server)} answered HTTP 500 (server error): boom"


@pytest.mark.parametrize(
    ("status", "what"),
    [(401, "invalid API key"), (403, "access denied"), (400, "request rejected")],
)
def test_each_status_names_the_host(
    status: int, what: str, server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.llm.model = "gpt-4o"
    server.script(Reply.status(status, body="no"))
    assert (
        _error(interp) == f"the model server at {_host(server)} answered HTTP {status} ({what}): no"
    )


def test_a_404_names_the_url_asked(server: FakeModelServer, interp: OpenInterpreter) -> None:
    interp.llm.model = "gpt-4o"
    server.script(Reply.status(404, body="no such route"))
    message = _error(interp)
    assert f"answered HTTP 404 (not found: POST {server.url}/chat/completions)" in message


def test_a_malformed_stream_names_the_host(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    interp.llm.model = "gpt-4o"
    server.script(Reply.malformed())
    assert _error(interp).startswith(f"the model server at {_host(server)} sent a malformed")


def test_an_unreachable_server_is_named_by_its_host() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    llm = Llm()
    llm.model, llm.api_base, llm.max_retries = "gpt-4o", f"http://127.0.0.1:{port}/v1", 0
    messages = [{"role": "user", "type": "message", "content": "hi"}]
    with pytest.raises(ProviderError) as info:
        list(llm.stream(messages, system_message="", languages=["python"]))
    assert str(info.value).startswith(f"cannot reach the model server at 127.0.0.1:{port}: ")
    assert "OpenAI" not in str(info.value)


@pytest.mark.parametrize(
    ("model", "named"),
    [
        ("gpt-4o", "OpenAI (api.openai.com)"),
        ("claude-3-5-sonnet", "Anthropic (api.anthropic.com)"),
        ("ollama/llama3", "Ollama (localhost:11434)"),
        ("openrouter/some/model", "OpenRouter (openrouter.ai)"),
    ],
)
def test_a_provider_without_an_api_base_is_named_with_its_host(model: str, named: str) -> None:
    assert choose_route(model, api_key="sk-test", env={}).server == named


def test_the_cli_prints_the_host_in_its_one_line_error(
    tmp_path: Path, server: FakeModelServer
) -> None:
    server.script(Reply.status(401, body="Incorrect API key provided"))
    done = run_piped(model_args(server.url), cli_env(tmp_path / "cfg"), tmp_path, stdin="hi")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"the model server at {_host(server)} answered HTTP 401 (invalid API key): "
        "Incorrect API key provided"
    )
