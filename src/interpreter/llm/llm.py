"""``interpreter.llm``: the model settings (Open Interpreter's names) and the one entry point.

``Llm.stream`` converts LMC messages to the wire format, fits them to the context window
(keeping the start of the prompt the same from one request to the next: ``context.py``),
checks the budget, sends them to the Model for the route the model string names
(``providers.py`` chooses the route, ``registry.py`` its ``Model``) and yields the reply as
events (``events.py``), ending with ``Usage``. ``Llm.summarize`` sends one separate request
(a summary of older messages) through the same budget check and usage ledger.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..lmc import Message
from ..settings import initialise
from .context import ContextState, TokenCounts
from .cost import Price, price_of
from .errors import BudgetExceeded, ModelError, NoModelConfigured, UnpricedBudget
from .events import Event, Notice, TextDelta, Usage
from .model import Model, RequestSettings
from .progress import Listener, RequestStarted, Retrying
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
    input_cost_per_token: float | None
    output_cost_per_token: float | None
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
        #: Where this conversation is cut to fit the window (``context.py``).
        self.context_state = ContextState()
        self._counts = TokenCounts()
        self._noted: set[str] = set()
        self._limits_memo: tuple[tuple[Any, ...], _Limits] | None = None
        #: Told when a request starts and before each retry (``progress.py``): how a
        #: front end shows a sign of life while it waits. Not a setting.
        self.progress: Listener | None = None

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
        write fenced code and are offered no tools. The request is fitted to the context
        window with this conversation's stable cut (``context_state``); a one-line
        ``Notice`` comes first when the window is assumed.
        """
        yield from self._request(messages, system_message, languages, stable=True, tools=tools)

    def summarize(
        self,
        messages: list[Message],
        *,
        system_message: str,
        languages: Sequence[str],
        instruction: str,
        max_tokens: int | None = None,
        stopped: Callable[[], bool] = lambda: False,
        tools: Sequence[Mapping[str, Any]] = (),
    ) -> str:
        """The model's text reply to ``messages`` followed by ``instruction`` (a user
        message): one separate request, checked against ``max_budget`` and recorded in
        ``usage`` like any other. Raises ModelError when it fails or is cut off; ends
        early (returning what came) once ``stopped()``."""
        request: list[Message] = [*messages, {"role": "user", "type": "message", "content": ""}]
        request[-1]["content"] = instruction
        parts: list[str] = []
        events = self._request(
            request, system_message, languages, stable=False, max_tokens=max_tokens, tools=tools
        )
        try:
            for event in events:
                if stopped():
                    break
                if isinstance(event, TextDelta):
                    parts.append(event.text)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()
        return "".join(parts).strip()

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
            self._limits(model)  # asked once; the first request finds it

    def count_tokens(self, messages: list[Message], *, system_message: str) -> int:
        """Tokens of the request these messages would make (before fitting)."""
        from .tokens import get_encoding

        wire = self._wire(messages, system_message, self._counting_route())
        return self._counts.total(wire, get_encoding(self.model))

    def context_use(
        self, messages: list[Message], *, system_message: str, exact_above: float = 0.0
    ) -> ContextUse:
        """How much of the room in the context window these messages would take (before
        fitting). ``tokens`` is a byte bound (an upper bound) while that stays at or below
        ``exact_above`` of the room, else an exact count."""
        from .tokens import BYTE_BOUND, budget_of, get_encoding

        route = self.route()
        limits = self._limits(self._model(route))
        budget = budget_of(self.model, limits.window, limits.max_tokens)
        wire = self._wire(messages, system_message, route)
        tokens = BYTE_BOUND.total(wire)
        if tokens > exact_above * budget:
            tokens = self._counts.total(wire, get_encoding(self.model))
        return ContextUse(tokens, budget, limits.window)

    def message_tokens(self, messages: Sequence[Message]) -> list[int]:
        """About what each message adds to a request (each counted on its own)."""
        from .tokens import REPLY_PRIMING, get_encoding

        route = self._counting_route()
        encoding = get_encoding(self.model)
        return [
            self._counts.total(self._wire([m], "", route), encoding) - REPLY_PRIMING
            for m in messages
        ]

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

    def reset_context(self) -> None:
        """A new conversation: no cut (``context_state``), and notices may show again."""
        self.context_state = ContextState()
        self._noted.clear()

    def price(self) -> Price | None:
        """USD per token: ``input_cost_per_token`` / ``output_cost_per_token`` where given,
        else the price table's (llm/cost.py); None when neither knows the model."""
        table = price_of(self.model)
        given_in, given_out = self.input_cost_per_token, self.output_cost_per_token
        if given_in is None and given_out is None:
            return table
        keep_cache = table is not None and given_in is None
        return Price(
            float(given_in) if given_in is not None else (table.prompt if table else 0.0),
            float(given_out) if given_out is not None else (table.completion if table else 0.0),
            table.cached if table is not None and keep_cache else None,
            table.written if table is not None and keep_cache else None,
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    # -- request -----------------------------------------------------------------------

    def _request(
        self,
        messages: list[Message],
        system_message: str,
        languages: Sequence[str],
        *,
        stable: bool,
        max_tokens: int | None = None,
        tools: Sequence[Mapping[str, Any]] = (),
    ) -> Iterator[Event]:
        route = self.route()
        model = self._model(route)
        functions = self._functions(route)
        limits = self._limits(model)
        if stable and limits.note is not None and limits.note not in self._noted:
            self._noted.add(limits.note)  # once per conversation, with the turn's request
            yield Notice(limits.note)
        wire = self._fit(self._wire(messages, system_message, route, functions), limits, stable)
        self._check_budget(wire)
        schemas: list[dict[str, Any]] = []
        if functions:
            from .tools import execute_tool_schema

            schemas = [execute_tool_schema(languages), *(dict(t) for t in tools)]
        if self.verbose or self.debug:
            self._trace_request(route, model, wire, schemas, functions)
        if self.progress is not None:
            self.progress(RequestStarted(self.model))
        pieces = model.stream(wire, schemas, self._settings(max_tokens))
        names = [str(t["function"]["name"]) for t in schemas[1:]]
        yield from self._events(pieces, wire, ReplyDecoder(functions, names))

    def _model(self, route: Route) -> Model:
        return open_model(route, self._client)

    def _counting_route(self) -> Route:
        try:
            return self.route()
        except (NoModelConfigured, OfflineRefused):  # counting needs no key nor network
            return choose_route(self.model, api_base=self.api_base, api_key="unused")

    def _functions(self, route: Route) -> bool:
        if self.supports_functions is not None:
            return self.supports_functions
        return self._model(route).supports_functions()

    def _vision(self, route: Route) -> bool:
        if self.supports_vision is not None:
            return self.supports_vision
        return self._model(route).supports_vision()

    def _wire(
        self,
        messages: list[Message],
        system_message: str,
        route: Route,
        functions: bool | None = None,
    ) -> list[WireMessage]:
        options = WireOptions(
            functions=self._functions(route) if functions is None else functions,
            code_output_sender=self.code_output_sender,
            vision=self._vision(route),
            code_output_template=self.code_output_template,
            empty_code_output_template=self.empty_code_output_template,
        )
        return to_openai(messages, system_message, options)

    def _fit(self, wire: list[WireMessage], limits: _Limits, stable: bool) -> list[WireMessage]:
        from .context import fit_stable
        from .tokens import fit_to_context

        window, max_tokens = limits.window, limits.max_tokens
        if not stable:
            return fit_to_context(
                wire, model=self.model, context_window=window, max_tokens=max_tokens
            )
        moves = self.context_state.moves
        fitted = fit_stable(
            wire,
            model=self.model,
            context_window=window,
            max_tokens=max_tokens,
            state=self.context_state,
            counts=self._counts,
        )
        if self.context_state.moves != moves:
            self._trace(
                f"left out {self.context_state.cut} earlier messages to fit {window} tokens"
            )
        return fitted

    def _limits(self, model: Model) -> _Limits:
        """Context window and max tokens: the settings, else what the model says (a GGUF
        file, a server on this machine or a private network), else the known window of
        the model's name, else a default with a note. An assumed window is asked about
        again after the next request (the server may have loaded the model by then)."""
        key = (model.route, self.context_window, self.max_tokens)
        if self._limits_memo is not None and self._limits_memo[0] == key:
            return self._limits_memo[1]
        found = self._find_limits(model)
        self._limits_memo = (key, found)
        return found

    def _find_limits(self, model: Model) -> _Limits:
        from .tokens import DEFAULT_CONTEXT_WINDOW, known_context_window

        if self.context_window:
            return _Limits(self.context_window, self.max_tokens)
        told = model.limits()
        if told.context_window:
            return _Limits(told.context_window, self.max_tokens or told.max_tokens, told.note)
        known = known_context_window(self.model)
        if known is not None:
            return _Limits(known, self.max_tokens)
        note = (
            f"The context window of {self.model} is not known; assuming "
            f"{DEFAULT_CONTEXT_WINDOW} tokens. Set --context_window (llm.context_window)."
        )
        return _Limits(DEFAULT_CONTEXT_WINDOW, self.max_tokens, note)

    def _check_budget(self, wire: list[WireMessage]) -> None:
        """Before each request: refuse one that would pass ``max_budget`` (estimated from
        its prompt), and any request of a model whose price nobody knows."""
        if self.max_budget is None:
            return
        price = self.price()
        if price is None:
            raise UnpricedBudget(
                f"max_budget is set but the price of {self.model} is not known; give it with "
                "--input_cost_per_token and --output_cost_per_token "
                "(llm.input_cost_per_token, llm.output_cost_per_token) or drop --max_budget."
            )
        estimate = price.cost(self._count(wire), 0)
        if self.total_cost + estimate > self.max_budget:
            raise BudgetExceeded(
                f"max_budget of ${self.max_budget:.4f} reached: ${self.total_cost:.4f} spent, "
                f"the next request costs about ${estimate:.4f}; raise --max_budget "
                "(interpreter.llm.max_budget) to go on."
            )

    def _count(self, wire: list[WireMessage]) -> int:
        """Tokens of ``wire``; about a quarter of its bytes when there is no tokenizer."""
        from .tokens import BYTE_BOUND, get_encoding

        try:
            return self._counts.total(wire, get_encoding(self.model))
        except ModelError:
            return BYTE_BOUND.total(wire) // 4

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

    def _settings(self, max_tokens: int | None = None) -> RequestSettings:
        if max_tokens is not None and self.max_tokens is not None:
            max_tokens = min(max_tokens, self.max_tokens)
        return RequestSettings(
            temperature=self.temperature,
            max_tokens=self.max_tokens if max_tokens is None else max_tokens,
            context_window=self.context_window,
            api_version=self.api_version,
            timeout=self.request_timeout,
            retry=RetryPolicy(max_retries=self.max_retries, notify=self._on_retry),
        )

    # -- reply -------------------------------------------------------------------------

    def _events(
        self, pieces: Iterator[Piece], wire: list[WireMessage], reply: ReplyDecoder
    ) -> Iterator[Event]:
        """The reply as events, then its Usage. A reply cut off (or closed) after it began
        still counts: the provider's count when it came, else our count of what came."""
        started = False  # a piece came: the provider did work
        try:
            for piece in pieces:
                started = True
                if self.debug:
                    self._trace(f"received {piece!r}", detail=True)
                yield from reply.feed(piece)
            yield from reply.close()
        except BaseException:
            if started:
                self._usage(reply, wire)
            raise
        finally:
            if self._limits_memo is not None and self._limits_memo[1].note is not None:
                self._limits_memo = None  # ask again: the server may have loaded the model
        yield self._usage(reply, wire)

    def _usage(self, reply: ReplyDecoder, wire: list[WireMessage]) -> Usage:
        told = reply.usage
        if told is not None:
            prompt, completion = told.prompt_tokens, told.completion_tokens
            cached, written = told.cached_tokens, told.written_tokens
        else:
            prompt = self._count(wire)
            completion = self._count([{"role": "assistant", "content": reply.text()}])
            cached = written = 0
        price = self.price()
        cost = price.cost(prompt, completion, cached, written) if price is not None else None
        self.usage.record(prompt, completion, cached=cached, cost=cost)
        if self.verbose or self.debug:
            from .verbose import reply_line

            self._trace(reply_line(prompt, completion, cost))
        return Usage(prompt, completion, cost, cached)

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
        limits = self._limits(model)
        window, max_tokens = limits.window, limits.max_tokens
        try:
            tokens: int | None = count_tokens(wire, self.model)
        except ModelError:  # no tokenizer: the summary says so
            tokens = None
        summary = request_line(wire, tools, tokens=tokens, window=window, max_tokens=max_tokens)
        self._trace(summary)
        for line in detail_lines(wire, tools):
            self._trace(line, detail=True)


@dataclass(frozen=True)
class _Limits:
    """The window and reply limit a request is fitted to; ``note`` when assumed."""

    window: int
    max_tokens: int | None
    note: str | None = None


@dataclass(frozen=True)
class ContextUse:
    """How much of the room in the context window a request takes: ``tokens`` of
    ``budget`` (the window less the reply's tokens)."""

    tokens: int
    budget: int
    window: int

    @property
    def share(self) -> float:
        return self.tokens / self.budget if self.budget > 0 else 1.0
