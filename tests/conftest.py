"""Test isolation: every test session gets its own config dir; nothing touches the network.

Also the fixtures several test files share: a per-test deadline, a fake model server, a
module-wide computer, and real API servers on loopback.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from interpreter.execution.computer import Computer
    from interpreter.llm.llm import Llm
    from interpreter.testing.fake_server import FakeModelServer
    from server_helpers import Start

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="interpreter-tests-"))
os.environ["XDG_CONFIG_HOME"] = str(_SESSION_DIR / "config")
os.environ["XDG_DATA_HOME"] = str(_SESSION_DIR / "data")
os.environ["IPYTHONDIR"] = str(_SESSION_DIR / "ipython")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
for _key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "INTERPRETER_API_KEY"):
    os.environ.pop(_key, None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "deadline(seconds): fail the test with TimeoutError after this many seconds"
    )


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh, empty config dir for one test."""
    path = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(path))
    yield path / "open-interpreter"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh temp dir that is the working directory for one test."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def deadline(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test marked ``deadline(seconds)`` that hangs instead of hanging the suite."""
    marker = request.node.get_closest_marker("deadline")
    if marker is None:
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError("test took too long")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(marker.args[0])
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def server() -> Iterator[FakeModelServer]:
    """A fresh fake model server on loopback for one test."""
    from interpreter.testing.fake_server import FakeModelServer

    with FakeModelServer() as srv:
        yield srv


@pytest.fixture
def model() -> Iterator[FakeModelServer]:
    """A fresh fake model server on loopback for one test (the name the server tests use)."""
    from interpreter.testing.fake_server import FakeModelServer

    with FakeModelServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def computer() -> Iterator[Computer]:
    """One real computer shared by the tests of a module; terminated after the last."""
    from interpreter.execution.computer import Computer

    c = Computer()
    yield c
    c.terminate()


@pytest.fixture
def start(
    request: pytest.FixtureRequest, model: FakeModelServer, config_dir: Path
) -> Iterator[Start]:
    """Starts real API servers for one test, guarded by the test module's ``TOKEN``."""
    from server_helpers import running_servers

    with running_servers(model, request.module.TOKEN) as start:
        yield start


@pytest.fixture
def llm(server: FakeModelServer) -> Iterator[Llm]:
    """A model client for ``fake-model`` on the fake server, 100k tokens of context."""
    from interpreter.llm.llm import Llm

    model = Llm()
    model.model, model.api_base, model.context_window = "fake-model", server.url, 100_000
    yield model
    model.close()
