"""Work for an MCP client that may stop to ask for approval (``interpreter --mcp-server``).

A ``Job`` runs ``work(ask)`` in a thread: ``run_code`` checks its code and runs it,
``chat`` drives a turn. Whenever the work must ask (``ask(question) -> approved``) the
job waits, and ``next_event()`` gives the question to the MCP handler, which gets the
answer from the client (elicitation) or from the policy and passes it on with
``answer(approved)``. A job that asks outlives a tool call on 2026-era connections: the
call returns the question (``InputRequiredResult``), and the client's retry finds the job
again by its id (``Jobs.get``).
"""

from __future__ import annotations

import queue
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Job", "Jobs", "Question"]


@dataclass(frozen=True)
class Question:
    """What the client is asked: run this ``language`` ``code``?"""

    language: str
    code: str
    notes: tuple[str, ...] = ()

    def message(self) -> str:
        lines = [f"Run this {self.language} code on the interpreter's computer?", "", self.code]
        if self.notes:
            lines += ["", *self.notes]
        return "\n".join(lines)


Ask = Callable[[Question], bool]


@dataclass
class Job:
    """One piece of work in its own thread; events: ``("ask", Question)``,
    ``("done", result)`` or ``("error", one line)``."""

    work: Callable[[Ask], Any]
    #: seconds a question waits for its answer; then it counts as declined
    answer_wait: float = 600.0
    id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    pending: Question | None = None
    _events: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)
    _answers: queue.Queue[bool] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None

    def start(self) -> Job:
        self._thread = threading.Thread(target=self._run, name="interpreter-mcp-job", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self._events.put(("done", self.work(self._ask)))
        except Exception as err:  # one line to the client
            self._events.put(("error", str(err) or type(err).__name__))

    def _ask(self, question: Question) -> bool:
        self.pending = question
        self._events.put(("ask", question))
        try:
            answer = self._answers.get(timeout=self.answer_wait)
        except queue.Empty:
            answer = False
        self.pending = None
        return answer

    def next_event(self) -> tuple[str, Any]:
        """Blocks until the work asks something or ends."""
        return self._events.get()

    def answer(self, approved: bool) -> None:
        self._answers.put(approved)


class Jobs:
    """The jobs waiting for an answer, by id (one MCP server process)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def keep(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.id] = job

    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id or "")

    def drop(self, job: Job) -> None:
        with self._lock:
            self._jobs.pop(job.id, None)
