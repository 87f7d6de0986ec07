"""The LiteLLM route end to end: real ``litellm.completion`` calls over real HTTP to the fake
server, through a provider whose base URL LiteLLM reads from its own environment variable.

``hosted_vllm/...`` is routed to LiteLLM by ``choose_route`` (no ``api_base`` given) and served
by LiteLLM's own HTTP client (no hidden retries) at ``HOSTED_VLLM_API_BASE``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from interpreter import OpenInterpreter
from interpreter.llm.errors import NoModelConfigured, ProviderError, StreamCut
from interpreter.llm.events import CodeDelta, CodeEnd, Event, TextDelta, Usage
from interpreter.llm.llm import Llm
from interpreter.llm.providers import choose_route
from interpreter.testing.fake_server import FakeModelServer, Reply

MODEL = "hosted_vllm/fake-model"
MESSAGES = [{"role": "user", "type": "message", "content": "hi"}]
COHERE_KEYS = ("COHERE_API_KEY", "CO_API_KEY")

needs_litellm = pytest.mark.skipif(
    importlib.util.find_spec("litellm") is None,
    reason="litellm is not installed (pip install 'interpreter[litellm]')",
)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeModelServer]:
    with FakeModelServer() as srv:
        monkeypatch.setenv("HOSTED_VLLM_API_BASE", srv.url)
        monkeypatch.setenv("HOSTED_VLLM_API_KEY", "sk-litellm-test")
        yield srv


@pytest.fixture
def llm(server: FakeModelServer) -> Iterator[Llm]:
    model = Llm()
    model.model, model.context_window, model.supports_functions = MODEL, 100_000, True
    yield model
    model.close()


def stream(llm: Llm) -> Iterator[Event]:
    return llm.stream(MESSAGES, system_message="sys", languages=["python", "shell"])


def text_of(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_the_model_string_goes_to_litellm() -> None:
    assert choose_route(MODEL, env={}).kind == "litellm"
    assert choose_route("command-nightly", env={}).kind == "litellm"


@needs_litellm
def test_text_streams_through_litellm(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply(content="Hello there, how are you?", chunk_size=4, prompt_tokens=42))
    events = list(stream(llm))
    assert text_of(events) == "Hello there, how are you?"
    assert sum(isinstance(e, TextDelta) for e in events) > 3
    assert isinstance(events[-1], Usage) and events[-1].completion_tokens > 0
    body, headers = server.requests[0], server.request_headers[0]
    assert body["model"] == "fake-model" and body["stream"] is True
    assert body["messages"][0] == {"role": "system", "content": "sys"}
    assert headers["authorization"] == "Bearer sk-litellm-test"


@needs_litellm
def test_tool_call_runs_through_chat(server: FakeModelServer, config_dir: Path) -> None:
    interp = OpenInterpreter(load_profile=False)
    interp.llm.model, interp.llm.supports_functions, interp.auto_run = MODEL, True, True
    code = "print(6 * 7)"
    server.script(Reply.text("Computing.") + Reply.tool_call("python", code, 3), Reply.text("42."))
    try:
        new = interp.chat("what is 6*7?", display=False)
    finally:
        interp.computer.terminate()
    calls = [{k: v for k, v in m.items() if k != "call_id"} for m in new if m["type"] == "code"]
    assert calls == [{"role": "assistant", "type": "code", "format": "python", "content": code}]
    outputs = [m["content"] for m in new if m["role"] == "computer"]
    assert outputs and "42" in outputs[0]
    assert new[-1] == {"role": "assistant", "type": "message", "content": "42."}
    first, second = server.requests
    assert first["messages"][0]["role"] == "system" and "python" in first["messages"][0]["content"]
    assert first["tools"][0]["function"]["name"] == "execute"
    tool_replies = [m for m in second["messages"] if m["role"] == "tool"]
    assert tool_replies and "42" in tool_replies[0]["content"]


@needs_litellm
def test_429_waits_for_retry_after_then_succeeds(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.status(429, retry_after=1, body="slow down"), Reply.text("ok"))
    start = time.monotonic()
    events = list(stream(llm))
    waited = time.monotonic() - start
    assert 1.0 <= waited < 3.0
    assert text_of(events) == "ok" and len(server.requests) == 2


@needs_litellm
def test_server_errors_are_retried_by_us_alone(llm: Llm, server: FakeModelServer) -> None:
    llm.max_retries = 1
    server.script(*[Reply.status(500, body="boom")] * 5)
    with pytest.raises(ProviderError, match="boom") as info:
        list(stream(llm))
    assert "\n" not in str(info.value) and len(server.requests) == 2


@needs_litellm
def test_cut_stream_raises_and_nothing_is_stored(server: FakeModelServer, config_dir: Path) -> None:
    interp = OpenInterpreter(load_profile=False)
    interp.llm.model, interp.llm.supports_functions, interp.auto_run = MODEL, True, True
    reply = Reply.tool_call("python", "import os\nos.remove('x')", chunk_size=3)
    server.script(Reply.cut(reply, after_events=16), Reply.text("a retry must not happen"))
    try:
        with pytest.raises(StreamCut):
            interp.chat("delete x", display=False)
    finally:
        interp.computer.terminate()
    assert not [m for m in interp.messages if m["role"] != "user"]
    assert len(server.requests) == 1


@needs_litellm
def test_cut_stream_yields_no_end(llm: Llm, server: FakeModelServer) -> None:
    reply = Reply.tool_call("python", "print('partial')", chunk_size=2)
    server.script(Reply.cut(reply, after_events=24), Reply.text("never"))
    seen: list[Event] = []
    with pytest.raises(StreamCut, match="cut off"):
        seen.extend(stream(llm))
    assert any(isinstance(e, CodeDelta) for e in seen)
    assert not any(isinstance(e, (CodeEnd, Usage)) for e in seen)


@needs_litellm
def test_401_is_one_clear_line(llm: Llm, server: FakeModelServer) -> None:
    server.script(Reply.status(401, body="Incorrect API key provided"), Reply.text("never"))
    with pytest.raises(ProviderError, match="invalid API key") as info:
        list(stream(llm))
    message = str(info.value)
    assert "Incorrect API key provided" in message and "\n" not in message
    assert not message.startswith("litellm.") and info.value.status == 401
    assert len(server.requests) == 1


@needs_litellm
def test_command_nightly_without_a_key_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in COHERE_KEYS:
        monkeypatch.delenv(key, raising=False)
    llm = Llm()
    llm.model, llm.context_window = "command-nightly", 100_000
    with pytest.raises(NoModelConfigured, match="COHERE_API_KEY") as info:
        list(stream(llm))
    assert "\n" not in str(info.value)


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in COHERE_KEYS}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path), **extra)
    return env


@needs_litellm
def test_cli_command_nightly_without_a_key(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "interpreter", "--model", "command-nightly", "hi"],
        env=cli_env(tmp_path), stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    first = proc.stderr.splitlines()[0]  # then the CLI's general setup help
    assert first.startswith("No API key for command-nightly: set COHERE_API_KEY"), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_without_litellm_the_install_hint_is_one_line(tmp_path: Path) -> None:
    script = (
        "import sys; sys.modules['litellm'] = None\n"
        "from interpreter.llm.llm import Llm\n"
        "from interpreter.llm.errors import NoModelConfigured\n"
        "llm = Llm(); llm.model, llm.context_window = 'command-nightly', 1000\n"
        "try:\n"
        "    list(llm.stream([], system_message='s', languages=['python']))\n"
        "except NoModelConfigured as err:\n"
        "    print(err)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], env=cli_env(tmp_path), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert proc.stdout.strip().endswith('pip install "interpreter[litellm]"'), proc.stderr
    assert "Traceback" not in proc.stderr


AUDIT = """
import sys
hosts = set()
def hook(event, args):
    if event == "socket.getaddrinfo":
        hosts.add(str(args[0]))
    elif event == "socket.connect" and isinstance(args[1], tuple):
        hosts.add(str(args[1][0]))
sys.addaudithook(hook)
from interpreter.llm.llm import Llm
llm = Llm()
llm.model, llm.context_window = "hosted_vllm/meta-llama/Meta-Llama-3.1-8B-Instruct", 10_000
text = [e.text for e in llm.stream([{"role": "user", "type": "message", "content": "hi"}],
        system_message="s", languages=["python"]) if hasattr(e, "text")]
print("".join(text))
print(sorted(hosts))
"""


@needs_litellm
def test_a_litellm_call_touches_only_the_model_server(
    server: FakeModelServer, tmp_path: Path
) -> None:
    """Without our switches LiteLLM fetches a llama tokenizer from huggingface.co here."""
    server.script(Reply.text("local only"))
    env = cli_env(tmp_path)
    for name in ("LITELLM_LOCAL_MODEL_COST_MAP", "LITELLM_OFFLINE_MODE", "HF_HUB_OFFLINE"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-c", AUDIT], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    reply, hosts = proc.stdout.splitlines()
    assert reply == "local only" and hosts == "['127.0.0.1']", proc.stderr
