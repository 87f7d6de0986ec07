"""The ``computer`` object in the Python kernel and its parts (execution/kernel_api.py),
through a real kernel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from interpreter.execution.computer import Computer
from interpreter.execution.kernel_api import KernelApi

GREETER = """
def install(computer, config):
    class Greeter:
        def hello(self, name):
            return config["word"] + ", " + name
    computer.greet = Greeter()
"""


def out(computer: Computer, code: str) -> str:
    return "".join(
        str(c.get("content", ""))
        for c in computer.run("python", code)
        if c.get("format") == "output"
    )


@pytest.fixture
def kernel() -> Iterator[Computer]:
    computer = Computer()
    yield computer
    computer.terminate()


def test_computer_is_in_the_kernel_with_the_parts_offered(kernel: Computer) -> None:
    assert "<computer: no parts>" in out(kernel, "print(repr(computer))")
    kernel.add_kernel_api(KernelApi("greet", GREETER, {"word": "Hello"}))
    assert out(kernel, "print(computer.greet.hello('Ada'))").strip() == "Hello, Ada"
    assert "greet" in out(kernel, "print(repr(computer))")


def test_a_changed_part_is_installed_again_and_survives_a_restart(kernel: Computer) -> None:
    kernel.add_kernel_api(KernelApi("greet", GREETER, {"word": "Hello"}))
    assert out(kernel, "print(computer.greet.hello('a'))").strip() == "Hello, a"
    kernel.add_kernel_api(KernelApi("greet", GREETER, {"word": "Bye"}))
    assert out(kernel, "print(computer.greet.hello('b'))").strip() == "Bye, b"
    out(kernel, "computer = None")  # the user's own name now; ours comes back at a restart
    assert "restarted" in out(kernel, "import os; os._exit(1)")  # the kernel dies
    assert out(kernel, "print(computer.greet.hello('c'))").strip() == "Bye, c"


def test_a_part_needs_a_name_and_json_config() -> None:
    with pytest.raises(ValueError):
        KernelApi("not a name", GREETER)
    with pytest.raises(TypeError):
        KernelApi("x", GREETER, {"a": object()})
