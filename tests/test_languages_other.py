"""Java, HTML, React, missing runtimes and user-registered languages, end to end."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from helpers import make_interpreter, text, tool_messages
from interpreter.execution.base import Language
from interpreter.execution.computer import Computer
from interpreter.execution.languages.output import output
from interpreter.execution.languages.repl import ReplLanguage
from interpreter.lmc import Chunk
from interpreter.testing.fake_server import FakeModelServer, Reply

pytestmark = pytest.mark.deadline(30)

ALL = ["python", "shell", "javascript", "r", "ruby", "java", "html", "react", "powershell",
       "applescript"]  # fmt: skip


@pytest.fixture
def computer() -> Iterator[Computer]:
    c = Computer()
    yield c
    c.terminate()


def test_every_043_language_is_on_offer_with_its_aliases(computer: Computer) -> None:
    assert computer.language_names() == ALL
    aliases = {"js": "javascript", "node": "javascript", "R": "r", "rb": "ruby",
               "pwsh": "powershell", "JAVA": "java", "AppleScript": "applescript"}  # fmt: skip
    for alias, name in aliases.items():
        cls = computer.get_language(alias)
        assert cls is not None and cls.name.lower() == name


needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="java is not installed")


@needs_java
def test_java_bare_statements_with_imports(computer: Computer) -> None:
    code = "import java.util.*;\nList<Integer> xs = List.of(1, 2);\nSystem.out.println(xs.size());"
    code += '\nSystem.err.println("to stderr");'
    assert text(computer.run("java", code)) == "2\nto stderr\n"


@needs_java
def test_java_full_class_and_compile_error(computer: Computer) -> None:
    program = 'class Hello { public static void main(String[] a) { System.out.println("hi"); } }'
    assert text(computer.run("java", program)) == "hi\n"
    assert "error" in text(computer.run("java", "int x = ;"))


@needs_java
def test_java_interrupt(computer: Computer) -> None:
    threading.Timer(1.5, computer.interrupt).start()
    started = time.monotonic()
    chunks = list(computer.stream("java", "while (true) {}"))
    assert time.monotonic() - started < 8
    assert chunks[-1] == {"role": "computer", "type": "console", "format": "active_line",
                          "content": None}  # fmt: skip


def test_html_is_saved_and_shown(computer: Computer) -> None:
    page = "<h1>Hello ü</h1>"
    chunks = computer.run("html", page)
    assert {"role": "computer", "type": "code", "format": "html", "content": page} in chunks
    line = text(chunks)
    path = Path(line.split(" saved to ", 1)[1].split(" (open", 1)[0])
    assert path.suffix == ".html" and path.read_text(encoding="utf-8") == page
    path.unlink()


def test_react_page_and_unsupported_imports(computer: Computer) -> None:
    component = "ReactDOM.render(<b>hi</b>, document.getElementById('root'));"
    chunks = computer.run("react", component)
    html = next(c["content"] for c in chunks if c["type"] == "code")
    assert component in html and "react-dom" in html and "babel" in html
    path = Path(text(chunks).split(" saved to ", 1)[1].split(" (open", 1)[0])
    assert path.read_text(encoding="utf-8") == html
    path.unlink()
    out = text(computer.run("react", "import React from 'react';"))
    assert out.startswith("Error:") and "import" in out


class Missing(ReplLanguage):
    """A REPL whose runtime does not exist."""

    name: ClassVar[str] = "Missing"
    executable: ClassVar[str] = "no-such-runtime-xyz"
    install_hint: ClassVar[str] = "Install it from example.org."

    def argv(self) -> list[str]:
        return [self.executable]


def test_missing_runtime_is_one_clear_line(computer: Computer) -> None:
    computer.languages.append(Missing)
    started = time.monotonic()
    out = text(computer.run("missing", "anything"))
    assert out == "no-such-runtime-xyz is not installed. Install it from example.org.\n"
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("language", "binary"),
    [("javascript", "node"), ("ruby", "ruby"), ("r", "Rscript"), ("java", "java"),
     ("powershell", "pwsh"), ("applescript", "osascript")],
)  # fmt: skip
def test_empty_path_says_not_installed(
    computer: Computer, monkeypatch: pytest.MonkeyPatch, language: str, binary: str
) -> None:
    monkeypatch.setenv("PATH", "")
    chunks = list(computer.stream(language, "1"))
    out = text(chunks)
    assert out.startswith(f"{binary} is not installed.") and out.count("\n") == 1
    assert chunks[-1]["content"] is None


def test_powershell_when_absent() -> None:
    if shutil.which("pwsh") is not None:
        pytest.skip("pwsh is installed")
    c = Computer()
    assert text(c.run("pwsh", "Write-Output 1")).startswith("pwsh is not installed.")


class Upper(Language):
    """A user's language: prints the code upper-cased."""

    name: ClassVar[str] = "Upper"
    aliases: ClassVar[tuple[str, ...]] = ("shout",)

    def run(self, code: str) -> Iterator[Chunk]:
        yield output(code.upper() + "\n")

    def interrupt(self) -> None:
        pass

    def terminate(self) -> None:
        pass


def test_user_language_reaches_the_model_and_runs() -> None:
    with FakeModelServer() as server:
        server.script(Reply.tool_call("upper", "hello"), Reply.text("done"))
        interp = make_interpreter(server, auto_run=True)
        interp.computer.languages.append(Upper)
        assert "upper" in interp.computer.language_names()
        interp.chat("go", display=False)
        first = server.requests[0]
        enum = first["tools"][0]["function"]["parameters"]["properties"]["language"]["enum"]
        assert enum == [*ALL, "upper"]
        system = first["messages"][0]
        assert system["role"] == "system" and "upper" in system["content"]
        assert tool_messages(server.requests[1])[0]["content"].strip() == "HELLO"
        interp.computer.terminate()


def test_env_protocol_fd_is_not_stdin(computer: Computer) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    fd = text(computer.run("js", "process.env.INTERPRETER_PROTOCOL_FD"))
    assert fd.strip().strip("'").isdigit() and fd.strip().strip("'") != "0"
    assert os.environ.get("INTERPRETER_PROTOCOL_FD") is None
