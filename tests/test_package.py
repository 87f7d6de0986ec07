"""The public surface and the cost of importing it."""

from __future__ import annotations

import json
import subprocess
import sys

import interpreter

HEAVY = [
    "jupyter_client",
    "ipykernel",
    "httpx",
    "rich",
    "prompt_toolkit",
    "litellm",
    "tiktoken",
    "fastapi",
    "uvicorn",
    "openai",
    "anthropic",
]


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_public_surface() -> None:
    assert sorted(interpreter.__all__) == [
        "OpenInterpreter",
        "__version__",
        "computer",
        "interpreter",
    ]
    from interpreter import OpenInterpreter
    from interpreter import interpreter as default

    assert isinstance(default, OpenInterpreter)
    assert interpreter.computer is default.computer


def test_import_is_cheap_and_loads_nothing_heavy() -> None:
    code = (
        "import sys, time, json; t = time.perf_counter(); import interpreter; "
        "from interpreter import interpreter as i, OpenInterpreter; "
        "d = time.perf_counter() - t; "
        f"print(json.dumps([d, [m for m in {HEAVY!r} if m in sys.modules]]))"
    )
    timings = []
    for _ in range(3):
        seconds, loaded = json.loads(_run(code))
        assert loaded == []
        timings.append(seconds)
    print(f"import + default instance: best {min(timings) * 1000:.1f} ms")
    assert min(timings) < 0.15


def test_default_instance_starts_no_process() -> None:
    out = _run(
        "import os, multiprocessing; from interpreter import interpreter; "
        "print(len(os.listdir('/proc/self/task')), len(multiprocessing.active_children()))"
    )
    threads, children = map(int, out.split())
    assert threads == 1 and children == 0
