"""``OpenInterpreter``: settings, the conversation, and ``chat()``."""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from ..execution.computer import Computer
from ..llm.llm import Llm
from ..llm.usage import UsageLedger
from ..lmc import ApprovalCallback, ChatInput, Chunk, Message, Stream, normalize, normalize_all
from ..settings import initialise
from .display import default_display
from .extensions import Extension, factories
from .prompts import LOOP_BREAKERS, LOOP_MESSAGE, default_system_message
from .tools import Tools

if TYPE_CHECKING:
    from ..store.conversation_writer import Saved
    from ..store.kernel_log import KernelLog
    from .checkpoints import Checkpoints
    from .compaction import CompactionResult
    from .notebook_live import LiveNotebook
    from .turn import TurnContext

T = TypeVar("T")


def _conversations_path() -> str:
    from ..store.paths import conversations_dir

    return str(conversations_dir())


class _OnLlm(Generic[T]):
    """A top-level setting kept on ``interp.llm``, where the model client reads it:
    ``interp.offline`` is ``interp.llm.offline``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> _OnLlm[T]: ...
    @overload
    def __get__(self, obj: OpenInterpreter, objtype: type | None = None) -> T: ...
    def __get__(self, obj: OpenInterpreter | None, objtype: type | None = None) -> Any:
        return self if obj is None else getattr(obj.llm, self.name)

    def __set__(self, obj: OpenInterpreter, value: T) -> None:
        setattr(obj.llm, self.name, value)


class OpenInterpreter:
    """One interpreter: its own messages, settings, model client and computer.

    Instances share nothing. ``load_profile`` applies the user's ``default.yaml`` (and
    environment overrides) as the library always does, unless
    ``INTERPRETER_NO_DEFAULT_PROFILE=1`` is set or ``load_profile=False`` is passed.
    """

    auto_run: bool
    safe_mode: str
    #: Allow rules (core/permissions.py): ``{"allow": [{"language": "shell"}]}``
    permissions: dict[str, Any]
    max_output: int
    custom_instructions: str
    system_message: str
    user_message_template: str
    always_apply_user_message_template: bool
    loop: bool
    loop_message: str
    loop_breakers: list[str]
    max_turns: int | None
    max_repeats: int
    compaction: bool
    compact_at: float
    offload_output: bool
    offload_threshold: int | None
    checkpoints_enabled: bool
    checkpoint_size_cap: int
    #: MCP servers whose tools the model may call (interpreter/mcp/config.py)
    mcp_servers: dict[str, Any]
    conversation_history: bool
    highlight_active_line: bool
    multi_line: bool
    plain_text_display: bool
    disable_telemetry: bool  # 0.4.3's; there is no telemetry
    # top-level settings the model client reads, kept on ``llm``
    offline: _OnLlm[bool] = _OnLlm()  # nothing leaves the machine: only local models
    verbose: _OnLlm[bool] = _OnLlm()
    debug: _OnLlm[bool] = _OnLlm()
    code_output_template: _OnLlm[str] = _OnLlm()
    empty_code_output_template: _OnLlm[str] = _OnLlm()
    code_output_sender: _OnLlm[str] = _OnLlm()

    def __init__(self, *, load_profile: bool = True, default_instance: bool = False) -> None:
        self.messages: list[Message] = []
        self.llm = Llm()
        self.computer = Computer()
        #: Tools offered beside ``execute`` (core/tools.py): file edits, MCP servers, yours.
        self.tools = Tools()
        # the settings: the top-level rows of interpreter/settings.py
        owned = {
            "system_message": default_system_message(),
            "loop_message": LOOP_MESSAGE,
            "loop_breakers": list(LOOP_BREAKERS),
            "conversation_history_path": None,  # <config>/conversations, found when read
        }
        self._conversation_history_path: str | None = None
        initialise(self, "top", owned)
        self.conversation_filename: str | None = None
        self.in_terminal_interface = False
        self.approval_callback: ApprovalCallback | None = None
        self.profile_path: Path | None = None  # the profile file loaded (where rules are saved)
        self._stop_requested = False
        self._inserted: list[int] = []  # where summaries went in this chat (chat()'s slice)
        #: How the latest turn ended (core/turn.py ``STOP_REASONS``); None before the first.
        self.stop_reason: str | None = None
        self._session_id = f"session-{secrets.token_hex(8)}"
        self._thread: threading.Thread | None = None
        self._thread_result: list[Message] = []
        self._thread_error: BaseException | None = None
        self._default_instance = default_instance
        self._kernel_log: KernelLog | None = None  # the kernel's messages, for notebooks
        self._live_notebook: LiveNotebook | None = None
        self._extensions: dict[str, Extension] = {}  # core/extensions.py, made on first use
        self._checkpoints: Checkpoints | None = None
        if load_profile and os.environ.get("INTERPRETER_NO_DEFAULT_PROFILE") != "1":
            from ..store.profiles import load_default_profile_into

            load_default_profile_into(self)

    # -- settings that are derived ------------------------------------------------------

    @property
    def conversation_history_path(self) -> str:
        if self._conversation_history_path is None:
            self._conversation_history_path = _conversations_path()
        return self._conversation_history_path

    @conversation_history_path.setter
    def conversation_history_path(self, value: str | None) -> None:
        self._conversation_history_path = value

    @property
    def usage(self) -> UsageLedger:
        """Tokens and cost of the model calls: ``usage.turn`` (the latest ``chat()``),
        ``usage.turns`` and ``usage.total``."""
        return self.llm.usage

    def conversation_data_dir(self) -> Path:
        """The folder of this conversation's data (checkpoints, whole outputs, kernel
        messages): named after the conversation file, or after this session when nothing
        is saved. Not created. A new conversation (``reset()``) gets a new folder."""
        from ..store.paths import conversation_data_dir

        if self.conversation_filename is None and self.conversation_history and self.messages:
            self._save_conversation()  # names the file
        name = self.conversation_filename
        return conversation_data_dir(Path(name).stem if name else self._session_id)

    @property
    def checkpoints(self) -> Checkpoints:
        """The working folder as it was before each run of this conversation
        (core/checkpoints.py): ``list()``, ``diff(id)``, ``touched(id)``, ``restore(id)``."""
        if self._checkpoints is None:
            from .checkpoints import Checkpoints

            self._checkpoints = Checkpoints(self)
        return self._checkpoints

    def extension(self, name: str) -> Any:
        """This interpreter's part ``name`` (core/extensions.py), made on first use."""
        part = self._extensions.get(name)
        if part is None:
            factory = factories().get(name)
            if factory is None:
                raise AttributeError(f"no part {name!r} is registered")
            part = self._extensions[name] = factory(self)
        return part

    @property
    def mcp(self) -> Any:
        """The MCP servers and their tools (``interpreter/mcp/hub.py`` ``McpServers``):
        ``interpreter.mcp.add("time", "uvx", ["mcp-server-time"])``, ``.list()``,
        ``.tools(name)``, ``.call(server, tool, **arguments)``, ``.remove(name)``. The
        servers are the ``mcp_servers`` setting."""
        return self.extension("mcp")

    def _ready_extensions(self) -> list[str]:
        """Every registered part readied for a turn; their notices for the user."""
        notices: list[str] = []
        for name in factories():
            notices += self.extension(name).before_turn()
        return notices

    @property
    def anonymous_telemetry(self) -> bool:
        return False  # there is no telemetry, whatever a profile says

    # -- chat ---------------------------------------------------------------------------

    @overload
    def chat(
        self,
        message: None = None,
        display: Literal[True] = True,
        stream: Literal[False] = False,
        blocking: Literal[True] = True,
    ) -> None: ...
    @overload
    def chat(
        self,
        message: ChatInput | None = None,
        display: bool = True,
        stream: Literal[False] = False,
        blocking: Literal[True] = True,
    ) -> list[Message]: ...
    @overload
    def chat(
        self,
        message: ChatInput | None,
        display: bool,
        stream: Literal[True],
        blocking: Literal[True] = True,
    ) -> Stream: ...
    @overload
    def chat(
        self,
        message: ChatInput | None = None,
        display: bool = True,
        *,
        stream: Literal[True],
        blocking: Literal[True] = True,
    ) -> Stream: ...
    @overload
    def chat(
        self,
        message: ChatInput | None,
        display: bool,
        stream: bool,
        blocking: Literal[False],
    ) -> None: ...
    @overload
    def chat(
        self,
        message: ChatInput | None = None,
        display: bool = True,
        stream: bool = False,
        *,
        blocking: Literal[False],
    ) -> None: ...
    @overload
    def chat(
        self,
        message: ChatInput | None = None,
        display: bool = True,
        stream: bool = False,
        blocking: bool = True,
    ) -> list[Message] | Stream | None: ...

    def chat(
        self,
        message: ChatInput | None = None,
        display: bool = True,
        stream: bool = False,
        blocking: bool = True,
    ) -> list[Message] | Stream | None:
        """Send ``message`` and run the task; return the messages of this chat.

        ``message``: a str or dict is appended to ``messages`` (``"message"`` is accepted as
        an alias of ``"content"``); a list replaces ``messages``. The messages returned
        are what this call put in the conversation, so that ``interpreter.messages =
        returned`` restores it: the user's message and the replies (a str or dict), the
        whole conversation (a list: the list given and the replies), or only the replies
        (no message: the conversation continues). They are copies: changing them changes
        nothing here. With ``stream=True`` a generator of LMC chunks is returned.
        ``blocking=False`` runs in a background thread (returning None); ``wait()``
        returns its messages. ``display=True`` shows the chat in the terminal, or
        whichever display is registered (core/display.py), and with no message is the
        interactive chat (returning None).

        Approval: no code runs unless ``auto_run`` is true, or the consumer of the
        stream answers the ``confirmation`` chunk with ``gen.send(True)`` (or an edited
        code str), or ``approval_callback(language, code)`` returns True (or code).
        """
        if not blocking:
            self._start_thread(message, display)
            return None
        if stream:
            return self._stream(message)
        if display:
            return self._display_chat(message)
        start = self._add_input(message)
        for _ in self._respond():
            pass
        return self._since(self._shifted(start))

    def _stream(self, message: ChatInput | None) -> Stream:
        self._add_input(message)
        return self._respond()

    def _display_chat(self, message: ChatInput | None) -> list[Message] | None:
        display = default_display()
        if message is None:
            display.interactive_chat(self)
            return None
        start = self._input_start(message)
        display.show_chat(self, message)  # adds the input with chat(stream=True)
        return self._since(self._shifted(start))

    def _input_start(self, message: ChatInput | None) -> int:
        """Where the messages of a chat with ``message`` will start in ``messages``: the
        start of a list (which replaces the conversation), else the end of the
        conversation now (where a str or dict is appended). Checks ``message`` first."""
        if isinstance(message, list):
            normalize_all(message)  # a MessageError before the display starts
            return 0
        if message is not None:
            normalize(message)
        return len(self.messages)

    def _add_input(self, message: ChatInput | None) -> int:
        """Adds the user's input; returns where the messages of this chat start (see
        ``_input_start``)."""
        if message is None:
            return len(self.messages)
        if isinstance(message, list):
            self.messages = normalize_all(message)
            return 0
        self.messages.append(normalize(message))
        return len(self.messages) - 1

    def _since(self, start: int) -> list[Message]:
        """Copies of the messages from ``start`` on (the caller may change them freely)."""
        return [message.copy() for message in self.messages[start:]]

    def _shifted(self, start: int) -> int:
        """``start`` after the summaries this chat put before it or at it
        (core/compaction.py): ``start`` is where the chat's own messages begin."""
        for index in self._inserted:
            if index <= start:
                start += 1
        return start

    def _respond(self) -> Stream:
        from .turn import Turn  # loaded with the first chat, not with the package

        self._stop_requested = False
        self.computer.kernel_observer = self._observe_kernel
        self._inserted = []
        return self._with_notices(Turn(self._turn_context()).run())

    def _with_notices(self, stream: Stream) -> Stream:
        """The turn, after the notices of the parts readied for it (shown to the user,
        never stored or sent to the model)."""
        from .framing import Framer

        for text in self._ready_extensions():
            framer = Framer()
            notice: Chunk = {"role": "computer", "type": "console", "format": "output"}
            notice["content"], notice["recipient"] = text + "\n", "user"
            yield from [*framer.push(notice), *framer.close()]
        return (yield from stream)

    def _turn_context(self) -> TurnContext:
        from .permissions import remember
        from .turn import TurnContext

        return TurnContext(
            settings=self,
            stop_requested=lambda: self._stop_requested,
            model_input=lambda: (self._messages_for_model(), self._full_system_message()),
            save=self._save_step,
            allow_always=lambda language, code: remember(self, language, code),
            finished=self._finished,
            data_dir=self.conversation_data_dir,
            inserted=self._inserted.append,
            checkpoint=self.checkpoints.before_run,
        )

    def _finished(self, reason: str) -> None:
        self.stop_reason = reason

    # -- background chats ---------------------------------------------------------------

    def _start_thread(self, message: ChatInput | None, display: bool) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("a chat is already running; call wait() or stop() first")
        self._thread_result, self._thread_error = [], None

        def work() -> None:
            try:
                self._thread_result = self.chat(message, display=display, stream=False)
            except BaseException as err:  # handed to wait()
                self._thread_error = err

        self._thread = threading.Thread(target=work, name="interpreter-chat", daemon=True)
        self._thread.start()

    def wait(self) -> list[Message]:
        """Waits for a ``blocking=False`` chat and returns its new messages."""
        if self._thread is not None:
            self._thread.join()
        if self._thread_error is not None:
            err, self._thread_error = self._thread_error, None
            raise err
        return self._thread_result

    def stop(self) -> None:
        """Stops the streaming reply or the running code; the conversation is kept."""
        self._stop_requested = True
        for part in list(self._extensions.values()):
            part.stop()
        self.computer.interrupt()

    def reset(self) -> None:
        """Stops every language and starts a new conversation."""
        self.computer.terminate()
        self.messages = []
        self.conversation_filename = None
        self._session_id = f"session-{secrets.token_hex(8)}"
        self._kernel_log = None
        self.llm.reset_usage()
        self.llm.reset_context()

    def compact(self) -> CompactionResult:
        """Summarise the older messages now (``%compact``), keeping the latest exchange as
        it is; the originals stay in ``messages``. See core/compaction.py."""
        from .compaction import Compactor

        def model_input() -> tuple[list[Message], str]:
            return self._messages_for_model(), self._full_system_message()

        return Compactor(self, model_input, self._save_conversation).compact(force=True)

    # -- notebooks ----------------------------------------------------------------------

    def export_notebook(self, path: str | os.PathLike[str]) -> Path:
        """Write the conversation to ``path`` as a Jupyter notebook (nbformat 4, validated;
        see core/notebook.py): Python cells carry the kernel's own outputs and execution
        counts. Returns the path written."""
        from .notebook import build_notebook, write_notebook

        runs = self._kernel_runs().runs()
        notebook = build_notebook(self.messages, runs, conversation=self._conversation_id())
        return write_notebook(path, notebook)

    def open_notebook(self, path: str | os.PathLike[str]) -> Path:
        """Keep the notebook at ``path`` up to date with the conversation after every step.
        An existing notebook is resumed: its cells become the conversation (replacing
        ``messages``) and stay in the file as they were. Returns the path."""
        from .notebook_live import LiveNotebook

        live = LiveNotebook(path)
        loaded = live.open()
        if loaded:
            self.messages = loaded
        self._live_notebook = live
        return live.write(self.messages, self._kernel_runs().runs())

    @property
    def live_notebook(self) -> Path | None:
        """The notebook kept up to date (``open_notebook``), or None."""
        return self._live_notebook.path if self._live_notebook is not None else None

    def _conversation_id(self) -> str | None:
        name = self.conversation_filename
        return Path(name).stem if name else None

    def _kernel_runs(self) -> KernelLog:
        """The kernel runs of this conversation (in its data folder when it is saved)."""
        folder = self.conversation_data_dir() if self.conversation_history else None
        log = self._kernel_log
        if log is None or log.folder != folder:
            from ..store.kernel_log import KernelLog

            log = KernelLog(folder)
            log.locate_code = self._code_message_index
            self._kernel_log = log
        return log

    def _observe_kernel(self, msg: dict[str, Any]) -> None:
        log = self._kernel_log
        if log is None or msg.get("msg_type") == "execute_input":
            log = self._kernel_runs()
        log.observe(msg)

    def _code_message_index(self, code: str) -> int | None:
        for index in range(len(self.messages) - 1, -1, -1):
            message = self.messages[index]
            if message["type"] == "code" and message.get("content") == code:
                return index
        return None

    # -- used by the turn loop ----------------------------------------------------------

    def _full_system_message(self) -> str:
        languages = ", ".join(self.computer.language_names())
        parts = [self.system_message.strip(), f"You can run code in: {languages}."]
        for part in list(self._extensions.values()):
            parts += part.system_notes()
        if self.custom_instructions.strip():
            parts.append(self.custom_instructions.strip())
        return "\n\n".join(parts)

    def _messages_for_model(self, messages: list[Message] | None = None) -> list[Message]:
        """The messages the model is sent (``messages``, else the conversation): from the
        latest summary on (core/compaction.py), those meant for the user left out, the
        user message template applied to the latest user message (to every one with
        ``always_apply_user_message_template``; never to a summary)."""
        from .compaction import from_latest_summary, is_summary

        source = self.messages if messages is None else messages
        out = [m for m in from_latest_summary(source) if m.get("recipient") != "user"]
        if self.user_message_template == "{content}":
            return out
        for i in range(len(out) - 1, -1, -1):
            last = out[i]
            if last["role"] == "user" and last["type"] == "message" and not is_summary(last):
                templated = last.copy()
                templated["content"] = self.user_message_template.replace(
                    "{content}", last["content"]
                )
                out[i] = templated
                if not self.always_apply_user_message_template:
                    break
        return out

    #: This instance's last save (store/conversation_writer.py): another session's write
    #: to the same file is noticed, never overwritten.
    _last_save: Saved | None = None

    def _save_step(self) -> None:
        """After every step of a turn: the conversation file, and the live notebook."""
        if self._kernel_log is not None:
            self._kernel_log.finish()  # a run the kernel did not end (restarted, say)
        self._save_conversation()
        if self._live_notebook is not None:
            try:
                self._live_notebook.write(self.messages, self._kernel_runs().runs())
            except OSError as err:  # the conversation goes on; the next step tries again
                import logging

                logging.getLogger("interpreter").warning(
                    "could not update %s: %s", self._live_notebook.path, err.strerror or err
                )

    def _save_conversation(self) -> None:
        """Write the conversation file: the whole of ``messages``, atomically (after each
        step of a turn, and after ``%undo`` / ``%reset``). A conversation emptied by undoing
        every turn has its file removed, and the next message starts a new one."""
        if not self.conversation_history:
            return
        if not self.messages:
            self._remove_conversation_file()
            return
        from ..store.conversation_writer import save_session
        from ..store.redaction import secrets_to_redact

        configured = (self.llm.api_key, self.computer.kernel_gateway_token)
        self._last_save = save_session(
            self.messages,
            self.conversation_history_path,
            self.conversation_filename,
            self._last_save,
            secrets=secrets_to_redact(configured),
        )
        self.conversation_filename = self._last_save.filename

    def _remove_conversation_file(self) -> None:
        if self.conversation_filename is None:
            return
        from ..store.conversations import remove_conversation

        remove_conversation(self.conversation_history_path, self.conversation_filename)
        self.conversation_filename = None
