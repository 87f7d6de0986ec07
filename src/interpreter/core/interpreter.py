"""``OpenInterpreter``: settings, the conversation, and ``chat()``."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..execution.computer import Computer
from ..llm.llm import Llm
from .lmc import Chunk, Message, normalize, normalize_all
from .prompts import LOOP_BREAKERS, LOOP_MESSAGE, default_system_message

if TYPE_CHECKING:
    from ..store.conversation_writer import Saved

ApprovalCallback = Callable[[str, str], "bool | str"]


def _conversations_path() -> str:
    from ..store.paths import conversations_dir

    return str(conversations_dir())


class OpenInterpreter:
    """One interpreter: its own messages, settings, model client and computer.

    Instances share nothing. ``load_profile`` applies the user's ``default.yaml`` (and
    environment overrides) as the library always does, unless
    ``INTERPRETER_NO_DEFAULT_PROFILE=1`` is set or ``load_profile=False`` is passed.
    """

    def __init__(self, *, load_profile: bool = True, default_instance: bool = False) -> None:
        self.messages: list[Message] = []
        self.llm = Llm()
        self.computer = Computer()
        self.auto_run = False
        self.verbose = False
        self.debug = False
        self.max_output = 2800
        self.safe_mode = "off"
        #: Allow rules (core/permissions.py): ``{"allow": [{"language": "shell"}]}``
        self.permissions: dict[str, Any] = {"allow": []}
        self.loop = False
        self.loop_message = LOOP_MESSAGE
        self.loop_breakers = list(LOOP_BREAKERS)
        self.conversation_history = True
        self.conversation_filename: str | None = None
        self._conversation_history_path: str | None = None
        self.custom_instructions = ""
        self.system_message = default_system_message()
        self.user_message_template = "{content}"
        self.highlight_active_line = True
        self.multi_line = True
        self.plain_text_display = False
        self.disable_telemetry = True
        self.in_terminal_interface = False
        self.approval_callback: ApprovalCallback | None = None
        self.profile_path: Path | None = None  # the profile file loaded (where rules are saved)
        self._stop_requested = False
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
    def conversation_history_path(self, value: str) -> None:
        self._conversation_history_path = value

    @property
    def offline(self) -> bool:
        """Nothing leaves the machine: only local model servers and in-process models."""
        return self.llm.offline

    @offline.setter
    def offline(self, value: bool) -> None:
        self.llm.offline = bool(value)

    @property
    def anonymous_telemetry(self) -> bool:
        return False  # there is no telemetry, whatever a profile says

    # -- chat ---------------------------------------------------------------------------

    def chat(
        self,
        message: Any = None,
        display: bool = True,
        stream: bool = False,
        blocking: bool = True,
    ) -> Any:
        """Send ``message`` and run the task; return the new messages.

        ``message``: a str or dict is appended to ``messages`` (``"message"`` is accepted as
        an alias of ``"content"``); a list replaces ``messages``. With ``stream=True`` a
        generator of LMC chunks is returned. ``blocking=False`` runs in a background
        thread; ``wait()`` returns its messages. ``display=True`` prints to the terminal
        (with no message: the interactive chat).

        Approval: no code runs unless ``auto_run`` is true, or the consumer of the
        stream answers the ``confirmation`` chunk with ``gen.send(True)`` (or an edited
        code str), or ``approval_callback(language, code)`` returns True (or code).
        """
        if not blocking:
            return self._start_thread(message, display)
        if stream:
            return self._stream(message)
        if display:
            return self._display_chat(message)
        start = self._add_input(message)
        for _ in self._respond():
            pass
        return self.messages[start:]

    def _stream(self, message: Any) -> Generator[Chunk, Any, None]:
        self._add_input(message)
        return self._respond()

    def _display_chat(self, message: Any) -> list[Message] | None:
        from ..terminal import display as terminal_display

        if message is None:
            terminal_display.interactive_chat(self)
            return None
        start = len(self.messages) + (0 if isinstance(message, list) else 1)
        terminal_display.display_chat(self, message)
        return self.messages[start:]

    def _add_input(self, message: Any) -> int:
        """Adds the user's input; returns where the new messages will start."""
        if message is None:
            return len(self.messages)
        if isinstance(message, list):
            self.messages = normalize_all(message)
        else:
            self.messages.append(normalize(message))
        return len(self.messages)

    def _respond(self) -> Generator[Chunk, Any, None]:
        from .turn import Turn

        self._stop_requested = False
        return Turn(self).run()

    # -- background chats ---------------------------------------------------------------

    def _start_thread(self, message: Any, display: bool) -> None:
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
        self.llm.reset_usage()

    # -- used by the turn loop ----------------------------------------------------------

    def _full_system_message(self) -> str:
        languages = ", ".join(self.computer.language_names())
        parts = [self.system_message.strip(), f"You can run code in: {languages}."]
        if self.custom_instructions.strip():
            parts.append(self.custom_instructions.strip())
        return "\n\n".join(parts)

    def _messages_for_model(self) -> list[Message]:
        out = [m for m in self.messages if m.get("recipient") != "user"]
        if self.user_message_template != "{content}":
            for i in range(len(out) - 1, -1, -1):
                if out[i]["role"] == "user" and out[i]["type"] == "message":
                    text = self.user_message_template.replace("{content}", out[i]["content"])
                    out[i] = {**out[i], "content": text}
                    break
        return out

    #: This instance's last save (store/conversation_writer.py): another session's write
    #: to the same file is noticed, never overwritten.
    _last_save: Saved | None = None

    def _save_conversation(self) -> None:
        if not self.conversation_history or not self.messages:
            return
        from ..store.conversation_writer import save_session
        from ..store.redaction import secrets_to_redact

        secrets = (self.llm.api_key, self.computer.kernel_gateway_token)
        self._last_save = save_session(
            self.messages,
            self.conversation_history_path,
            self.conversation_filename,
            self._last_save,
            secrets=secrets_to_redact(secrets),
        )
        self.conversation_filename = self._last_save.filename
