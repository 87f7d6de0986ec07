"""The turn loop: model reply -> approval -> execution -> back to the model, as LMC chunks.

One ``Turn`` is one call of ``chat()``. It is a generator of framed LMC chunks; a
consumer answers a ``confirmation`` chunk with ``gen.send(decision)`` (the rules are in
core/approval.py). A turn sees its interpreter only through a :class:`TurnContext`: the
public settings, read live, and a few operations.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from ..llm.events import (
    CodeDelta,
    CodeEnd,
    CodeStart,
    Event,
    Notice,
    TextDelta,
    ToolEnd,
    ToolStart,
)
from ..lmc import (
    ApprovalCallback,
    Chunk,
    CodeMessage,
    ConsoleMessage,
    Decision,
    Message,
    Stream,
    TextMessage,
    ToolCallInfo,
)
from .approval import Approver, CodeBlock
from .framing import Framer
from .guardrails import RepeatWatch
from .offload import OutputKeeper
from .output import HeadTailBuffer
from .prompts import EMPTY_CODE, REPEATING, REPEATING_ASK, TURN_LIMIT
from .tools import ToolError

if TYPE_CHECKING:
    from ..execution.computer import Computer
    from ..llm.llm import Llm
    from .compaction import Compactor
    from .tools import Tools

__all__ = ["STOP_REASONS", "Turn", "TurnContext", "TurnSettings"]

#: How a turn ends: ``done`` (the model finished), ``declined`` (code was not approved, or
#: safe_mode refused it), ``interrupted`` (``stop()``), ``max_turns`` (the model was asked
#: ``max_turns`` times), ``budget`` (``max_budget`` reached, or a budget with no price),
#: ``repeating`` (under ``auto_run``, the same code or the same error ``max_repeats`` times
#: in a row: core/guardrails.py), ``error`` (any other failure).
STOP_REASONS = ("done", "declined", "interrupted", "max_turns", "budget", "repeating", "error")

_T = TypeVar("_T")
#: A step of the turn: yields chunks, is sent decisions, returns a ``_T``.
_Step = Generator[Chunk, "Decision | None", _T]


class TurnSettings(Protocol):
    """The parts of an interpreter a turn reads. They are read live: a change made while
    the turn runs (``auto_run`` switched off by a server client, say) applies at once."""

    @property
    def messages(self) -> list[Message]: ...
    @property
    def llm(self) -> Llm: ...
    @property
    def computer(self) -> Computer: ...
    @property
    def tools(self) -> Tools: ...
    @property
    def auto_run(self) -> bool: ...
    @property
    def safe_mode(self) -> str: ...
    @property
    def permissions(self) -> object: ...
    @property
    def approval_callback(self) -> ApprovalCallback | None: ...
    @property
    def max_output(self) -> int: ...
    @property
    def highlight_active_line(self) -> bool: ...
    @property
    def loop(self) -> bool: ...
    @property
    def loop_message(self) -> str: ...
    @property
    def loop_breakers(self) -> Sequence[str]: ...
    @property
    def max_turns(self) -> int | None: ...
    @property
    def max_repeats(self) -> int: ...
    @property
    def compaction(self) -> bool: ...
    @property
    def compact_at(self) -> float: ...
    @property
    def offload_output(self) -> bool: ...
    @property
    def offload_threshold(self) -> int | None: ...


@dataclass(frozen=True)
class TurnContext:
    """Everything a turn needs from its interpreter.

    ``stop_requested()``: ``stop()`` was called. ``model_input()``: the messages and the
    system message the model is sent. ``save()``: store the conversation.
    ``allow_always(language, code)``: remember the "always allow" rule for this session.
    ``finished(reason)``: how the turn ended, one of :data:`STOP_REASONS`.
    ``data_dir()``: the conversation's data folder (long output is kept there; None: not
    kept). ``inserted(index)``: a summary was put into ``messages`` at ``index``.
    ``checkpoint(code, language, index)``: snapshot the files before the approved code
    message at ``messages[index]`` runs (its id or None, and notices for the user:
    core/checkpoints.py).
    """

    settings: TurnSettings
    stop_requested: Callable[[], bool]
    model_input: Callable[[], tuple[list[Message], str]]
    save: Callable[[], None]
    allow_always: Callable[[str, str], object]
    finished: Callable[[str], None] = lambda reason: None
    data_dir: Callable[[], Path] | None = None
    inserted: Callable[[int], None] = lambda index: None
    checkpoint: Callable[[str, str, int], tuple[str | None, list[str]]] = (
        lambda code, language, index: (None, [])
    )


class _Draft:
    """The message being streamed into ``messages``; its content is joined once, at the end."""

    def __init__(self, message: TextMessage | CodeMessage) -> None:
        self.message = message
        self.parts: list[str] = []

    def finish(self) -> None:
        self.message["content"] = "".join(self.parts)


def _console_output(text: str) -> ConsoleMessage:
    return {"role": "computer", "type": "console", "format": "output", "content": text}


def _keep_call(message: CodeMessage, call_id: str | None, extra: dict[str, Any] | None) -> None:
    """The provider's id of the call and its own fields of it, sent back with the call."""
    if call_id:
        message["call_id"] = call_id
    if extra:
        message["extra"] = extra


