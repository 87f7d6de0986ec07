"""Local model servers: discovery on their usual ports, context windows read from them,
``ollama/<name>`` over the OpenAI-compatible route, and ``offline`` (real HTTP, 127.0.0.1)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from interpreter.core.interpreter import OpenInterpreter
from interpreter.llm.local_servers import (
    KNOWN_SERVERS,
    ModelLimits,
    discover,
    is_private_url,
    limits_from,
    server_limits,
)
from interpreter.llm.providers import OfflineRefused
from interpreter.llm.tokens import count_tokens
from interpreter.testing.fake_server import FakeModelServer, Reply


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def serve_on(port: int, **kwargs: object) -> FakeModelServer:
    """A fake server on a well-known port; the test is skipped when the port is taken."""
    if not port_free(port):
        pytest.skip(f"port {port} is in use on this machine")
    return FakeModelServer(port=port, **kwargs).start()  # type: ignore[arg-type]


@pytest.fixture
def jan() -> Iterator[FakeModelServer]:
    server = serve_on(1337, models=("small-model", "big-model"))
    yield server
    server.stop()


@pytest.fixture
def ollama() -> Iterator[FakeModelServer]:
    server = serve_on(11434, context_length=2048, context_route="show")
    yield server
    server.stop()


def test_discover_finds_a_server_on_its_port_with_its_models(jan: FakeModelServer) -> None:
    found = discover(timeout=0.5)
    ours = [s for s in found if s.api_base == "http://127.0.0.1:1337/v1"]
    assert len(ours) == 1
    assert ours[0].name == "Jan" and ours[0].models == ("small-model", "big-model")


def test_discover_reads_ollamas_own_model_list(ollama: FakeModelServer) -> None:
    (server,) = [s for s in discover(timeout=0.5) if s.name == "Ollama"]
    assert server.models == ("fake-model",)
    assert "/api/tags" in ollama.get_paths


def test_probing_every_port_at_once_is_quick() -> None:
    started = time.monotonic()
    discover(timeout=0.5)
    assert time.monotonic() - started < 1.5  # five ports, concurrently
    assert {k.port for k in KNOWN_SERVERS} == {11434, 1234, 8080, 1337, 8000}


@pytest.mark.parametrize(
    ("source", "data", "window"),
    [
        ("props", {"default_generation_settings": {"n_ctx": 4096, "n_predict": -1}}, 4096),
        ("props", {"n_ctx": 2048}, 2048),
        (
            "show",
            {"parameters": "stop x\nnum_ctx 16384", "model_info": {"a.context_length": 9}},
            16384,
        ),
        ("ps", {"models": [{"name": "m:latest", "context_length": 8192}]}, 8192),
        ("ps", {"models": [{"name": "m:7b", "context_length": 8192}]}, None),
        ("models", {"data": [{"id": "other"}, {"id": "m", "max_model_len": 32768}]}, 32768),
        (
            "lmstudio",
            {"data": [{"id": "m", "loaded_context_length": 8192, "max_context_length": 32768}]},
            8192,
        ),
        (
            "lmstudio_v1",
            {
                "models": [
                    {
                        "key": "m",
                        "max_context_length": 32768,
                        "loaded_instances": [{"config": {"context_length": 6000}}],
                    }
                ]
            },
            6000,
        ),
        ("props", {"error": "not found"}, None),
        ("show", None, None),
        ("models", {"data": [{"id": "other", "max_model_len": 9}]}, None),
    ],
)
def test_context_window_from_each_server_kind(
    source: str, data: object, window: int | None
) -> None:
    limits = limits_from(source, data, "m")
    assert (limits.context_window, limits.note) == (window, None)


@pytest.mark.parametrize(
    ("source", "data"),
    [
        ("show", {"model_info": {"llama.context_length": 131072, "llama.block_count": 32}}),
        ("lmstudio", {"data": [{"id": "m", "state": "not-loaded", "max_context_length": 131072}]}),
        ("lmstudio_v1", {"models": [{"key": "m", "max_context_length": 131072}]}),
    ],
)
def test_a_model_not_loaded_yet_gets_the_loading_default_with_a_note(
    source: str, data: object
) -> None:
    limits = limits_from(source, data, "m")
    assert limits.context_window == 4096
    assert limits.note is not None and "4096 of its 131072" in limits.note


def test_llama_cpp_n_predict_is_max_tokens() -> None:
    data = {"default_generation_settings": {"n_ctx": 4096, "n_predict": 512}}
    assert limits_from("props", data, "m") == ModelLimits(4096, 512)


def test_only_local_or_private_servers_are_asked() -> None:
    for url in (
        "http://localhost:11434/v1",
        "http://127.0.0.1:8080",
        "http://192.168.1.9:1234/v1",
        "http://10.0.0.2/v1",
        "http://[::1]:8000/v1",
        "http://box.local:11434/v1",
    ):
        assert is_private_url(url), url
    for url in ("https://api.openai.com/v1", "http://8.8.8.8/v1", "https://example.com"):
        assert not is_private_url(url), url
    assert server_limits("https://api.openai.com/v1", "gpt-4o") == ModelLimits()


def _long_history() -> list[dict[str, str]]:
    words = " ".join(f"word{i}" for i in range(300))
    return [
        {"role": "user" if i % 2 == 0 else "assistant", "type": "message", "content": words}
        for i in range(30)
    ]


def _chat(server: FakeModelServer, model: str, **llm: object) -> dict[str, object]:
    interp = OpenInterpreter(load_profile=False)
    interp.compaction = False  # fitting only (summaries: tests/test_compaction.py)
    interp.llm.model, interp.llm.api_base = model, server.url
    for name, value in llm.items():
        setattr(interp.llm, name, value)
    interp.messages = _long_history()
    server.script(Reply.text("ok"))
    interp.chat("last", display=False)
    return server.requests[-1]


def test_the_servers_context_window_fits_the_request_and_is_asked_once() -> None:
    with FakeModelServer(context_length=3000, context_route="props") as server:
        first = _chat(server, "fake-model")
        _chat(server, "fake-model")
        assert server.get_paths.count("/props") == 1  # cached per model
    assert count_tokens(first["messages"], "fake-model") <= 3000  # type: ignore[arg-type]
    with FakeModelServer(context_length=1_000_000, context_route="lmstudio") as server:
        whole = _chat(server, "fake-model-2")
        assert "/api/v0/models" in server.get_paths
    assert len(whole["messages"]) > len(first["messages"])  # type: ignore[arg-type]


def test_a_set_context_window_asks_the_server_nothing() -> None:
    with FakeModelServer(context_length=3000) as server:
        _chat(server, "fake-model-3", context_window=100_000)
        assert server.get_paths == []


def test_ollama_model_name_talks_to_ollama_with_code_as_fenced_blocks(
    ollama: FakeModelServer,
) -> None:
    interp = OpenInterpreter(load_profile=False)
    interp.llm.model = "ollama/fake-model"
    interp.auto_run = True
    ollama.script(Reply.text("Running it.\n```python\nprint(6 * 7)\n```\n"), Reply.text("42."))
    messages = interp.chat("six times seven?", display=False)
    assert "tools" not in ollama.requests[0]  # no tool calling by default for ollama/*
    assert ollama.requests[0]["model"] == "fake-model"
    code = [m for m in messages if m["type"] == "code"]
    assert code and code[0]["content"].strip() == "print(6 * 7)"
    assert any(m["type"] == "console" and "42" in str(m["content"]) for m in messages)
    assert "/api/show" in ollama.get_paths  # its context window, from Ollama's own route


def test_offline_refuses_a_hosted_model_in_one_line() -> None:
    interp = OpenInterpreter(load_profile=False)
    interp.llm.model, interp.llm.api_key, interp.llm.offline = "gpt-4o", "sk-test", True
    with pytest.raises(OfflineRefused) as caught:
        interp.chat("hi", display=False)
    message = str(caught.value)
    assert "\n" not in message and "offline" in message and "api.openai.com" in message
    interp.llm.model = "command-r"  # LiteLLM's hosted providers too
    with pytest.raises(OfflineRefused):
        interp.llm.route()


def test_offline_allows_this_machine_a_private_network_and_gguf_files() -> None:
    interp = OpenInterpreter(load_profile=False)
    interp.llm.offline = True
    for base in ("http://192.168.1.20:11434/v1", "http://localhost:1234/v1"):
        interp.llm.model, interp.llm.api_base = "some-model", base
        assert interp.llm.route().api_base == base
    interp.llm.model, interp.llm.api_base = "/models/tiny.gguf", None
    assert interp.llm.route().kind == "gguf"
    with FakeModelServer() as server:
        server.script(Reply.text("local answer"))
        interp.llm.model, interp.llm.api_base = "fake-model", server.url
        messages = interp.chat("hi", display=False)
    assert messages[-1]["content"] == "local answer"


def test_interpreter_offline_reaches_the_model_client() -> None:
    from interpreter.llm.errors import ModelError

    interp = OpenInterpreter(load_profile=False)
    interp.llm.model, interp.llm.api_key = "gpt-4o", "sk-test"
    interp.offline = True
    assert interp.llm.offline is True
    with pytest.raises(ModelError, match="offline"):
        interp.chat("hi", display=False)
