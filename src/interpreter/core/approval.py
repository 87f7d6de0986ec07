"""Whether a code block (or tool call) runs: the approval rules, in one place.

``Approver.check(block)`` decides what needs no one: ``auto_run`` or an allow rule run
it, ``safe_mode`` ``auto`` refuses code with findings; otherwise it gives the
confirmation to show (``safe_mode`` ``ask`` always asks). ``Approver.answer`` reads the
answer to that confirmation (``gen.send(decision)``, else ``approval_callback``): True
runs the code shown, a str runs that edited code, an ``Approval`` dict may add
``always`` (also allow this command for the session) and a ``hash`` (of the code the
user saw: a different one declines), anything else declines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..lmc import (
    ApprovalCallback,
    CodeMessage,
    ConfirmationContent,
    Decision,
    ToolCallInfo,
)
from .permissions import allowed, rules_of
from .prompts import DECLINED
from .safety import HASH_MISMATCH, digest, safe_mode_refusal, scan_for
from .tools import ToolView

if TYPE_CHECKING:
    from ..execution.computer import Computer

__all__ = ["Approver", "ApprovalSettings", "CodeBlock", "Verdict"]


@dataclass
class CodeBlock:
    """A complete code block (or tool call) from the model, and the stored message it
    lives in. For a tool call, ``tool`` and ``view`` say which and what it does."""

    message: CodeMessage
    language: str
    code: str
    error: str | None
    tool: ToolCallInfo | None = None
    view: ToolView | None = None


class ApprovalSettings(Protocol):
    """What the approval rules read of an interpreter (live)."""

    @property
    def computer(self) -> Computer: ...
    @property
    def auto_run(self) -> bool: ...
    @property
    def safe_mode(self) -> str: ...
    @property
    def permissions(self) -> object: ...
    @property
    def approval_callback(self) -> ApprovalCallback | None: ...


@dataclass(frozen=True)
class Verdict:
    """What ``check`` decided: run ``code``, refuse (``code`` None, ``refusal`` says why),
    or ask (``ask``: the confirmation's content)."""

    code: str | None
    refusal: str = ""
    ask: ConfirmationContent | None = None


class Approver:
    """The approval rules over one interpreter's settings; ``allow_always(language,
    command)`` remembers an "always allow" answer for the session."""

    def __init__(
        self, settings: ApprovalSettings, allow_always: Callable[[str, str], object]
    ) -> None:
        self.settings = settings
        self.allow_always = allow_always

    def check(self, block: CodeBlock, *, must_ask: bool = False) -> Verdict:
        """Run, refuse or ask (``must_ask``: ask even where a rule would allow it)."""
        interp = self.settings
        language = self._canonical(block.language)
        findings, note = scan_for(interp.safe_mode, language, block.code)
        if findings and interp.safe_mode == "auto":
            return Verdict(None, safe_mode_refusal(findings))
        if not must_ask and interp.safe_mode != "ask" and self._preapproved(*self._rule(block)):
            return Verdict(block.code)
        content: ConfirmationContent = {
            "type": "code",
            "format": block.language,
            "content": block.code,
            "hash": digest(block.code),
        }
        if interp.safe_mode != "off":
            content["findings"], content["note"] = findings, note
        _describe_call(block, content)
        return Verdict(None, ask=content)

    def answer(self, block: CodeBlock, answer: Decision | None) -> tuple[str | None, str]:
        """The code to run for the user's ``answer`` (None: ask ``approval_callback``),
        or None and why not."""
        if answer is None and self.settings.approval_callback is not None:
            answer = self.settings.approval_callback(block.language, block.code)
        shown = digest(block.code)
        if isinstance(answer, dict):
            if answer.get("hash", shown) != shown:
                return None, HASH_MISMATCH
            if answer.get("always"):
                self.allow_always(*self._rule(block))
            answer = bool(answer.get("approve", True))
        if answer is True:
            return block.code, ""
        if isinstance(answer, str) and answer.strip():
            return answer, ""
        return None, DECLINED

    def _rule(self, block: CodeBlock) -> tuple[str, str]:
        """The (language, command) allow rules match: a tool's own, else the code's."""
        if block.view is not None:
            return block.view.rule
        return self._canonical(block.language), block.code

    def _canonical(self, language: str) -> str:
        cls = self.settings.computer.get_language(language)
        return cls.name.lower() if cls is not None else language.lower()

    def _preapproved(self, language: str, code: str) -> bool:
        return bool(self.settings.auto_run) or allowed(
            rules_of(self.settings.permissions), language, code
        )


def _describe_call(block: CodeBlock, content: ConfirmationContent) -> None:
    """What a tool call's confirmation says beyond its code."""
    if block.tool is None or block.view is None:
        return
    content["tool"] = block.tool
    content["rule"] = list(block.view.rule)
    if block.view.notes:
        content["notes"] = list(block.view.notes)
    if block.view.diff is not None:
        content["diff"] = block.view.diff