def _emit(chunks: Iterable[Chunk]) -> Iterator[Chunk]:
    # A plain loop (not ``yield from`` a list) so a stray send() cannot break the stream.
    for chunk in chunks:  # noqa: UP028
        yield chunk


class Turn:
    def __init__(self, context: TurnContext) -> None:
        self.context = context
        self.settings = context.settings
        self.framer = Framer()
        self.approver = Approver(self.settings, context.allow_always)
        self.repeats = RepeatWatch(self.settings.max_repeats)
        self._ask_next: str | None = None  # why the next code is asked about, whatever rules say
        self._compaction_failed = False

    def run(self) -> Stream:
        self.settings.llm.usage.start_turn()
        reason = "error"
        try:
            reason = yield from self._loop()
        except BaseException as err:
            from ..llm.errors import BudgetExceeded

            reason = "budget" if isinstance(err, BudgetExceeded) else "error"
            raise
        finally:
            self.context.save()
            self.context.finished(reason)
        yield from _emit(self.framer.close())

    def _loop(self) -> _Step[str]:
        """Model replies and code runs until the task ends; returns the stop reason."""
        stopped = self.context.stop_requested
        replies = 0
        while not stopped():
            limit = self.settings.max_turns
            if limit is not None and replies >= limit:
                yield from self._notice(TURN_LIMIT.format(limit=limit))
                return "max_turns"
            yield from self._compact_if_due()
            if stopped():
                break
            blocks = yield from self._model_reply()
            replies += 1
            if stopped():
                break
            if not blocks:
                if not self._loop_again():
                    return "done"
                continue
            reason = yield from self._run_blocks(blocks)
            if reason is not None:
                return reason
        return "interrupted"

    # -- the context window ------------------------------------------------------------

    def _compactor(self) -> Compactor:
        from .compaction import Compactor

        context = self.context
        return Compactor(
            self.settings,
            context.model_input,
            context.save,
            context.inserted,
            stopped=context.stop_requested,
        )

    def _compact_if_due(self) -> Stream:
        """Summarise the older messages when the next request would fill the window past
        ``compact_at`` (once per turn after a failure: then older messages are trimmed)."""
        from ..llm.errors import ModelError

        if self._compaction_failed or not self.settings.compaction:
            return
        compactor = self._compactor()
        try:
            due = compactor.due()
        except ModelError:  # cannot tell (no tokenizer, no model): the request will say
            return
        if due is None:
            return
        yield from self._notice(f"The context window is {due.share:.0%} full: summarising.")
        result = compactor.compact()
        self._compaction_failed = result.error is not None
        yield from self._notice(result.describe())

    # -- the model's reply -------------------------------------------------------------

    def _model_reply(self) -> _Step[list[CodeBlock]]:
        interp = self.settings
        mark = len(interp.messages)
        messages, system_message = self.context.model_input()
        events = interp.llm.stream(
            messages,
            system_message=system_message,
            languages=interp.computer.language_names(),
            tools=interp.tools.schemas(),
        )
        blocks: list[CodeBlock] = []
        draft: _Draft | None = None
        try:
            for event in events:
                if self.context.stop_requested():
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
        self.context.save()
        return blocks

    def _on_event(
        self, event: Event, draft: _Draft | None, blocks: list[CodeBlock]
    ) -> _Step[_Draft | None]:
        if isinstance(event, TextDelta):
            draft = self._draft(draft, "message", None)
            chunk: Chunk = {"role": "assistant", "type": "message", "content": event.text}
        elif isinstance(event, CodeStart):
            if draft is not None:
                draft.finish()
            yield from _emit(self.framer.close())  # a new block, even in the same language
            return self._new_draft("code", event.language)
        elif isinstance(event, CodeDelta):
            draft = self._draft(draft, "code", None)
            chunk = {"role": "assistant", "type": "code", "format": draft.message["format"]}
            chunk["content"] = event.text
        elif isinstance(event, CodeEnd):
            self._end_code(event, draft, blocks)
            return None
        elif isinstance(event, ToolStart | ToolEnd):
            if draft is not None:
                draft.finish()
            if isinstance(event, ToolEnd):
                blocks.append((yield from self._end_tool(event)))
            return None
        elif isinstance(event, Notice):
            yield from self._notice(event.text)
            return draft
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

    def _new_draft(self, kind: str, language: str) -> _Draft:
        message: TextMessage | CodeMessage
        if kind == "code":
            message = {"role": "assistant", "type": "code", "content": "", "format": language}
        else:
            message = {"role": "assistant", "type": "message", "content": ""}
        self.settings.messages.append(message)
        return _Draft(message)

    def _end_code(self, event: CodeEnd, draft: _Draft | None, blocks: list[CodeBlock]) -> None:
        if draft is None or draft.message["type"] != "code":
            if draft is not None:
                draft.finish()
            draft = self._new_draft("code", event.language)
        draft.finish()
        message = draft.message
        if message["type"] == "code":  # always: the draft is a code draft by now
            message["format"] = event.language or message["format"]
            message["content"] = event.code  # the authoritative parse is what is shown and run
            _keep_call(message, event.call_id, event.extra)
            blocks.append(CodeBlock(message, message["format"], event.code, event.error))

    def _end_tool(self, event: ToolEnd) -> _Step[CodeBlock]:
        """A call of another tool: stored and shown as its view's code (core/tools.py)."""
        tool = self.settings.tools.get(event.name)
        error, view = event.error, None
        if error is None and tool is not None:
            try:
                view = tool.view(event.arguments or {})
            except ToolError as err:
                error = str(err)
        language, code = (view.format, view.content) if view else ("json", event.raw)
        info: ToolCallInfo = {"name": event.name, "arguments": event.arguments or {}}
        message: CodeMessage = {
            "role": "assistant",
            "type": "code",
            "format": language,
            "content": code,
            "tool": info,
        }
        _keep_call(message, event.call_id, event.extra)
        self.settings.messages.append(message)
        shown: Chunk = {"role": "assistant", "type": "code", "format": language, "content": code}
        yield from _emit([*self.framer.close(), *self.framer.push(shown), *self.framer.close()])
        return CodeBlock(message, language, code, error, tool=info, view=view)

    # -- running the code --------------------------------------------------------------

    def _run_blocks(self, blocks: list[CodeBlock]) -> _Step[str | None]:
        """Runs the blocks; None to go on, else why the turn stops."""
        stopped = self.context.stop_requested
        for block in blocks:
            problem = self._problem(block)
            if problem is not None:
                yield from self._record(problem)
                continue
            decision, refusal = yield from self._approve(block)
            if decision is None:
                yield from self._record(refusal)
                return "interrupted" if stopped() else "declined"
            if block.tool is not None and decision != block.code:
                problem = self._edited_call(block)  # it runs as the code it now is
                if problem is not None:
                    yield from self._record(problem)
                    continue
            block.message["content"] = decision
            yield from self._checkpoint(block, decision)
            number = self._code_number(block.message)
            output = yield from self._execute(block, decision, number)
            if stopped():
                return "interrupted"
            if (yield from self._repeating(block.language, decision, output)):
                return "repeating"
        return None

    def _checkpoint(self, block: CodeBlock, code: str) -> Stream:
        """The files as they are, kept before ``code`` runs (so %undo can put them back)."""
        messages = self.settings.messages
        index = next((i for i, m in enumerate(messages) if m is block.message), len(messages))
        _checkpoint, notices = self.context.checkpoint(code, block.language, index)
        for text in notices:
            yield from self._notice(text + "\n")

    def _repeating(self, language: str, code: str, output: str) -> _Step[bool]:
        """Whether the turn stops because the model goes round in circles (auto_run);
        without auto_run the next code is asked about instead."""
        repeat = self.repeats.record(language, code, output)
        if repeat is None:
            return False
        if self.settings.auto_run:
            yield from self._notice(REPEATING.format(what=repeat))
            return True
        self._ask_next = repeat
        return False

    def _edited_call(self, block: CodeBlock) -> str | None:
        """A tool call whose code the user edited becomes that code (or cannot run)."""
        if self.settings.computer.get_language(block.language) is None:
            return f"Error: the edited {block.language} cannot run as code; nothing ran."
        block.message.pop("tool", None)
        block.tool = block.view = None
        return None

    def _problem(self, block: CodeBlock) -> str | None:
        if block.error:
            return f"Error: {block.error}"
        if block.tool is not None:
            return None  # checked by the tool's view
        if self.settings.computer.get_language(block.language) is None:
            names = ", ".join(self.settings.computer.language_names())
            return f"Error: language {block.language!r} is not supported; use one of: {names}."
        if not block.code.strip():
            return EMPTY_CODE
        return None

    def _approve(self, block: CodeBlock) -> _Step[tuple[str | None, str]]:
        """The code to run (as shown, or as the user edited it), or None and why not
        (core/approval.py). After a repeat the next code is asked about, whatever rules say."""
        ask_why, self._ask_next = self._ask_next, None
        verdict = self.approver.check(block, must_ask=ask_why is not None)
        if verdict.ask is None:
            return verdict.code, verdict.refusal
        if ask_why is not None:
            self.repeats.forgive()
            yield from self._notice(REPEATING_ASK.format(what=ask_why))
        yield from _emit(self.framer.close())
        confirmation: Chunk = {"role": "computer", "type": "confirmation", "format": "execution"}
        confirmation["content"] = verdict.ask
        answer = yield confirmation
        return self.approver.answer(block, answer)

    def _execute(self, block: CodeBlock, code: str, number: int = 0) -> _Step[str]:
        """Runs exactly what was approved (``_approve``'s result), nothing else: the code,
        or the tool call it stands for; returns the output as the model sees it.
        ``number``: the code block's number in the conversation (long output is kept as
        ``out-<number>.txt``)."""
        interp = self.settings
        output = HeadTailBuffer(interp.max_output)
        keeper = self._output_keeper(number)
        rich: list[Message] = []
        try:
            yield from self._stream_run(block, code, output, keeper, rich)
        except BaseException:
            if keeper is not None:
                keeper.abandon()
            raise
        text = self._kept_output(block.language, keeper) or output.text()
        interp.messages.append(_console_output(text))
        interp.messages.extend(rich)
        self.context.save()
        return text

    def _stream_run(
        self,
        block: CodeBlock,
        code: str,
        output: HeadTailBuffer,
        keeper: OutputKeeper | None,
        rich: list[Message],
    ) -> Stream:
        interp = self.settings
        for chunk in self._carry_out(block, code):
            kind, fmt = chunk.get("type"), chunk.get("format")
            if kind == "console" and fmt == "output":
                text = str(chunk.get("content", ""))
                output.add(text)
                if keeper is not None:
                    keeper.add(text)
            elif kind == "console" and fmt == "active_line":
                if not interp.highlight_active_line:
                    continue
            else:
                stored = {k: v for k, v in chunk.items() if k not in ("start", "end")}
                rich.append(
                    cast(Message, stored)
                )  # an image or rich output, as the computer sent it
            yield from _emit(self.framer.push(chunk))

    # -- long output -------------------------------------------------------------------

    def _code_number(self, message: CodeMessage) -> int:
        """1 for the conversation's first code block, 2 for the next, ..."""
        number = 0
        for m in self.settings.messages:
            if m["role"] == "assistant" and m["type"] == "code":
                number += 1
                if m is message:
                    break
        return number

    def _output_keeper(self, number: int) -> OutputKeeper | None:
        """Keeps this run's output whole in the data folder once it is long (offload)."""
        interp, folder = self.settings, self.context.data_dir
        if not interp.offload_output or folder is None:
            return None
        threshold = interp.offload_threshold
        threshold = interp.max_output if threshold is None else threshold
        return OutputKeeper(
            threshold=threshold, limit=interp.max_output, folder=folder, index=number
        )

    def _kept_output(self, language: str, keeper: OutputKeeper | None) -> str | None:
        """What the model sees of an output kept in a file: its start, where it all is
        (also ``_out[n]`` in a Python kernel), its end. None when it was not kept."""
        kept = keeper.finish() if keeper is not None else None
        if kept is None or keeper is None:
            return None
        variable = self.settings.computer.keep_output(language, keeper.index, kept.path)
        return kept.for_model(self.settings.max_output, variable)

    def _carry_out(self, block: CodeBlock, code: str) -> Iterator[Chunk]:
        if block.tool is None:
            yield from self.settings.computer.stream(block.language, code)
            return
        tool = self.settings.tools.get(block.tool["name"])
        try:
            if tool is None:
                raise ToolError(f"the tool {block.tool['name']!r} is gone; nothing ran")
            yield from tool.run(block.tool["arguments"])
        except ToolError as err:
            yield {"role": "computer", "type": "console", "format": "output", "content": str(err)}

    def _record(self, text: str) -> Stream:
        """Tells the model (and the user) why a block did not run."""
        chunk: Chunk = {"role": "computer", "type": "console", "format": "output", "content": text}
        self.settings.messages.append(_console_output(text))
        yield from _emit(self.framer.push(chunk))
        self.context.save()

    def _notice(self, text: str) -> Stream:
        """Tells the user (not the model) something about the turn; nothing is stored."""
        chunk: Chunk = {"role": "computer", "type": "console", "format": "output"}
        chunk["content"], chunk["recipient"] = text, "user"
        yield from _emit(self.framer.push(chunk))

    # -- loop mode ---------------------------------------------------------------------

    def _loop_again(self) -> bool:
        interp = self.settings
        if not interp.loop:
            return False
        last = next((m for m in reversed(interp.messages) if m["role"] == "assistant"), None)
        text = str(last.get("content", "")) if last and last["type"] == "message" else ""
        if any(breaker in text for breaker in interp.loop_breakers):
            return False
        interp.messages.append({"role": "user", "type": "message", "content": interp.loop_message})
        return True
