"""Notebook export and live notebooks, through the Python API against the fake model server
and a real kernel; exported notebooks are executed again by the real nbconvert."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from helpers import make_interpreter
from interpreter import OpenInterpreter
from interpreter.store import kernel_log
from interpreter.testing.fake_server import FakeModelServer, Reply

PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.title('squares')\nplt.show()"
TABLE = "import pandas as pd\npd.DataFrame({'n': [1, 2, 3], 'square': [1, 4, 9]})"
RAISES = "print('dividing')\n1 / 0"
SHELL = "echo shell-says-$((6*7))"


@pytest.fixture
def interp(server: FakeModelServer, config_dir: Path) -> Iterator[OpenInterpreter]:
    it = make_interpreter(server, auto_run=True)
    yield it
    it.computer.terminate()


def script_analysis(server: FakeModelServer) -> None:
    server.script(
        Reply.text("A plot first.") + Reply.tool_call("python", PLOT),
        Reply.tool_call("python", TABLE),
        Reply.tool_call("python", RAISES),
        Reply.tool_call("shell", SHELL),
        Reply.text("All done: a plot, a table, an error and a shell line."),
    )


def code_cells(notebook: Any) -> list[Any]:
    return [c for c in notebook.cells if c.cell_type == "code"]


def text_outputs(cell: Any) -> list[str]:
    """What a cell printed, as text: streams joined, text/plain of results, errors."""
    texts, stream = [], ""
    for output in cell.outputs:
        if output.output_type == "stream":
            stream += output.text
            continue
        if output.output_type == "error":
            texts.append(f"{output.ename}: {output.evalue}")
        else:
            texts.append(str(output.data.get("text/plain", "")))
    return ([stream] if stream else []) + texts


def execute(path: Path, cwd: Path) -> Any:
    """Run the notebook with the real ``jupyter nbconvert --execute``; the result."""
    out = cwd / "executed.ipynb"
    done = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", str(path),
         "--output", str(out), "--ExecutePreprocessor.timeout=120"],
        capture_output=True, text=True, cwd=cwd, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return nbformat.read(out, as_version=4)


@pytest.mark.deadline(300)
def test_export_has_the_kernels_outputs_and_executes_again_the_same(
    server: FakeModelServer, interp: OpenInterpreter, here: Path
) -> None:
    script_analysis(server)
    interp.chat("Plot squares, tabulate them, divide by zero, then ask the shell.", display=False)
    path = interp.export_notebook(here / "analysis.ipynb")
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)

    kinds = [c.cell_type for c in notebook.cells]
    assert kinds == ["markdown", "markdown", "code", "code", "code", "code", "markdown"]
    assert notebook.cells[0].source.startswith("> Plot squares")
    plot, table, error, shell = code_cells(notebook)
    assert [plot.execution_count, table.execution_count, error.execution_count] == [1, 2, 3]
    image = next(o for o in plot.outputs if o.output_type == "display_data")
    assert image.data["image/png"] and "Figure" in image.data["text/plain"]
    result = next(o for o in table.outputs if o.output_type == "execute_result")
    assert "<table" in result.data["text/html"] and result.execution_count == 2
    err = next(o for o in error.outputs if o.output_type == "error")
    assert err.ename == "ZeroDivisionError" and err.traceback
    assert not any("<interpreter>" in frame for frame in err.traceback)  # our frames left out
    assert error.metadata["tags"] == ["raises-exception"]
    assert (
        shell.source.startswith("%%bash") and shell.metadata["interpreter"]["language"] == "shell"
    )
    assert text_outputs(shell) == ["shell-says-42\n"]

    again = execute(path, here)
    assert [text_outputs(c) for c in code_cells(again)] == [
        text_outputs(c) for c in code_cells(notebook)
    ]


def test_kernel_messages_are_kept_beside_the_conversation_not_in_its_messages(
    server: FakeModelServer, interp: OpenInterpreter
) -> None:
    server.script(Reply.tool_call("python", RAISES), Reply.text("It raised."))
    interp.chat("divide", display=False)
    log = interp.conversation_data_dir() / kernel_log.LOG_NAME
    runs = kernel_log.read_runs(log)
    assert [r.code for r in runs] == [RAISES] and runs[0].execution_count == 1
    assert [m["msg_type"] for m in runs[0].messages] == ["stream", "error"]
    assert log.stat().st_mode & 0o777 == 0o600
    keys = {key for message in interp.messages for key in message}
    assert keys <= {"role", "type", "format", "content", "recipient", "call_id"}  # no kernel data
    sent = json.dumps(server.requests[-1]["messages"])
    assert "execution_count" not in sent and "execute_input" not in sent


def test_resumed_conversation_exports_with_its_kept_kernel_messages(
    server: FakeModelServer, interp: OpenInterpreter, here: Path
) -> None:
    server.script(Reply.tool_call("python", "print('kept')\n40 + 2"), Reply.text("ok"))
    interp.chat("answer", display=False)
    name = interp.conversation_filename
    later = make_interpreter(server)
    later.messages = list(interp.messages)
    later.conversation_filename = name
    notebook = nbformat.read(later.export_notebook(here / "later.ipynb"), as_version=4)
    (cell,) = code_cells(notebook)
    assert cell.execution_count == 1
    assert text_outputs(cell) == ["kept\n", "42"]


def test_a_conversation_without_kernel_messages_exports_from_its_messages(here: Path) -> None:
    interp = OpenInterpreter(load_profile=False)
    interp.messages = [
        {"role": "user", "type": "message", "content": "an old 0.4.3 conversation"},
        {"role": "assistant", "type": "code", "format": "python", "content": "print(1)"},
        {"role": "computer", "type": "console", "format": "output", "content": "1\n"},
        {"role": "computer", "type": "image", "format": "base64.png", "content": "iVBORw0KGgo="},
        {"role": "assistant", "type": "code", "format": "python", "content": "1/0"},
        {"role": "computer", "type": "console", "format": "output",
         "content": "Traceback (most recent call last):\nZeroDivisionError: division by zero\n"},
        {"role": "assistant", "type": "code", "format": "bash", "content": "rm -rf /"},
        {"role": "computer", "type": "console", "format": "output",
         "content": "The user declined to run this code."},
        {"role": "assistant", "type": "code", "format": "java", "content": "class A {}"},
    ]  # fmt: skip
    notebook = nbformat.read(interp.export_notebook(here / "old.ipynb"), as_version=4)
    nbformat.validate(notebook)
    printed, raised, declined, java = code_cells(notebook)
    assert printed.execution_count is None and text_outputs(printed) == ["1\n", "<image>"]
    assert printed.outputs[1].data["image/png"] == "iVBORw0KGgo="
    assert raised.metadata["tags"] == ["raises-exception"]
    assert declined.metadata["tags"] == ["skip-execution"]
    assert "declined" in declined.metadata["interpreter"]["not_run"]
    assert java.metadata["tags"] == ["skip-execution"]
    assert java.metadata["interpreter"]["language"] == "java"


def test_kernel_log_survives_a_torn_line_and_caps_what_it_keeps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "conversation"
    folder.mkdir()
    (folder / kernel_log.LOG_NAME).write_text('{"code": "x = 1", "messages": []}\n{"code": "tor')
    monkeypatch.setattr(kernel_log, "RUN_CAP_BYTES", 200)
    log = kernel_log.KernelLog(folder)
    assert [r.code for r in log.runs()] == ["x = 1"]
    log.observe({"msg_type": "execute_input", "content": {"code": "y", "execution_count": 5}})
    for n in range(20):
        log.observe({"msg_type": "stream", "content": {"name": "stdout", "text": f"line {n}\n"}})
    log.observe({"msg_type": "status", "content": {"execution_state": "idle"}})
    (old, new) = kernel_log.read_runs(folder / kernel_log.LOG_NAME)
    assert old.code == "x = 1" and new.code == "y" and new.execution_count == 5
    assert 0 < len(new.messages) < 20 and new.dropped == 20 - len(new.messages)
    assert new.ended == "idle"


def test_live_notebook_is_written_after_every_step(
    server: FakeModelServer, interp: OpenInterpreter, here: Path
) -> None:
    path = here / "live.ipynb"
    seen: list[list[str]] = []

    def approve(language: str, code: str) -> bool:
        notebook = nbformat.read(path, as_version=4)  # the file as JupyterLab would read it
        seen.append([c.source for c in notebook.cells])
        return True

    interp.auto_run, interp.approval_callback = False, approve
    server.script(Reply.tool_call("python", "print('live')"), Reply.text("Printed."))
    interp.open_notebook(path)
    assert nbformat.read(path, as_version=4).cells == []
    interp.chat("print live", display=False)
    assert seen == [["> print live", "print('live')"]]  # the code is there before it runs
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert [c.source for c in notebook.cells][-1] == "Printed."
    (cell,) = code_cells(notebook)
    assert text_outputs(cell) == ["live\n"] and cell.execution_count == 1
    assert not [p for p in here.iterdir() if p.name.endswith(".tmp")]


def test_an_existing_notebook_resumes_with_its_cells_as_context(
    server: FakeModelServer, interp: OpenInterpreter, here: Path
) -> None:
    path = here / "analysis.ipynb"
    theirs = nbformat.v4.new_notebook()
    theirs.cells = [
        nbformat.v4.new_markdown_cell("Sales are in sales.csv."),
        nbformat.v4.new_code_cell(
            "total = 1234\ntotal",
            execution_count=1,
            outputs=[
                nbformat.v4.new_output("execute_result", {"text/plain": "1234"}, execution_count=1)
            ],
        ),  # fmt: skip
        nbformat.v4.new_code_cell("%%bash\nwc -l sales.csv"),
    ]
    nbformat.write(theirs, path)
    server.script(Reply.text("The total was 1234."))
    interp.open_notebook(path)
    assert [(m["role"], m["type"]) for m in interp.messages] == [
        ("user", "message"), ("assistant", "code"), ("computer", "console"),
        ("assistant", "code"), ("computer", "console"),
    ]  # fmt: skip
    assert interp.messages[3]["format"] == "shell"
    assert interp.messages[3]["content"] == "wc -l sales.csv"
    interp.chat("What was the total?", display=False)
    sent = server.requests[0]["messages"]
    assert "Sales are in sales.csv." in json.dumps(sent) and "total = 1234" in json.dumps(sent)
    assert [m["content"] for m in sent if m["role"] == "tool"] == ["1234", "No output"]
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[:3] == theirs.cells  # their cells stay as they were
    assert [c.source for c in notebook.cells[3:]] == [
        "> What was the total?",
        "The total was 1234.",
    ]
    assert len({c.id for c in notebook.cells}) == len(notebook.cells)


def test_without_conversation_history_kernel_messages_stay_in_memory(
    server: FakeModelServer, interp: OpenInterpreter, here: Path
) -> None:
    interp.conversation_history = False
    server.script(Reply.tool_call("python", "21 * 2"), Reply.text("42"))
    interp.chat("multiply", display=False)
    assert not interp.conversation_data_dir().exists()
    (cell,) = code_cells(nbformat.read(interp.export_notebook(here / "m.ipynb"), as_version=4))
    assert cell.execution_count == 1 and text_outputs(cell) == ["42"]
    interp.reset()  # a new conversation starts without the old runs
    interp.messages = [
        {"role": "assistant", "type": "code", "format": "python", "content": "21 * 2"}
    ]
    (cell,) = code_cells(nbformat.read(interp.export_notebook(here / "n.ipynb"), as_version=4))
    assert cell.execution_count is None
