"""Summaries of the older part of a conversation, so that long tasks never run out of room.

When a request would fill more than ``compact_at`` (default 80%) of the context window,
or on ``%compact`` / ``interpreter.compact()``, the messages before the recent part are
summarised by the same model in a separate request (``Llm.summarize``: checked against
``max_budget``, recorded in ``usage``). The summary is stored as a message of its own,
placed where the recent part starts; the model is sent the conversation from the latest
summary on (``from_latest_summary``). The originals stay in ``messages`` and in the
saved conversation. A request that fails, is refused or is cut off changes nothing: the
turn goes on, and older messages are left out (``llm/context.py``) instead.

The summary message (see :func:`summary_message`) is a plain LMC message, so that Open
Interpreter 0.4.3 loads a conversation holding one (its converter raises on unknown
message types): ``{"role": "user", "type": "message", "recipient": "assistant",
"summary": true, "content": "[Summary of the earlier conversation ...]\\n\\n..."}``.
``role`` user because every provider accepts a user message anywhere (a system message
mid-conversation is refused by some); ``recipient`` assistant says it is meant for the
model (0.4.3 sends such messages, and skips only those for the user); ``summary`` is the
key 0.4.3 ignores and we look for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..lmc import Message, TextMessage

if TYPE_CHECKING:
    from ..execution.computer import Computer
    from ..llm.llm import ContextUse, Llm
    from .tools import Tools

__all__ = [
    "CompactionResult",
    "Compactor",
    "from_latest_summary",
    "is_summary",
    "latest_summary",
    "summary_message",
]

SUMMARY_HEADER = "[Summary of the earlier conversation, written to save space:]\n\n"
INSTRUCTION = (
    "Summarise our conversation so far, for yourself, so that you can carry on from the "
    "summary alone: what the user asked for (the latest request in their own words), what "
    "was done and found (files, paths, names, values, commands that worked), errors and how "
    "they were solved, decisions made, and what is left to do. Be brief, but keep every "
    "detail needed to go on. Do not run any code: answer with the summary only."
)
KEEP_SHARE = 0.35
"""The recent part kept as it is: at most this share of the room, when it can be."""
MIN_SUMMARISED = 2


def is_summary(message: Message) -> bool:
    """Whether ``message`` is a summary of the messages before it."""
    return message.get("type") == "message" and message.get("summary") is True


def latest_summary(messages: Sequence[Message]) -> int | None:
    """The index of the latest summary, or None."""
    for i in range(len(messages) - 1, -1, -1):
        if is_summary(messages[i]):
            return i
    return None


def from_latest_summary(messages: list[Message]) -> list[Message]:
    """What the model is sent of ``messages``: everything from the latest summary on."""
    start = latest_summary(messages)
    return messages if start is None else messages[start:]


def summary_message(text: str) -> TextMessage:
    """The stored form of a summary (see the module docstring for why this shape)."""
    return {
        "role": "user",
        "type": "message",
        "recipient": "assistant",
        "summary": True,
        "content": SUMMARY_HEADER + text.strip(),
    }


@dataclass(frozen=True)
class CompactionResult:
    """What a compaction did: ``summarized`` messages now stand behind a summary (0:
    none), with the request taking ``before`` then ``after`` tokens; or why not."""

    summarized: int = 0
    before: int = 0
    after: int = 0
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.summarized > 0 and self.error is None

    def describe(self) -> str:
        """One line for the user."""
        if self.done:
            return (
                f"Summarised {self.summarized} earlier messages to make room in the context "
                f"window ({self.before:,} -> {self.after:,} tokens); they stay in the saved "
                "conversation."
            )
        if self.error is None:
            return "Nothing to summarise yet."
        return (
            f"Could not summarise the earlier messages ({self.error}); the conversation is "
            "unchanged, and older messages are left out of requests when they do not fit."
        )


class CompactionSettings(Protocol):
    """What compaction reads of an interpreter (live)."""

    @property
    def messages(self) -> list[Message]: ...
    @property
    def llm(self) -> Llm: ...
    @property
    def computer(self) -> Computer: ...
    @property
    def compaction(self) -> bool: ...
    @property
    def compact_at(self) -> float: ...
    @property
    def tools(self) -> Tools: ...


class Compactor:
    """Summarises the older messages of one interpreter's conversation.

    ``model_input()`` gives what a request would send (messages, system message);
    ``save()`` stores the conversation; ``inserted(index)`` is told where a summary went;
    ``stopped()`` ends the summary request early (``stop()``), changing nothing.
    """

    def __init__(
        self,
        settings: CompactionSettings,
        model_input: Callable[[], tuple[list[Message], str]],
        save: Callable[[], None],
        inserted: Callable[[int], None] = lambda index: None,
        *,
        stopped: Callable[[], bool] = lambda: False,
    ) -> None:
        self.settings = settings
        self.model_input = model_input
        self.save = save
        self.inserted = inserted
        self.stopped = stopped

    def threshold(self) -> float:
        return min(max(float(self.settings.compact_at), 0.1), 1.0)

    def due(self) -> ContextUse | None:
        """How full the next request is, when compaction is on and it is past the mark."""
        if not self.settings.compaction:
            return None
        messages, system = self.model_input()
        use = self.settings.llm.context_use(
            messages, system_message=system, exact_above=self.threshold()
        )
        return use if use.share > self.threshold() else None

    def compact(self, *, force: bool = False) -> CompactionResult:
        """Summarise the older part now (``force``: even when the recent part alone is all
        there is to keep: then everything before the latest exchange)."""
        from ..llm.errors import ModelError

        llm, messages = self.settings.llm, self.settings.messages
        try:
            model_messages, system = self.model_input()
            before = llm.context_use(model_messages, system_message=system)
            reply = max(256, min(2048, before.budget // 8))
            ask: list[Message] = [{"role": "user", "type": "message", "content": INSTRUCTION}]
            fixed = llm.context_use(ask, system_message=system).tokens
            split = self._split(before.budget, before.window - reply - fixed, force)
            if split is None:
                return CompactionResult(before=before.tokens, after=before.tokens)
            start = latest_summary(messages) or 0
            older = [m for m in messages[start:split] if m.get("recipient") != "user"]
            text = llm.summarize(
                older,
                system_message=system,
                languages=self.settings.computer.language_names(),
                instruction=INSTRUCTION,
                max_tokens=reply,
                stopped=self.stopped,
                tools=self.settings.tools.schemas(),  # the calls in the history stay valid
            )
        except ModelError as err:
            return CompactionResult(error=str(err) or type(err).__name__)
        if self.stopped():
            return CompactionResult(error="stopped")
        if not text:
            return CompactionResult(error="the model answered with no summary")
        messages.insert(split, summary_message(text))
        self.inserted(split)
        self.save()
        after = self._tokens_now()
        return CompactionResult(split - start, before.tokens, after)

    def _tokens_now(self) -> int:
        from ..llm.errors import ModelError

        messages, system = self.model_input()
        try:
            return self.settings.llm.context_use(messages, system_message=system).tokens
        except ModelError:
            return 0

    def _split(self, budget: int, room: int, force: bool) -> int | None:
        """Where the kept part starts, so that what is summarised fits in ``room`` tokens
        (one request): the earliest exchange (a user message if one will do) after which
        the rest fits in ``KEEP_SHARE`` of ``budget``, else the latest that can be
        summarised (``force``: the latest user message). None: too little before it."""
        messages = self.settings.messages
        start = latest_summary(messages) or 0
        starts = [j for j in range(start + MIN_SUMMARISED, len(messages)) if _opens(messages[j])]
        sizes = self.settings.llm.message_tokens(messages[start:])
        before = [0] * (len(sizes) + 1)  # before[k]: tokens of messages[start : start + k]
        for k, size in enumerate(sizes):
            before[k + 1] = before[k] + size
        fits = [j for j in starts if before[j - start] <= room]
        if force:  # everything before the latest exchange (as far as it fits)
            return _before_latest_exchange(messages, start, fits)
        if not fits:
            return None
        users = [j for j in fits if messages[j]["role"] == "user"]
        keep = int(KEEP_SHARE * budget)
        total = before[-1]
        for group in (users, fits):
            for j in group:
                if total - before[j - start] <= keep:
                    return j
        return fits[-1]


def _before_latest_exchange(messages: Sequence[Message], start: int, fits: list[int]) -> int | None:
    """The latest place that fits, up to the latest user message after ``start``; None
    when that leaves too little to summarise."""
    users = [j for j in range(start + 1, len(messages)) if messages[j]["role"] == "user"]
    users = [j for j in users if not is_summary(messages[j])]
    if users:
        fits = [j for j in fits if j <= users[-1]]
    return fits[-1] if fits else None


def _opens(message: Message) -> bool:
    """Whether the kept part may start here: a user's or the model's message (never the
    output of code, which stays with its code), and not a summary."""
    return message["role"] in ("user", "assistant") and not is_summary(message)
