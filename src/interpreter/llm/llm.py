"""``interpreter.llm``: the model settings (Open Interpreter's names) and the one entry point.

``Llm.stream`` converts LMC messages to the wire format, fits them to the context window,
checks the budget, sends them to the Model for the route the model string names
(``providers.py`` chooses the route, ``registry.py`` its ``Model``) and yields the reply as
events (``events.py``), ending with ``Usage``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..lmc import Message
from ..settings import initialise
from .errors import BudgetExceeded, ModelError, NoModelConfigured
from .events import CodeEnd, Event, TextDelta, Usage
from .model import Model, RequestSettings
from .progress import Listener, RequestStarted, Retrying
from .providers import OfflineRefused, Route, check_offline, choose_route
from .registry import open_model
from .retry import RetryPolicy
from .wire import (
    CODE_OUTPUT_TEMPLATE,
    EMPTY_CODE_OUTPUT_TEMPLATE,
    Piece,
    TextPiece,
    ToolPiece,
    UsagePiece,
    WireMessage,
    WireOptions,
    to_openai,
)

if TYPE_CHECKING:
    import httpx

    from .fences import FenceParser
    from .tools import ToolCallDecoder


_CLIENT_LOCK = threading.Lock()


class Llm:
    """The model settings and the client that talks to the model.

    The settings and their defaults are the ``llm`` rows of ``interpreter/settings.py``
    (plus the top-level ones the model client reads: ``offline``, ``verbose``, ``debug``
    and the code output templates). With ``verbose`` (or ``debug``) the route, each
    request's size, retries and token use are printed to stderr; ``debug`` adds each
    request's messages and every piece of the reply.
    """

    model: str
    temperature: float
    supports_functions: bool | None
    supports_vision: bool | None
    context_window: int | None
    max_tokens: int | None
    api_base: str | None
    api_key: str | None
    api_version: str | None
    max_budget: float | None
    max_retries: int
    request_timeout: float
    offline: bool
    verbose: bool
    debug: bool
    code_output_template: str
    empty_code_output_template: str
    code_output_sender: str

    def __init__(self) -> None:
        initialise(
            self,
            "llm",
            {
                "code_output_template": CODE_OUTPUT_TEMPLATE,
                "empty_code_output_template": EMPTY_CODE_OUTPUT_TEMPLATE,
            },
        )
        self.total_cost: float = 0.0
        self.total_prompt_tokens: int = 0
        self.total_completion_tokens: int = 0
        self._clients: dict[bool, httpx.Client] = {}
        #: Told when a request starts and before each retry (``progress.py``): how a
        #: front end shows a sign of life while it waits. Not a setting.
        self.progress: Listener | None = None

    # -- public ------------------------------------------------------------------------

    def stream(
        self, messages: list[Message], *, system_message: str, languages: Sequence[str]
    ) -> Iterator[Event]:
        """Send ``messages`` (LMC, no system message) and yield the reply as events."""
        route = self.route()
        model = self._model(route)
        functions = self._functions(route)
        wire = self._fitted(self._wire(messages, system_message, route, functions), model)
        self._check_budget(wire)
        tools: list[dict[str, Any]] = []
        if functions:
            from .tools import execute_tool_schema

            tools = [execute_tool_schema(languages)]
        if self.verbose or self.debug:
            self._trace_request(route, model, wire, tools, functions)
        if self.progress is not None:
            self.progress(RequestStarted(self.model))
        pieces = model.stream(wire, tools, self._settings())
        yield from self._events(pieces, wire, languages, functions)

    def prepare(self) -> None:
        """Get the first request ready without sending it (the terminal calls it while the
        user types): load the client code, make the HTTP client, and ask a model server on
        this machine for its context window. Nothing leaves the machine; a problem is left
        for the real request to report."""
        try:
            route = self.route()
        except ModelError:
            return
        if route.kind not in ("openai", "anthropic"):
            return
        model = self._model(route)
        from . import tokens, tools  # noqa: F401  (what the first request loads)
        from .http_stream import load_modules

        load_modules()
        self._client(route)
        if route.local and not self.context_window:
            model.limits()

    def count_tokens(self, messages: list[Message], *, system_message: str) -> int:
        """Tokens of the request these messages would make (before fitting)."""
        from .tokens import count_tokens

        try:
            route = self.route()
        except (NoModelConfigured, OfflineRefused):  # counting needs no key nor network
            route = choose_route(self.model, api_base=self.api_base, api_key="unused")
        wire = self._wire(messages, system_message, route, self._functions(route))
        return count_tokens(wire, self.model)

    def route(self) -> Route:
        """Where requests go (raises NoModelConfigured when a needed key is missing, or when
        ``offline`` and the model is neither on this machine nor on a private network)."""
        route = choose_route(self.model, api_base=self.api_base, api_key=self.api_key)
        if self.offline:
            check_offline(route)
        return route

    def reset_usage(self) -> None:
        """Forget the tokens and cost spent so far."""
        self.total_cost = 0.0
        self.total_prompt_tokens = 0
        self.total_completion_tokens = 0

    def close(self) -> None:
        """Close the HTTP connections."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    # -- request -----------------------------------------------------------------------

    def _model(self, route: Route) -> Model:
        return open_model(route, self._client)

    def _functions(self, route: Route) -> bool:
        if self.supports_functions is not None:
            return self.supports_functions
        return self._model(route).supports_functions()

    def _vision(self, route: Route) -> bool:
        if self.supports_vision is not None:
            return self.supports_vision
        return self._model(route).supports_vision()

    def _wire(
        self, messages: list[Message], system_message: str, route: Route, functions: bool
    ) -> list[WireMessage]:
        options = WireOptions(
            functions=functions,
            code_output_sender=self.code_output_sender,
            vision=self._vision(route),
            code_output_template=self.code_output_template,
            empty_code_output_template=self.empty_code_output_template,
        )
        return to_openai(messages, system_message, options)

    def _fitted(self, wire: list[WireMessage], model: Model) -> list[WireMessage]:
        from .tokens import fit_to_context

        window, max_tokens = self._limits(model)
        return fit_to_context(wire, model=self.model, context_window=window, max_tokens=max_tokens)

    def _limits(self, model: Model) -> tuple[int, int | None]:
        """Context window and max tokens: the settings, else what the model says (a GGUF
        file, a server on this machine or a private network), else a conservative default."""
        if self.context_window:
            return self.context_window, self.max_tokens
        told = model.limits()
        if told.context_window:
            return told.context_window, self.max_tokens or told.max_tokens
        from .tokens import default_context_window

        return default_context_window(self.model), self.max_tokens

    def _check_budget(self, wire: list[WireMessage]) -> None:
        if self.max_budget is None:
            return
        from .cost import cost_of
        from .tokens import count_tokens

        estimate = cost_of(self.model, count_tokens(wire, self.model), 0) or 0.0
        if self.total_cost + estimate > self.max_budget:
            raise BudgetExceeded(
                f"max_budget of ${self.max_budget:.4f} reached: ${self.total_cost:.4f} spent, "
                f"the next request costs about ${estimate:.4f}; raise --max_budget "
                "(interpreter.llm.max_budget) to go on."
            )

    def _client(self, route: Route) -> httpx.Client:
        import httpx

        trust_env = not route.local  # no proxy between us and a local server
        with _CLIENT_LOCK:  # prepare() may be making it in another thread
            client = self._clients.get(trust_env)
            if client is None:
                timeout = httpx.Timeout(
                    self.request_timeout, connect=min(10.0, self.request_timeout)
                )
                client = httpx.Client(timeout=timeout, trust_env=trust_env)
                self._clients[trust_env] = client
            return client

    def _settings(self) -> RequestSettings:
        return RequestSettings(
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            context_window=self.context_window,
            api_version=self.api_version,
            timeout=self.request_timeout,
            retry=RetryPolicy(max_retries=self.max_retries, notify=self._on_retry),
        )

    # -- reply -------------------------------------------------------------------------

    def _events(
        self,
        pieces: Iterator[Piece],
        wire: list[WireMessage],
        languages: Sequence[str],
        functions: bool,
    ) -> Iterator[Event]:
        reply = _Reply(languages, functions)
        for piece in pieces:
            if self.debug:
                self._trace(f"received {piece!r}", detail=True)
            yield from reply.feed(piece)
        yield from reply.close()
        yield self._usage(reply, wire)

    def _usage(self, reply: _Reply, wire: list[WireMessage]) -> Usage:
        from .cost import cost_of

        if reply.usage is not None:
            prompt, completion = reply.usage.prompt_tokens, reply.usage.completion_tokens
        else:
            from .tokens import count_tokens

            prompt = count_tokens(wire, self.model)
            completion = count_tokens([{"role": "assistant", "content": reply.text()}], self.model)
        cost = cost_of(self.model, prompt, completion)
        self.total_prompt_tokens += prompt
        self.total_completion_tokens += completion
        self.total_cost += cost or 0.0
        if self.verbose or self.debug:
            from .verbose import reply_line

            self._trace(reply_line(prompt, completion, cost))
        return Usage(prompt, completion, cost)

    # -- verbose and debug -------------------------------------------------------------

    def _trace(self, text: str, *, detail: bool = False) -> None:
        """A diagnostic line on stderr: with verbose or debug; ``detail`` ones with debug."""
        if self.debug or (self.verbose and not detail):
            from .verbose import print_line

            print_line(text, detail=detail)

    def _on_retry(self, event: Retrying) -> None:
        self._trace(event.line())
        if self.progress is not None:
            self.progress(event)

    def _trace_request(
        self,
        route: Route,
        model: Model,
        wire: list[WireMessage],
        tools: list[dict[str, Any]],
        functions: bool,
    ) -> None:
        from .tokens import count_tokens
        from .verbose import detail_lines, request_line, route_line

        self._trace(route_line(route, functions=functions, vision=self._vision(route)))
        window, max_tokens = self._limits(model)
        try:
            tokens: int | None = count_tokens(wire, self.model)
        except ModelError:  # no tokenizer: the summary says so
            tokens = None
        summary = request_line(wire, tools, tokens=tokens, window=window, max_tokens=max_tokens)
        self._trace(summary)
        for line in detail_lines(wire, tools):
            self._trace(line, detail=True)


