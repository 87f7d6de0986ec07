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
from ..lmc import ApprovalCallback, ChatInput, Message, Stream, normalize, normalize_all
from ..settings import initialise
from .display import default_display
from .prompts import LOOP_BREAKERS, LOOP_MESSAGE, default_system_message

if TYPE_CHECKING:
    from .compaction import CompactionResult
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
            self._name_conversation()
        name = self.conversation_filename
        return conversation_data_dir(Path(name).stem if name else self._session_id)

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
        """Send ``message`` and run the task; return the new messages.

        ``message``: a str or dict is appended to ``messages`` (``"message"`` is accepted as
        an alias of ``"content"``); a list replaces ``messages``. With ``stream=True`` a
        generator of LMC chunks is returned. ``blocking=False`` runs in a background
        thread (returning None); ``wait()`` returns its messages. ``display=True`` shows
        the chat in the terminal, or whichever display is registered (core/display.py),
        and with no message is the interactive chat (returning None).

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
        return self.messages[self._shifted(start) :]

    def _stream(self, message: ChatInput | None) -> Stream:
        self._add_input(message)
        return self._respond()

    def _display_chat(self, message: ChatInput | None) -> list[Message] | None:
        display = default_display()
        if message is None:
            display.interactive_chat(self)
            return None
        start = len(self.messages) + (0 if isinstance(message, list) else 1)
        display.show_chat(self, message)
        return self.messages[self._shifted(start) :]

    def _add_input(self, message: ChatInput | None) -> int:
        """Adds the user's input; returns where the new messages will start."""
        if message is None:
            return len(self.messages)
        if isinstance(message, list):
            self.messages = normalize_all(message)
        else:
            self.messages.append(normalize(message))
        return len(self.messages)

    def _shifted(self, start: int) -> int:
        """``start`` after the summaries this chat put before it (core/compaction.py)."""
        for index in self._inserted:
            if index < start:
                start += 1
        return start

    def _respond(self) -> Stream:
        from .turn import Turn  # loaded with the first chat, not with the package

        self._stop_requested = False
        self._inserted = []
        return Turn(self._turn_context()).run()

    def _turn_context(self) -> TurnContext:
        from .permissions import remember
        from .turn import TurnContext

        return TurnContext(
            settings=self,
            stop_requested=lambda: self._stop_requested,
            model_input=lambda: (self._messages_for_model(), self._full_system_message()),
            save=self._save_conversation,
            allow_always=lambda language, code: remember(self, language, code),
            finished=self._finished,
            data_dir=self.conversation_data_dir,
            inserted=self._inserted.append,
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
        self.computer.interrupt()

    def reset(self) -> None:
        """Stops every language and starts a new conversation."""
        self.computer.terminate()
        self.messages = []
        self.conversation_filename = None
        self._session_id = f"session-{secrets.token_hex(8)}"
        self.llm.reset_usage()
        self.llm.reset_context()

    def compact(self) -> CompactionResult:
        """Summarise the older messages now (``%compact``), keeping the latest exchange as
        it is; the originals stay in ``messages``. See core/compaction.py."""
        from .compaction import Compactor

        def model_input() -> tuple[list[Message], str]:
            return self._messages_for_model(), self._full_system_message()

        return Compactor(self, model_input, self._save_conversation).compact(force=True)

    # -- used by the turn loop ----------------------------------------------------------

    def _full_system_message(self) -> str:
        languages = ", ".join(self.computer.language_names())
        parts = [self.system_message.strip(), f"You can run code in: {languages}."]
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

    def _save_conversation(self) -> None:
        if not self.conversation_history or not self.messages:
            return
        from ..store.conversations import save_conversation

        name = self.conversation_filename or self._name_conversation()
        hidden = [s for s in (self.llm.api_key,) if s]
        save_conversation(self.messages, self.conversation_history_path, name, secrets=hidden)

    def _name_conversation(self) -> str:
        from datetime import datetime

        from ..store.conversations import conversation_filename

        self.conversation_filename = conversation_filename(self.messages, datetime.now())
        return self.conversation_filename
