"""``interpreter --mcp-server``: the interpreter as an MCP server (stdio, or streamable HTTP).

Two tools: ``run_code(language, code)`` runs code on this computer, ``chat(message)``
sends a message to the interpreter's model and runs the task (its reply, the code it
ran and the output come back as text). Code runs only when approved: ``auto_run``
(``-y``) and the allow rules (``permissions``) decide first, as everywhere; otherwise
the client is asked through MCP elicitation (a mid-call request on 2025-era
connections, an ``InputRequiredResult`` the client answers and retries on 2026-era
ones), and a client that cannot be asked gets the code declined. Over HTTP the server
listens on 127.0.0.1 (``INTERPRETER_HOST`` / ``INTERPRETER_PORT``, default 8000) with
the token, Host and Origin rules of ``--server`` (server/security.py): the token is
``INTERPRETER_API_KEY``, or one made up and printed on stderr. One interpreter serves
every client, one job at a time.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from mcp.server.elicitation import render_elicitation_schema
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import (
    CallToolResult,
    ContentBlock,
    ElicitRequest,
    ElicitRequestFormParams,
    ImageContent,
    InputRequiredResult,
    TextContent,
)
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from .jobs import Ask, Job, Jobs, Question

if TYPE_CHECKING:
    from ..core.interpreter import OpenInterpreter
    from ..lmc import Chunk, Message

__all__ = ["build_server", "serve"]

ANSWER_KEY = "approve"
INPUT_REQUIRED_VERSION = "2026-07-28"
#: Seconds a question waits for the client's answer before the code is declined.
ANSWER_WAIT = 600.0
DECLINED = "Declined: the code was not run (nobody approved it)."


class Approve(BaseModel):
    """The elicitation form: one yes/no."""

    run: bool = Field(description="Run this code?")


class Interpreter:
    """The MCP tools over one interpreter."""

    def __init__(self, interp: OpenInterpreter) -> None:
        self.interp = interp
        self.jobs = Jobs()
        self.busy = threading.Lock()  # one run or chat at a time

    # -- the work ----------------------------------------------------------------------

    def run_code(self, language: str, code: str, ask: Ask) -> CallToolResult:
        from ..core.approval import Approver, CodeBlock
        from ..lmc import CodeMessage

        interp = self.interp
        if interp.computer.get_language(language) is None:
            names = ", ".join(interp.computer.language_names())
            return _error(f"language {language!r} is not supported; use one of: {names}")
        message: CodeMessage = {
            "role": "assistant", "type": "code", "format": language, "content": code
        }  # fmt: skip
        verdict = Approver(interp, lambda *_: None).check(CodeBlock(message, language, code, None))
        if verdict.code is None and verdict.ask is None:
            return _error(verdict.refusal or DECLINED)
        if verdict.ask is not None:
            findings = tuple(str(f) for f in verdict.ask.get("findings") or ())
            if not ask(Question(language, code, findings)):
                return _error(DECLINED)
        with self.busy:
            chunks = interp.computer.run(language, code)
        return CallToolResult(content=_content(chunks))

    def chat(self, message: str, ask: Ask) -> CallToolResult:
        interp = self.interp
        with self.busy:
            start = len(interp.messages)
            stream = interp.chat(message, display=False, stream=True)
            decision: bool | None = None
            while True:
                try:
                    chunk = stream.send(decision)
                except StopIteration:
                    break
                decision = None
                if chunk.get("type") == "confirmation":
                    decision = ask(_question(chunk))
            return CallToolResult(content=[TextContent(text=transcript(interp.messages[start:]))])

    # -- asking the client -------------------------------------------------------------

    async def drive(self, job: Job, ctx: Context) -> CallToolResult | InputRequiredResult:
        """Run ``job`` to its end, asking the client whenever it asks."""
        while True:
            kind, value = await anyio.to_thread.run_sync(job.next_event, abandon_on_cancel=True)
            if kind == "done":
                self.jobs.drop(job)
                result: CallToolResult = value
                return result
            if kind == "error":
                self.jobs.drop(job)
                return _error(str(value))
            answer = await self.decide(ctx, job, value)
            if isinstance(answer, InputRequiredResult):
                return answer
            job.answer(answer)

    async def decide(
        self, ctx: Context, job: Job, question: Question
    ) -> bool | InputRequiredResult:
        capabilities = ctx.client_capabilities
        if capabilities is None or capabilities.elicitation is None:
            return False  # the policy: what auto_run and the rules did not allow is declined
        if is_version_at_least(ctx.protocol_version or "", INPUT_REQUIRED_VERSION):
            self.jobs.keep(job)
            form = ElicitRequestFormParams(
                message=question.message(), requested_schema=render_elicitation_schema(Approve)
            )
            requests: dict[str, Any] = {ANSWER_KEY: ElicitRequest(params=form)}
            return InputRequiredResult(input_requests=requests, request_state=job.id)
        try:
            outcome = await ctx.elicit(question.message(), Approve)
        except Exception:
            return False
        return outcome.action == "accept" and bool(outcome.data.run)

    async def resume(self, ctx: Context) -> CallToolResult | InputRequiredResult | None:
        """A 2026-era retry that answers a question: the job goes on (None: not a retry)."""
        if ctx.request_state is None:
            return None
        job = self.jobs.get(ctx.request_state)
        if job is None:
            return _error("that approval is no longer waited for; call the tool again")
        response = (ctx.input_responses or {}).get(ANSWER_KEY)
        content = getattr(response, "content", None) or {}
        approved = getattr(response, "action", "") == "accept" and content.get("run") is True
        job.answer(approved)
        return await self.drive(job, ctx)

    def start(self, work: Any) -> Job:
        return Job(work, answer_wait=ANSWER_WAIT).start()


def build_server(interp: OpenInterpreter) -> MCPServer[Any]:
    """The MCP server for ``interp``: the tools ``run_code`` and ``chat``."""
    tools = Interpreter(interp)
    app: MCPServer[Any] = MCPServer(
        "interpreter",
        instructions="run_code runs code on the user's computer (after approval); chat "
        "gives a task to the interpreter's own model, which writes and runs code for it.",
    )

    @app.tool()
    async def run_code(
        language: str, code: str, ctx: Context
    ) -> CallToolResult | InputRequiredResult:
        """Run code (python, shell, javascript, ...) on the interpreter's computer, once the
        user approves it; returns its output."""
        resumed = await tools.resume(ctx)
        if resumed is not None:
            return resumed
        job = tools.start(lambda ask: tools.run_code(language, code, ask))
        return await tools.drive(job, ctx)

    @app.tool()
    async def chat(message: str, ctx: Context) -> CallToolResult | InputRequiredResult:
        """Give the interpreter a task in words: its model writes and runs code (each piece
        approved by the user) and answers; returns the reply, the code and its output."""
        resumed = await tools.resume(ctx)
        if resumed is not None:
            return resumed
        job = tools.start(lambda ask: tools.chat(message, ask))
        return await tools.drive(job, ctx)

    return app


# -- results -------------------------------------------------------------------------


def _error(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=text)], is_error=True)


def _content(chunks: list[Chunk]) -> list[ContentBlock]:
    text = "".join(str(c.get("content", "")) for c in chunks if c.get("format") == "output")
    content: list[ContentBlock] = [TextContent(text=text or "(no output)")]
    for chunk in chunks:
        fmt = str(chunk.get("format", ""))
        if chunk.get("type") == "image" and fmt.startswith("base64."):
            mime = "image/" + fmt.partition(".")[2]
            content.append(ImageContent(data=str(chunk.get("content", "")), mime_type=mime))
    return content


def _question(chunk: Chunk) -> Question:
    content: dict[str, Any] = dict(chunk.get("content") or {})
    notes = tuple(str(n) for n in [*(content.get("notes") or ()), *(content.get("findings") or ())])
    return Question(str(content.get("format", "")), str(content.get("content", "")), notes)


def transcript(messages: list[Message]) -> str:
    """The messages of a chat as text: the reply, each piece of code and its output."""
    parts: list[str] = []
    for message in messages:
        if message["role"] == "user":
            continue
        content = str(message.get("content", ""))
        if message["type"] == "code":
            parts.append(f"```{message.get('format', '')}\n{content}\n```")
        elif message["type"] == "console":
            parts.append(f"Output:\n```\n{content.rstrip()}\n```")
        elif message["type"] == "message":
            parts.append(content)
        elif message["type"] == "image":
            parts.append("[an image]")
    return "\n\n".join(p for p in parts if p.strip()) or "(no reply)"


# -- serving -------------------------------------------------------------------------


def serve(interp: OpenInterpreter, transport: str) -> int:
    """Serve until the client goes (stdio) or until interrupted (http); the exit code."""
    app = build_server(interp)
    try:
        if transport == "http":
            return _serve_http(interp, app)
        anyio.run(app.run_stdio_async)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        interp.mcp.close()
        interp.computer.terminate()


def _serve_http(interp: OpenInterpreter, app: MCPServer[Any]) -> int:
    import uvicorn
    from mcp.server.transport_security import TransportSecuritySettings

    from ..server.config import ConfigError, settings_for
    from ..server.security import HostPolicy, RequestGuard

    try:
        settings = settings_for(interp)
    except ConfigError as err:
        print(f"interpreter: {err}", file=sys.stderr)
        return 2
    ours = TransportSecuritySettings(enable_dns_rebinding_protection=False)  # RequestGuard's job
    policy = HostPolicy(
        port=settings.port, bind_host=settings.host, allowed_hosts=settings.allowed_hosts,
        allowed_origins=settings.allowed_origins,
    )  # fmt: skip
    guarded = RequestGuard(app.streamable_http_app(transport_security=ours), policy, settings.token)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(f"interpreter MCP server on http://{host}:{settings.port}/mcp", file=sys.stderr)
    if settings.token_generated:
        print(f"token (send as Bearer or X-API-KEY): {settings.token}", file=sys.stderr)
    sys.stderr.flush()
    config = uvicorn.Config(guarded, host=settings.host, port=settings.port, log_level="warning")
    uvicorn.Server(config).run()
    return 0
