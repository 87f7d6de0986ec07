"""The turn loop: model reply -> approval -> execution -> back to the model, as LMC chunks.

One ``Turn`` is one call of ``chat()``. It is a generator of framed LMC chunks; a
consumer answers a ``confirmation`` chunk with ``gen.send(decision)`` (see approval rules
in ``OpenInterpreter.chat``).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..llm.events import CodeDelta, CodeEnd, CodeStart, Event, TextDelta
from .framing import Framer
from .lmc import Chunk, Message
from .output import TailBuffer
from .permissions import allowed, remember, rules_of
from .prompts import DECLINED, EMPTY_CODE
from .safety import HASH_MISMATCH, digest, safe_mode_refusal, scan_for

if TYPE_CHECKING:
    from .interpreter import OpenInterpreter

Stream = Generator[Chunk, Any, None]


@dataclass
class CodeBlock:
    """A complete code block from the model, and the stored message it lives in."""

    message: Message
    language: str
    code: str
    error: str | None


class _Draft:
    """The message being streamed into ``messages``; its content is joined once, at the end."""

    def __init__(self, message: Message) -> None:
        self.message = message
        self.parts: list[str] = []

    def finish(self) -> None:
        self.message["content"] = "".join(self.parts)


def _emit(chunks: Iterable[Chunk]) -> Iterator[Chunk]:
    # A plain loop (not ``yield from`` a list) so a stray send() cannot break the stream.
    for chunk in chunks:  # noqa: UP028
        yield chunk


class Turn:
    def __init__(self, interp: OpenInterpreter) -> None:
        self.interp = interp
        self.framer = Framer()

    def run(self) -> Stream:
        try:
            while not self.interp._stop_requested:
                blocks = yield from self._model_reply()
                if self.interp._stop_requested:
                    break
                if not blocks:
                    if not self._loop_again():
                        break
                    continue
                if not (yield from self._run_blocks(blocks)):
                    break
        finally:
            self.interp._save_conversation()
        yield from _emit(self.framer.close())

    # -- the model's reply -------------------------------------------------------------

    def _model_reply(self) -> Generator[Chunk, Any, list[CodeBlock]]:
        interp = self.interp
        mark = len(interp.messages)
        events = interp.llm.stream(
            interp._messages_for_model(),
            system_message=interp._full_system_message(),
            languages=interp.computer.language_names(),
        )
        blocks: list[CodeBlock] = []
        draft: _Draft | None = None
        try:
            for event in events:
                if interp._stop_requested:
                    break
                draft = yield from self._on_event(event, draft, blocks)
        except BaseException as err:
            from ..llm.errors import ModelError

            if isinstance(err, ModelError):
                del interp.messages[mark:]  # a cut or failed reply is never stored
                draft = None
            raise
        finally:
            if draft is not None:
                draft.finish()
            close = getattr(events, "close", None)
            if close is not None:
                close()
        interp._save_conversation()
        return blocks

    def _on_event(
        self, event: Event, draft: _Draft | None, blocks: list[CodeBlock]
    ) -> Generator[Chunk, Any, _Draft | None]:
        if isinstance(event, TextDelta):
            draft = self._draft(draft, "message", None)
            chunk: Chunk = {"role": "assistant", "type": "message", "content": event.text}
        elif isinstance(event, CodeStart):
            if draft is not None:
                draft.finish()
            draft = self._new_draft("code", event.language)
            return draft
        elif isinstance(event, CodeDelta):
            draft = self._draft(draft, "code", None)
            chunk = {"role": "assistant", "type": "code", "format": draft.message["format"]}
            chunk["content"] = event.text
        elif isinstance(event, CodeEnd):
            self._end_code(event, draft, blocks)
            return None
        else:
            return draft
        draft.parts.append(event.text)
        yield from _emit(self.framer.push(chunk))
        return draft

    def _draft(self, draft: _Draft | None, kind: str, language: str | None) -> _Draft:
        if draft is not None and draft.message["type"] == kind:
            return draft
        if draft is not None:
            draft.finish()
        return self._new_draft(kind, language or "python")

    def _new_draft(self, kind: str, language: str | None) -> _Draft:
        message: Message = {"role": "assistant", "type": kind, "content": ""}
        if kind == "code":
            message["format"] = language
        self.interp.messages.append(message)
        return _Draft(message)

    def _end_code(self, event: CodeEnd, draft: _Draft | None, blocks: list[CodeBlock]) -> None:
        if draft is None or draft.message["type"] != "code":
            if draft is not None:
                draft.finish()
            draft = self._new_draft("code", event.language)
        draft.finish()
        message = draft.message
        message["format"] = event.language or message["format"]
        message["content"] = event.code  # the authoritative parse is what is shown and run
        blocks.append(CodeBlock(message, message["format"], event.code, event.error))

    # -- running the code --------------------------------------------------------------

    def _run_blocks(self, blocks: list[CodeBlock]) -> Generator[Chunk, Any, bool]:
        for block in blocks:
            problem = self._problem(block)
            if problem is not None:
                yield from self._record(problem)
                continue
            decision, refusal = yield from self._approve(block)
            if decision is None:
                yield from self._record(refusal)
                return False
            block.message["content"] = decision
            yield from self._execute(block.language, decision)
            if self.interp._stop_requested:
                return False
        return True

    def _problem(self, block: CodeBlock) -> str | None:
        if block.error:
            return f"Error: {block.error}"
        if self.interp.computer.get_language(block.language) is None:
            names = ", ".join(self.interp.computer.language_names())
            return f"Error: language {block.language!r} is not supported; use one of: {names}."
        if not block.code.strip():
            return EMPTY_CODE
        return None

    def _approve(self, block: CodeBlock) -> Generator[Chunk, Any, tuple[str | None, str]]:
        """The code to run (as shown, or as the user edited it), or None and why not.

        Skips asking under ``auto_run`` or a matching permission rule, unless safe_mode
        objects (``ask``: always asks; ``auto``: code with findings is refused).
        """
        interp = self.interp
        language = self._canonical(block.language)
        findings, note = scan_for(interp.safe_mode, language, block.code)
        if findings and interp.safe_mode == "auto":
            return None, safe_mode_refusal(findings)
        if interp.safe_mode != "ask" and self._preapproved(language, block.code):
            return block.code, ""
        shown = digest(block.code)
        yield from _emit(self.framer.close())
        content: dict[str, Any] = {"type": "code", "format": block.language}
        content.update(content=block.code, hash=shown)
        if interp.safe_mode != "off":
            content.update(findings=findings, note=note)
        confirmation: Chunk = {"role": "computer", "type": "confirmation", "format": "execution"}
        confirmation["content"] = content
        answer = yield confirmation
        if answer is None and interp.approval_callback is not None:
            answer = interp.approval_callback(block.language, block.code)
        return self._decision(answer, language, block.code, shown)

    def _canonical(self, language: str) -> str:
        cls = self.interp.computer.get_language(language)
        return cls.name.lower() if cls is not None else language.lower()

    def _preapproved(self, language: str, code: str) -> bool:
        return bool(self.interp.auto_run) or allowed(
            rules_of(self.interp.permissions), language, code
        )

    def _decision(
        self, answer: Any, language: str, code: str, shown: str
    ) -> tuple[str | None, str]:
        """Reads an answer: True, edited code, or ``{"hash": ..., "always": bool}``."""
        if isinstance(answer, dict):
            if answer.get("hash", shown) != shown:
                return None, HASH_MISMATCH
            if answer.get("always"):
                remember(self.interp, language, code)
            answer = bool(answer.get("approve", True))
        if answer is True:
            return code, ""
        if isinstance(answer, str) and answer.strip():
            return answer, ""
        return None, DECLINED

    def _execute(self, language: str, code: str) -> Stream:
        """Runs exactly the string that was approved (``_approve``'s result), nothing else."""
        interp = self.interp
        output = TailBuffer(interp.max_output)
        rich: list[Message] = []
        for chunk in interp.computer.stream(language, code):
            kind, fmt = chunk.get("type"), chunk.get("format")
            if kind == "console" and fmt == "output":
                output.add(str(chunk.get("content", "")))
            elif kind == "console" and fmt == "active_line":
                if not interp.highlight_active_line:
                    continue
            else:
                rich.append({k: v for k, v in chunk.items() if k not in ("start", "end")})
            yield from _emit(self.framer.push(chunk))
        interp.messages.append(
            {"role": "computer", "type": "console", "format": "output", "content": output.text()}
        )
        interp.messages.extend(rich)
        interp._save_conversation()

    def _record(self, text: str) -> Stream:
        """Tells the model (and the user) why a block did not run."""
        chunk: Chunk = {"role": "computer", "type": "console", "format": "output", "content": text}
        self.interp.messages.append(dict(chunk))
        yield from _emit(self.framer.push(chunk))
        self.interp._save_conversation()

    # -- loop mode ---------------------------------------------------------------------

    def _loop_again(self) -> bool:
        interp = self.interp
        if not interp.loop:
            return False
        last = next((m for m in reversed(interp.messages) if m["role"] == "assistant"), None)
        text = str(last.get("content", "")) if last and last["type"] == "message" else ""
        if any(breaker in text for breaker in interp.loop_breakers):
            return False
        interp.messages.append({"role": "user", "type": "message", "content": interp.loop_message})
        return True