class _Reply:
    """Turns provider pieces into events: tool calls through ToolCallDecoder, text of
    text-only models through FenceParser. Nothing is closed unless the stream completed."""

    def __init__(self, languages: Sequence[str], functions: bool) -> None:
        self.languages = languages
        self.fences: FenceParser | None = None
        if not functions:
            from .fences import FenceParser

            self.fences = FenceParser()
        self.decoder: ToolCallDecoder | None = None
        self.index: int | None = None
        self.call_id: str | None = None
        self.usage: UsagePiece | None = None
        self.parts: list[str] = []

    def feed(self, piece: Piece) -> list[Event]:
        if isinstance(piece, TextPiece):
            self.parts.append(piece.text)
            return self.fences.feed(piece.text) if self.fences else [TextDelta(piece.text)]
        if isinstance(piece, ToolPiece):
            self.parts.append(piece.arguments)
            events = self._end_call() if piece.index != self.index else []
            if self.decoder is None:
                from .tools import ToolCallDecoder

                # Any name passes here: the computer knows the aliases (bash, js, ...) and
                # reports an unknown language to the model itself.
                self.decoder = ToolCallDecoder()
                self.index, self.call_id = piece.index, piece.call_id
            self.call_id = self.call_id or piece.call_id
            return events + self.decoder.feed(piece.arguments)
        self.usage = piece
        return []

    def close(self) -> list[Event]:
        events = self.fences.close() if self.fences else []
        return events + self._end_call()

    def _end_call(self) -> list[Event]:
        if self.decoder is None:
            return []
        events = self.decoder.close()
        self.decoder, self.index = None, None
        return [replace(e, call_id=self.call_id) if isinstance(e, CodeEnd) else e for e in events]

    def text(self) -> str:
        return "".join(self.parts)
