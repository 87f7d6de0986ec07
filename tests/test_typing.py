"""The public API's static types: what mypy infers for chat() and the LMC types."""

from __future__ import annotations

from pathlib import Path

from mypy import api

SNIPPET = """
from typing import assert_type

from interpreter import OpenInterpreter, interpreter
from interpreter.lmc import CodeMessage, Decision, Message, Stream

i = OpenInterpreter()
assert_type(i.chat("x"), list[Message])
assert_type(i.chat("x", display=False), list[Message])
assert_type(i.chat(display=False), list[Message])
assert_type(interpreter.chat([{"role": "user", "content": "hi"}]), list[Message])
assert_type(i.chat(), None)
assert_type(i.chat("x", blocking=False), None)
assert_type(i.chat("x", stream=True), Stream)
assert_type(i.chat("x", False, True), Stream)
for m in i.chat("x"):
    if m["type"] == "code":
        assert_type(m, CodeMessage)
gen = i.chat("x", display=False, stream=True)
chunk = next(gen)
answer: Decision = {"always": True}
gen.send(answer)
gen.send("print('edited')")
i.messages.append({"role": "user", "type": "message", "content": "plain dicts"})
"""


def test_chat_is_typed_by_its_arguments(tmp_path: Path) -> None:
    path = tmp_path / "uses_the_api.py"
    path.write_text(SNIPPET, encoding="utf-8")
    cache = tmp_path / "cache"
    out, err, status = api.run(["--strict", "--cache-dir", str(cache), str(path)])
    assert status == 0, out + err
