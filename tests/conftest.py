"""Test isolation: every test session gets its own config dir; nothing touches the network."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="interpreter-tests-"))
os.environ["XDG_CONFIG_HOME"] = str(_SESSION_DIR / "config")
os.environ["IPYTHONDIR"] = str(_SESSION_DIR / "ipython")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
for _key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "INTERPRETER_API_KEY"):
    os.environ.pop(_key, None)


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh, empty config dir for one test."""
    path = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(path))
    yield path / "open-interpreter"
