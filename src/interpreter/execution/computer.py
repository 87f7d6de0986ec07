"""The Computer: runs code in one of its languages and streams LMC chunks back."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..lmc import Chunk
from ..settings import initialise, setting
from . import lifetime
from .base import KernelObserver, Language
from .kernel_api import KernelApi
from .languages import (
    HTML,
    AppleScript,
    Java,
    JavaScript,
    PowerShell,
    Python,
    R,
    React,
    Ruby,
    Shell,
)
from .languages.output import OutputCap, is_output, output
from .sandbox import SandboxPolicy

DEFAULT_MAX_OUTPUT_BYTES: int = setting("computer.max_output_bytes").default
#: The languages every Computer starts with (0.4.3's set).
DEFAULT_LANGUAGES: tuple[type[Language], ...] = (
    Python,
    Shell,
    JavaScript,
    R,
    Ruby,
    Java,
    HTML,
    React,
    PowerShell,
    AppleScript,
)


def file_suffix(language: str, languages: Iterable[type[Language]] = DEFAULT_LANGUAGES) -> str:
    """The suffix of a file holding code in ``language`` (a name or an alias), from its
    Language class's ``file_extension``: ``".py"``, ``".sh"``; ``".txt"`` when unknown."""
    cls = find_language(language, languages)
    return f".{cls.file_extension}" if cls is not None and cls.file_extension else ".txt"


def find_language(name: str, languages: Iterable[type[Language]]) -> type[Language] | None:
    """The Language class called ``name`` (or one of its aliases), case-insensitive."""
    wanted = name.strip().lower()
    for cls in languages:
        if wanted in (n.lower() for n in (cls.name, *cls.aliases)):
            return cls
    return None


class UnknownLanguage(ValueError):
    """Code in a language the Computer has no runtime for."""

    def __init__(self, language: str) -> None:
        super().__init__(f"language {language} is not supported")
        self.language = language


