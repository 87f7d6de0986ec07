"""``interpreter.llm``: the model settings (Open Interpreter's names) and the one entry point.

``Llm.stream`` converts LMC messages to the wire format, fits them to the context window,
checks the budget, sends them to the Model for the route the model string names
(``providers.py`` chooses the route, ``registry.py`` its ``Model``) and yields the reply as
events (``events.py``), ending with ``Usage``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..lmc import Message
from ..settings import initialise
from .errors import BudgetExceeded, ModelError, NoModelConfigured
from .events import Event, Usage
from .model import Model, RequestSettings
from .providers import OfflineRefused, Route, check_offline, choose_route
from .registry import open_model
from .reply import ReplyDecoder
from .retry import RetryPolicy
from .usage import UsageLedger
from .wire import (
    CODE_OUTPUT_TEMPLATE,
    EMPTY_CODE_OUTPUT_TEMPLATE,
    Piece,
    WireMessage,
    WireOptions,
    to_openai,
)

if TYPE_CHECKING:
    import httpx


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
        #: Tokens and cost of every request, per turn and in all (``interpreter.usage``).
        self.usage = UsageLedger()
        self._clients: dict[bool, httpx.Client] = {}

    # -- public ------------------------------------------------------------------------

    def stream(
        self,
        messages: list[Message],
        *,
        system_message: str,
        languages: Sequence[str],
        tools: Sequence[Mapping[str, Any]] = (),
    ) -> Iterator[Event]:
        """Send ``messages`` (LMC, no system message) and yield the reply as events.

        Function-calling models are offered ``execute`` (in ``languages``) and ``tools``
        (OpenAI ``{"type": "function", "function": {...}}`` entries); text-only models
        write fenced code and are offered no tools."""
        route = self.route()
        model = self._model(route)
        functions = self._functions(route)
        wire = self._fitted(self._wire(messages, system_message, route, functions), model)
        self._check_budget(wire)
        schemas: list[dict[str, Any]] = []
        if functions:
            from .tools import execute_tool_schema

            schemas = [execute_tool_schema(languages), *(dict(t) for t in tools)]
        if self.verbose or self.debug:
            self._trace_request(route, model, wire, schemas, functions)
        pieces = model.stream(wire, schemas, self._settings())
        names = [str(t["function"]["name"]) for t in schemas[1:]]
        yield from self._events(pieces, wire, ReplyDecoder(functions, names))

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

    @property
    def total_cost(self) -> float:
        """USD spent on requests in this session (unpriced requests count 0)."""
        return self.usage.total.cost

    @property
    def total_prompt_tokens(self) -> int:
        return self.usage.total.prompt_tokens

    @property
    def total_completion_tokens(self) -> int:
        return self.usage.total.completion_tokens

    def reset_usage(self) -> None:
        """Forget the tokens and cost spent so far."""
        self.usage.reset()

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
        client = self._clients.get(trust_env)
        if client is None:
            timeout = httpx.Timeout(self.request_timeout, connect=min(10.0, self.request_timeout))
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
            retry=RetryPolicy(max_retries=self.max_retries, notify=self._trace_retry()),
        )

    # -- reply -------------------------------------------------------------------------

    def _events(
        self, pieces: Iterator[Piece], wire: list[WireMessage], reply: ReplyDecoder
    ) -> Iterator[Event]:
        for piece in pieces:
            if self.debug:
                self._trace(f"received {piece!r}", detail=True)
            yield from reply.feed(piece)
        yield from reply.close()
        yield self._usage(reply, wire)

    def _usage(self, reply: ReplyDecoder, wire: list[WireMessage]) -> Usage:
        from .cost import cost_of

        if reply.usage is not None:
            prompt, completion = reply.usage.prompt_tokens, reply.usage.completion_tokens
        else:
            from .tokens import count_tokens

            prompt = count_tokens(wire, self.model)
            completion = count_tokens([{"role": "assistant", "content": reply.text()}], self.model)
        cost = cost_of(self.model, prompt, completion)
        self.usage.record(prompt, completion, cost=cost)
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

    def _trace_retry(self) -> Callable[[str], None] | None:
        if not (self.verbose or self.debug):
            return None
        return lambda note: self._trace(note)

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
