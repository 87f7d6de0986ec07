"""Magic commands on a real interpreter (no model needed), and the notebook/Markdown export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from interpreter import OpenInterpreter
from interpreter.terminal.export import to_markdown, to_notebook
from interpreter.terminal.magic import MagicContext, is_magic, parse_magic, run_magic

CONVERSATION: list[dict[str, Any]] = [
    {"role": "user", "type": "message", "content": "first"},
    {"role": "assistant", "type": "message", "content": "Running it."},
    {"role": "assistant", "type": "code", "format": "python", "content": "print(1)"},
    {"role": "computer", "type": "console", "format": "output", "content": "1\n"},
    {"role": "user", "type": "message", "content": "second"},
    {"role": "assistant", "type": "code", "format": "shell", "content": "ls"},
]


@pytest.fixture
def ctx() -> MagicContext:
    interp = OpenInterpreter(load_profile=False)
    interp.llm.api_key = "not-used"  # counting tokens needs a configured model, not a network
    interp.messages = [dict(m) for m in CONVERSATION]
    said: list[str] = []
    shown: list[dict[str, Any]] = []
    context = MagicContext(interp, said.append, shown.append)
    context.said = said  # type: ignore[attr-defined]
    context.shown = shown  # type: ignore[attr-defined]
    return context


def test_parse() -> None:
    assert parse_magic("%tokens  how many  ") == ("tokens", "how many")
    assert parse_magic("  %%  ls -la") == ("%", "ls -la")
    assert parse_magic("%RESET") == ("reset", "")
    assert is_magic(" %help") and not is_magic("100% sure")


def test_undo_removes_the_last_user_message_and_after(ctx: MagicContext) -> None:
    run_magic(ctx, "%undo")
    assert [m["content"] for m in ctx.interp.messages][-1] == "1\n"
    assert len(ctx.interp.messages) == 4
    run_magic(ctx, "%undo")
    run_magic(ctx, "%undo")
    assert ctx.interp.messages == []
    assert ctx.said[-1] == "Nothing to undo."  # type: ignore[attr-defined]


def test_toggles(ctx: MagicContext) -> None:
    run_magic(ctx, "%verbose true")
    assert ctx.interp.verbose is True
    run_magic(ctx, "%verbose")
    assert ctx.interp.verbose is False
    run_magic(ctx, "%auto_run on")
    assert ctx.interp.auto_run is True
    run_magic(ctx, "%auto_run maybe")
    assert ctx.interp.auto_run is True
    assert "Usage" in ctx.said[-1]  # type: ignore[attr-defined]


def test_save_and_load_round_trip(ctx: MagicContext, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    run_magic(ctx, f"%save_message {path}")
    run_magic(ctx, "%reset")
    assert ctx.interp.messages == []
    run_magic(ctx, f"%load_message {path}")
    assert ctx.interp.messages == CONVERSATION
    run_magic(ctx, f"%load_message {tmp_path / 'missing.json'}")
    assert "Could not load" in ctx.said[-1]  # type: ignore[attr-defined]


def test_tokens_counts_more_with_a_prompt(ctx: MagicContext) -> None:
    run_magic(ctx, "%tokens")
    run_magic(ctx, "%tokens " + "word " * 200)
    counts = [int(line.split()[0]) for line in ctx.said]  # type: ignore[attr-defined]
    assert counts[0] > 20 and counts[1] >= counts[0] + 150


def test_unknown_command(ctx: MagicContext) -> None:
    run_magic(ctx, "%frobnicate")
    assert ctx.said == ["Unknown command %frobnicate. Type %help for the list."]  # type: ignore[attr-defined]


def test_shell_magic_streams_output_and_is_not_recorded(ctx: MagicContext) -> None:
    run_magic(ctx, "%% echo magic-$((6*7))")
    output = "".join(str(c.get("content")) for c in ctx.shown if c.get("format") == "output")  # type: ignore[attr-defined]
    assert "magic-42" in output
    assert ctx.interp.messages == CONVERSATION
    ctx.interp.computer.terminate()


def test_notebook_export_is_valid_nbformat_4() -> None:
    import nbformat

    text = to_notebook(CONVERSATION)
    nbformat.validate(nbformat.reads(text, as_version=4))
    notebook = json.loads(text)
    assert notebook["nbformat"] == 4
    kinds = [c["cell_type"] for c in notebook["cells"]]
    assert kinds == ["markdown", "markdown", "code", "markdown", "code"]
    assert "".join(notebook["cells"][0]["source"]) == "> first"
    code = notebook["cells"][2]
    assert "".join(code["source"]) == "print(1)"
    assert code["outputs"] == [{"output_type": "stream", "name": "stdout", "text": ["1\n"]}]
    assert "".join(notebook["cells"][4]["source"]) == "%%bash --no-raise-error\nls"
    assert notebook["cells"][4]["metadata"]["interpreter"]["language"] == "shell"


def test_jupyter_magic_writes_a_valid_notebook(ctx: MagicContext, here: Path) -> None:
    import nbformat

    run_magic(ctx, "%jupyter out.ipynb")
    assert "Exported the conversation to out.ipynb" in ctx.said[-1]  # type: ignore[attr-defined]
    notebook = nbformat.read(here / "out.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert [c.cell_type for c in notebook.cells][:3] == ["markdown", "markdown", "code"]


def test_markdown_export() -> None:
    text = to_markdown(CONVERSATION)
    assert text.startswith("## User\n\nfirst\n\n## Assistant\n\nRunning it.")
    assert "```python\nprint(1)\n```" in text and "```\n1\n\n```" in text