class Computer:
    """Where approved code runs.

    ``languages`` lists the Language classes on offer (append your own subclass to add
    one). Each language starts on first use and keeps its state between runs; ``bash``
    and ``shell`` (or ``py`` and ``python``) name the same runtime. ``timeout`` (seconds,
    or None) interrupts a run that takes longer, keeping the state. Console output over
    ``max_output_bytes`` per run keeps its head (the first half, streamed) and its tail
    (the last half, sent at the end after one line saying how many bytes were left out);
    the program keeps running and memory stays bounded. Closing a stream before its end
    interrupts the code. A missing runtime (node, R, ...) says so in one line. Every
    process a language started ends with ``terminate()``, at exit, and (on Linux, for
    the process-based languages) when this process is killed.
    """

    languages: list[type[Language]]
    timeout: float | None
    max_output_bytes: int | None
    #: A Jupyter Kernel Gateway URL: when set, Python runs in a kernel there.
    kernel_gateway: str | None
    kernel_gateway_token: str | None
    #: Given every kernel message of the runs (``execution/base.py``); None: not kept.
    kernel_observer: KernelObserver | None

    def __init__(
        self,
        *,
        timeout: float | None = None,
        max_output_bytes: int | None = DEFAULT_MAX_OUTPUT_BYTES,
    ) -> None:
        self._instances: dict[type[Language], Language] = {}
        self._sandbox: SandboxPolicy | None = None
        self._allow_network = False
        self._allow_home = False
        self._running: set[Language] = set()
        self._lock = threading.Lock()
        # the settings: the computer rows of interpreter/settings.py
        initialise(self, "computer", {"languages": list(DEFAULT_LANGUAGES)})
        self.timeout = timeout
        self.max_output_bytes = max_output_bytes
        self.kernel_observer = None
        #: The parts of ``computer`` in the Python kernel, by name (execution/kernel_api.py).
        self.kernel_apis: dict[str, KernelApi] = {}
        lifetime.terminate_at_exit(self)

    def file_suffix(self, language: str) -> str:
        """The file name suffix for code in ``language`` (``".py"``; ``".txt"`` if unknown)."""
        return file_suffix(language, self.languages)

    # ---- languages -------------------------------------------------------------------

    def get_language(self, name: str) -> type[Language] | None:
        """The Language class called ``name`` (or one of its aliases), case-insensitive."""
        return find_language(name, self.languages)

    def language_names(self) -> list[str]:
        """The names of the languages on offer, lower-cased."""
        return [cls.name.lower() for cls in self.languages]

    def _instance(self, language: str) -> Language:
        cls = self.get_language(language)
        if cls is None:
            raise UnknownLanguage(language)
        with self._lock:
            if cls not in self._instances:
                self._instances[cls] = self._create(cls)
            return self._instances[cls]

    def _create(self, cls: type[Language]) -> Language:
        """A new runtime; a remote one when a kernel gateway is set (see gateway.py)."""
        from . import gateway

        if self.kernel_gateway and cls is Python:
            return gateway.RemotePython(self.kernel_gateway, token=self.kernel_gateway_token)
        if issubclass(cls, gateway.RemoteKernel):
            return cls(self.kernel_gateway, token=self.kernel_gateway_token)
        return cls()

    def prepare(self, language: str) -> None:
        """Start ``language``'s runtime now (blocking), so that its first run does not wait
        for it: the terminal starts the Python kernel while the user types. Nothing when it
        runs already; raises UnknownLanguage. A runtime dropped meanwhile (``terminate``)
        is stopped again."""
        runtime = self._instance(language)
        self._configure(runtime)
        runtime.prepare()
        with self._lock:
            dropped = runtime not in self._instances.values()
        if dropped:
            runtime.terminate()

    def _configure(self, runtime: Language) -> None:
        """What a runtime needs to know before it starts or runs."""
        runtime.max_output_bytes = self.max_output_bytes
        runtime.sandbox = self._sandbox
        runtime.kernel_apis = tuple(self.kernel_apis.values())

    def add_kernel_api(self, api: KernelApi) -> None:
        """Offer ``computer.<api.name>`` to code in the Python kernel (from its next run)."""
        self.kernel_apis[api.name] = api

    # ---- sandbox ---------------------------------------------------------------------

    @property
    def sandbox(self) -> bool:
        """Run code in the OS sandbox (execution/sandbox.py); setting it to True raises
        SandboxUnavailable when this system has no sandbox (or SandboxRefused when it
        cannot enforce it from here). Changing it restarts languages."""
        return self._sandbox is not None

    @sandbox.setter
    def sandbox(self, value: bool) -> None:
        self._set_sandbox(bool(value), self._allow_network, self._allow_home)

    @property
    def allow_network(self) -> bool:
        """Whether sandboxed code may use the network."""
        return self._allow_network

    @allow_network.setter
    def allow_network(self, value: bool) -> None:
        self._set_sandbox(self.sandbox, bool(value), self._allow_home)

    @property
    def sandbox_allow_home(self) -> bool:
        """Whether the sandbox may run from a working folder that holds the home folder
        (its start-up files and settings stay read-only; set this before ``sandbox``)."""
        return self._allow_home

    @sandbox_allow_home.setter
    def sandbox_allow_home(self, value: bool) -> None:
        self._set_sandbox(self.sandbox, self._allow_network, bool(value))

    def _set_sandbox(self, enabled: bool, allow_network: bool, allow_home: bool) -> None:
        from .sandbox import policy_for

        policy = policy_for(enabled, allow_network, allow_home)
        self._allow_network = allow_network
        self._allow_home = allow_home
        if policy != self._sandbox:
            self._sandbox = policy
            self.terminate()

    # ---- running ---------------------------------------------------------------------

    def stream(self, language: str, code: str) -> Iterator[Chunk]:
        """Run ``code`` and yield its chunks (with ``"role": "computer"``) as they come.

        Raises UnknownLanguage at once (not on first ``next``) for an unknown language.
        """
        runtime = self._instance(language)
        return self._stream(runtime, code)

    def _stream(self, runtime: Language, code: str) -> Iterator[Chunk]:
        self._configure(runtime)
        runtime.kernel_observer = self.kernel_observer
        chunks = runtime.run(code)
        if not runtime.caps_output:
            chunks = OutputCap(self.max_output_bytes).wrap(chunks)
        timer = self._start_timer(runtime)
        with self._lock:
            self._running.add(runtime)
        finished = False
        try:
            for chunk in chunks:
                yield {"role": "computer", **chunk}
            finished = True
        finally:
            with self._lock:
                self._running.discard(runtime)
            if timer is not None:
                timer.cancel()
            if not finished:  # the consumer stopped listening: stop the code too
                runtime.interrupt()
        if timer is not None and timer.fired:
            yield {
                "role": "computer",
                **output(f"\nExecution timed out after {self.timeout:g} s\n"),
            }

    def _start_timer(self, runtime: Language) -> _Timeout | None:
        if self.timeout is None:
            return None
        timer = _Timeout(self.timeout, runtime)
        timer.start()
        return timer

    def run(self, language: str, code: str, stream: bool = False, display: bool = False) -> Any:
        """Run code; the merged output chunks, or their generator with ``stream=True``.

        ``display=True`` prints console output to stdout as it arrives.
        """
        chunks = self.stream(language, code)
        if display:
            chunks = _displayed(chunks)
        if stream:
            return chunks
        return _merged(chunks)

    def keep_output(self, language: str, number: int, path: Path) -> str | None:
        """Make an output kept in ``path`` readable from ``language``'s running state
        (Python: ``_out[number]``); the expression that reads it, or None."""
        cls = self.get_language(language)
        with self._lock:
            runtime = self._instances.get(cls) if cls is not None else None
        return runtime.keep_output(number, path) if runtime is not None else None

    def interrupt(self) -> None:
        """Stop the code running now (from any thread); the state is kept."""
        with self._lock:
            running = list(self._running)
        for runtime in running:
            runtime.interrupt()

    def terminate(self) -> None:
        """Stop every process; a later run starts afresh."""
        with self._lock:
            instances = list(self._instances.values())
            self._instances.clear()
        for runtime in instances:
            runtime.terminate()


class _Timeout:
    """Interrupts a runtime after ``seconds`` unless cancelled."""

    def __init__(self, seconds: float, runtime: Language) -> None:
        self.fired = False
        self._runtime = runtime
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        self._runtime.interrupt()

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()


def _displayed(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    for chunk in chunks:
        if is_output(chunk):
            sys.stdout.write(str(chunk["content"]))
            sys.stdout.flush()
        yield chunk


def _merged(chunks: Iterator[Chunk]) -> list[Chunk]:
    """The chunks without active lines, consecutive console outputs joined."""
    merged: list[Chunk] = []
    for chunk in chunks:
        if chunk.get("format") == "active_line":
            continue
        if merged and is_output(chunk) and is_output(merged[-1]):
            merged[-1] = {**merged[-1], "content": merged[-1]["content"] + chunk["content"]}
        else:
            merged.append(chunk.copy())
    return merged
