"""Every setting in one table: where it lives, its type and default, and who may set it.

One ``Setting`` row per setting, in ``SETTINGS``. Everything else is derived from it:

- the attribute defaults of ``OpenInterpreter``, ``Llm`` and ``Computer`` (``initialise``);
- the profile schema and how a profile is applied (``store/profile_schema.py``,
  ``store/profiles.py``), and the ``INTERPRETER_*`` environment overrides;
- what the server's ``/settings`` may read and change, and what every server session
  copies from the operator's interpreter (``server/settings_api.py``, ``server/config.py``);
- the command-line flags that set a setting (``terminal/args.py``, ``terminal/settings.py``);
- ``%info`` (``terminal/magic.py``).

Open Interpreter 0.4.3 profile keys that mean nothing here are rows too, with ``compat``
saying why (a profile may hold them; ``unsupported`` ones warn when switched on); any other
unknown key is a one-line warning when a profile is loaded. This module is a leaf: it
imports nothing from the package, so every layer may read it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

__all__ = [
    "OWNED",
    "SETTINGS",
    "Kind",
    "Section",
    "Setting",
    "ServerAccess",
    "held_by",
    "holder",
    "initialise",
    "lookup",
    "setting",
]

Section = Literal["top", "llm", "computer"]
#: ``write``: ``/settings`` may change it; ``read``: shown, never changed (``llm.model``
#: only to a model the server's operator allows: server/settings_api.py); ``switch_off``:
#: shown, and may only be set to false; ``hidden``: neither shown nor changed (403).
ServerAccess = Literal["write", "read", "switch_off", "hidden"]


@dataclass(frozen=True)
class Kind:
    """The values a setting accepts, and how to say so in an error."""

    kinds: tuple[type, ...]
    label: str
    nullable: bool = False
    choices: tuple[str, ...] = ()
    items: type | None = None

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is of this kind (``True`` is not a number here)."""
        if value is None:
            return self.nullable
        if isinstance(value, bool) and bool not in self.kinds:
            return False
        if not isinstance(value, self.kinds):
            return False
        items = self.items
        if items is not None and not all(isinstance(i, items) for i in cast(list[Any], value)):
            return False
        return not self.choices or value in self.choices

    @property
    def parser(self) -> str:
        """How an environment variable of this kind is read: bool, int, number or str."""
        if bool in self.kinds:
            return "bool"
        if float in self.kinds:
            return "number"
        return "int" if int in self.kinds else "str"


BOOL = Kind((bool,), "true or false")
INT = Kind((int,), "a whole number")
NUMBER = Kind((int, float), "a number")
TEXT = Kind((str,), "text")
OPT_INT = Kind((int,), "a whole number or null", nullable=True)
OPT_NUMBER = Kind((int, float), "a number or null", nullable=True)
OPT_TEXT = Kind((str,), "text or null", nullable=True)
OPT_BOOL = Kind((bool,), "true, false or null", nullable=True)
TEXT_LIST = Kind((list,), "a list of text", items=str)
SAFE_MODE = Kind((str,), '"off", "ask" or "auto"', choices=("off", "ask", "auto"))
SENDER = Kind((str,), '"user" or "assistant"', choices=("user", "assistant"))
RULES = Kind((dict,), "a mapping like {allow: [{language: shell, command: ls}]}")
MCP_SERVERS = Kind(
    (dict,), "a mapping of server names to {command, args, env, cwd} or {url, headers}"
)


class _Owned:
    """The default of a setting whose value the class holding it supplies (a text of its
    layer, or something computed), passed to ``initialise``."""

    def __repr__(self) -> str:
        return "OWNED"


OWNED: Any = _Owned()


@dataclass(frozen=True)
class Setting:
    """One setting. ``section`` is where a profile writes it (``llm: {model: ...}``);
    ``owner`` is the object holding the attribute when that is not the section's own
    (``offline`` is written at the top but read by ``interp.llm``)."""

    name: str
    section: Section
    kind: Kind
    default: Any
    doc: str
    env: str | None = None  # INTERPRETER_* variable that overrides the profile
    flag: str | None = None  # the command-line flag, as 0.4.3 spells it (without --)
    short: str | None = None  # its short form (without -)
    flag_help: str | None = None  # the flag's line in --help
    negated_flag: bool = False  # the flag sets the setting to false
    server: ServerAccess = "hidden"
    inherit: bool = True  # server sessions copy it from the operator's interpreter
    profile: bool = True  # a profile may set it
    attribute: bool = True  # its owner has it as an attribute
    compat: str | None = None  # a 0.4.3 key kept so its profiles load: what happens instead
    unsupported: bool = False  # (compat) a feature this version lacks: warn when switched on
    owner: Section | None = None
    secret: bool = False  # never shown (%info says whether it is set)

    @property
    def path(self) -> tuple[str, ...]:
        """Where a profile keeps it: ``("auto_run",)``, ``("llm", "model")``."""
        return (self.name,) if self.section == "top" else (self.section, self.name)

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def held_by(self) -> Section:
        return self.owner or self.section

    def fresh_default(self) -> Any:
        """The default, copied when it is mutable (each instance gets its own list)."""
        return copy.deepcopy(self.default)


def _top(name: str, kind: Kind, default: Any, doc: str, **more: Any) -> Setting:
    return Setting(name, "top", kind, default, doc, **more)


def _llm(name: str, kind: Kind, default: Any, doc: str, **more: Any) -> Setting:
    return Setting(name, "llm", kind, default, doc, **more)


def _computer(name: str, kind: Kind, default: Any, doc: str, **more: Any) -> Setting:
    return Setting(name, "computer", kind, default, doc, **more)


def _compat(section: Section, name: str, instead: str, **more: Any) -> Setting:
    """A 0.4.3 key accepted on purpose that sets nothing here."""
    kind, default = more.pop("kind", BOOL), more.pop("default", False)
    return Setting(name, section, kind, default, instead, attribute=False, compat=instead, **more)


SETTINGS: tuple[Setting, ...] = (
    # -- what runs, and who decides --------------------------------------------------------
    _top("auto_run", BOOL, False, "run code without asking for approval",
         env="INTERPRETER_AUTO_RUN", flag="auto_run", short="y",
         flag_help="run code without asking for approval", server="switch_off"),
    _top("safe_mode", SAFE_MODE, "off",
         "scan code before it runs: off, ask (show findings, always ask), auto (refuse risky)",
         env="INTERPRETER_SAFE_MODE", flag="safe_mode", short="safe",
         flag_help="scan code before it runs: off, ask (show findings, always ask), "
         "auto (refuse risky code)", server="read"),
    _top("permissions", RULES, {"allow": []},
         "allow rules: code they match runs without asking (core/permissions.py)"),
    _top("offline", BOOL, False, "nothing leaves this machine: only local models",
         env="INTERPRETER_OFFLINE", flag="offline", short="o", owner="llm",
         flag_help="nothing leaves this machine: only local model servers and .gguf files",
         server="read"),
    _top("mcp_servers", MCP_SERVERS, {},
         "MCP servers whose tools the model may call: name -> {command, args, env, cwd} "
         "(stdio) or {url, headers} (streamable HTTP); --mcp NAME=COMMAND adds one"),
    # -- diagnostics -----------------------------------------------------------------------
    _top("verbose", BOOL, False,
         "print the route, each request's size, retries and token use to stderr",
         env="INTERPRETER_VERBOSE", flag="verbose", short="v", owner="llm",
         flag_help="print detailed logs", server="write"),
    _top("debug", BOOL, False,
         "verbose, plus each request's messages and every piece of the reply",
         env="INTERPRETER_DEBUG", flag="debug", owner="llm",
         flag_help="print debugging details"),
    # -- what the model is told ------------------------------------------------------------
    _top("max_output", INT, 2800, "characters of program output the model sees",
         env="INTERPRETER_MAX_OUTPUT", flag="max_output", short="xo",
         flag_help="characters of program output the model sees", server="write"),
    _top("custom_instructions", TEXT, "", "text appended to the system message",
         env="INTERPRETER_CUSTOM_INSTRUCTIONS", flag="custom_instructions", short="ci",
         flag_help="text appended to the system message", server="write"),
    _top("system_message", TEXT, OWNED, "the base system message (core/system_message.txt)",
         flag="system_message", short="sm",
         flag_help="replace the base system message (not recommended)", server="read"),
    _top("user_message_template", TEXT, "{content}",
         "wraps the latest user message sent to the model ({content} is the message)",
         server="write"),
    _top("always_apply_user_message_template", BOOL, False,
         "apply user_message_template to every user message, not only the latest"),
    _top("code_output_template", TEXT, OWNED,
         "how program output is sent to text-only models ({content} is the output)",
         owner="llm"),
    _top("empty_code_output_template", TEXT, OWNED,
         "what text-only models are told when a program printed nothing", owner="llm"),
    _top("code_output_sender", SENDER, "user",
         "who says the program output to text-only models: user or assistant", owner="llm"),
    # -- the loop --------------------------------------------------------------------------
    _top("loop", BOOL, False, "keep going until the model says the task is done",
         env="INTERPRETER_LOOP", flag="loop",
         flag_help="keep going until the model says the task is done or impossible",
         server="write"),
    _top("loop_message", TEXT, OWNED, "what the model is told to keep it going (loop)",
         server="write"),
    _top("loop_breakers", TEXT_LIST, OWNED, "phrases that end the loop", server="write"),
    _top("max_turns", OPT_INT, None,
         "most model replies in one turn before it stops and asks (null: no limit)",
         env="INTERPRETER_MAX_TURNS", flag="max_turns",
         flag_help="most model replies per task before stopping (default: no limit)",
         server="write"),
    _top("max_repeats", INT, 3,
         "the same code, or the same error, this many times in a row: an auto-run turn stops, "
         "otherwise the next code is always asked about (0: never)",
         env="INTERPRETER_MAX_REPEATS", flag="max_repeats",
         flag_help="stop when the same code or error repeats this many times (0: never)",
         server="write"),
    # -- long tasks: the context window and long output ------------------------------------
    _top("compaction", BOOL, True,
         "summarise older messages (a separate request) when the context window fills up",
         env="INTERPRETER_COMPACTION", flag="no_compaction", negated_flag=True,
         flag_help="never summarise older messages; only leave them out when the context "
         "window is full", server="write"),
    _top("compact_at", NUMBER, 0.8,
         "share of the context window at which older messages are summarised",
         env="INTERPRETER_COMPACT_AT", server="write"),
    _top("offload_output", BOOL, True,
         "keep long program output whole in a file (Python's also in _out[n]); the model "
         "sees its start, its end and where the rest is", env="INTERPRETER_OFFLOAD_OUTPUT",
         server="write"),
    _top("offload_threshold", OPT_INT, None,
         "characters of program output above which it is kept in a file (null: max_output)",
         env="INTERPRETER_OFFLOAD_THRESHOLD", server="write"),
    # -- checkpoints: undo what code did -----------------------------------------------------
    _top("checkpoints_enabled", BOOL, False,
         "snapshot the working folder before each approved run (a git store of our own in "
         "the conversation's data folder), so that %undo and %restore can put files back",
         env="INTERPRETER_CHECKPOINTS", flag="checkpoints",
         flag_help="snapshot the working folder before each code run, so that undo can "
         "put files back", server="write"),
    _top("checkpoint_size_cap", INT, 20 * 1024 * 1024,
         "files bigger than this many bytes are left out of checkpoints (said once)",
         env="INTERPRETER_CHECKPOINT_SIZE_CAP", server="write"),
    # -- conversations ---------------------------------------------------------------------
    _top("conversation_history", BOOL, True, "save each conversation as JSON",
         env="INTERPRETER_CONVERSATION_HISTORY", server="read"),
    _top("conversation_history_path", TEXT, OWNED,
         "the folder conversations are saved in (default: <config>/conversations)"),
    # -- the terminal ----------------------------------------------------------------------
    _top("highlight_active_line", BOOL, True, "highlight the running line of code",
         flag="no_highlight_active_line", short="nhl", negated_flag=True,
         flag_help="do not highlight the running line of code", server="write"),
    _top("multi_line", BOOL, True, 'a line starting with """ (or ```) opens a multi-line message',
         flag="multi_line", short="ml",
         flag_help='multi-line input between """ (or ```) lines'),
    _top("plain_text_display", BOOL, False, "plain text output: no colours, boxes or live updates",
         flag="plain", short="pl",
         flag_help="plain text output (no colours, boxes or live updates)", server="write"),
    # -- 0.4.3 settings kept for its files and scripts ---------------------------------------
    _top("disable_telemetry", BOOL, True, "no effect: nothing is ever sent anywhere",
         env="INTERPRETER_DISABLE_TELEMETRY", flag="disable_telemetry", short="dt",
         flag_help="no effect: nothing is ever sent anywhere",
         compat="there is no telemetry; kept as an attribute for 0.4.3 scripts"),
    _compat("top", "os", "mouse and keyboard control is not supported by this version",
            unsupported=True, flag="os", short="os",
            flag_help="experimental mouse and keyboard control (not supported)"),
    _compat("top", "speak_messages", "reading messages aloud is not supported by this version",
            unsupported=True, flag="speak_messages", short="sp",
            flag_help="read messages aloud (not supported)"),
    _compat("top", "contribute_conversation", "conversations are never sent anywhere"),
    _compat("top", "shrink_images", "images are sent as they are", default=True),
    # -- the model -------------------------------------------------------------------------
    _llm("model", TEXT, "gpt-4o", "the language model (gpt-4o, claude-3-5-sonnet, ollama/...)",
         env="INTERPRETER_MODEL", flag="model", short="m",
         flag_help="language model to use (e.g. gpt-4o, claude-3-5-sonnet, ollama/llama3)",
         server="read"),  # a client may switch only to a model the operator allows
    _llm("temperature", NUMBER, 0.0, "sampling temperature",
         env="INTERPRETER_TEMPERATURE", flag="temperature", short="t",
         flag_help="sampling temperature", server="write"),
    _llm("supports_functions", OPT_BOOL, None, "the model calls tools (null: detected)",
         env="INTERPRETER_SUPPORTS_FUNCTIONS", flag="llm_supports_functions", short="lsf",
         flag_help="the model supports tool calls", server="write"),
    _llm("supports_vision", OPT_BOOL, None, "the model reads images (null: detected)",
         env="INTERPRETER_SUPPORTS_VISION", flag="llm_supports_vision", short="lsv",
         flag_help="the model accepts images", server="write"),
    _llm("context_window", OPT_INT, None, "tokens the model reads (null: known or asked)",
         env="INTERPRETER_CONTEXT_WINDOW", flag="context_window", short="cw",
         flag_help="context window of the model, in tokens", server="write"),
    _llm("max_tokens", OPT_INT, None, "most tokens per reply",
         env="INTERPRETER_MAX_TOKENS", flag="max_tokens", short="x",
         flag_help="most tokens the model may write per reply", server="write"),
    _llm("api_base", OPT_TEXT, None, "base URL of an OpenAI-compatible API",
         env="INTERPRETER_API_BASE", flag="api_base", short="ab",
         flag_help="base URL of an OpenAI-compatible API (local servers too)", server="read"),
    _llm("api_key", OPT_TEXT, None, "the provider's API key (else from its usual variable)",
         flag="api_key", short="ak", flag_help="API key for the model provider", secret=True),
    _llm("api_version", OPT_TEXT, None, "API version (Azure)",
         env="INTERPRETER_API_VERSION", flag="api_version", short="av",
         flag_help="API version (Azure)", server="read"),
    _llm("max_budget", OPT_NUMBER, None, "most USD to spend on model calls in this session",
         env="INTERPRETER_MAX_BUDGET", flag="max_budget", short="b",
         flag_help="most USD to spend on model calls in this session", server="read"),
    _llm("input_cost_per_token", OPT_NUMBER, None,
         "USD per prompt token, for any model (null: the price table's)",
         env="INTERPRETER_INPUT_COST_PER_TOKEN", flag="input_cost_per_token",
         flag_help="USD per prompt token (for models the price table does not know)",
         server="read"),
    _llm("output_cost_per_token", OPT_NUMBER, None,
         "USD per completion token, for any model (null: the price table's)",
         env="INTERPRETER_OUTPUT_COST_PER_TOKEN", flag="output_cost_per_token",
         flag_help="USD per completion token (for models the price table does not know)",
         server="read"),
    _llm("max_retries", INT, 4, "retries of a failed request (429, 5xx, no connection)",
         profile=False),
    _llm("request_timeout", NUMBER, 600.0, "seconds a model request may take", profile=False),
    # -- the computer ----------------------------------------------------------------------
    _computer("languages", TEXT_LIST, OWNED,
              "the languages offered to the model (a profile names them)"),
    _computer("timeout", OPT_NUMBER, None, "seconds code may run before it is interrupted",
              env="INTERPRETER_TIMEOUT"),
    _computer("max_output_bytes", OPT_INT, 1_000_000,
              "console output bytes one run forwards (the rest is dropped)", profile=False),
    _computer("sandbox", BOOL, False, "run code in an OS sandbox",
              flag="sandbox",
              flag_help="run code in an OS sandbox (files read-only but the working folder)"),
    _computer("allow_network", BOOL, False, "let sandboxed code use the network",
              flag="allow_network", flag_help="let sandboxed code use the network"),
    _computer("sandbox_allow_home", BOOL, False,
              "let the sandbox run from a working folder that is (or holds) the home folder",
              flag="sandbox_allow_home",
              flag_help="let --sandbox run from your home folder (start-up files, keys and "
              "profiles stay read-only; new files only inside its folders)"),
    _computer("kernel_gateway", OPT_TEXT, None, "run Python in a Jupyter Kernel Gateway",
              flag="kernel_gateway",
              flag_help="run Python in a Jupyter Kernel Gateway at this URL"),
    _computer("kernel_gateway_token", OPT_TEXT, None, "the Kernel Gateway's token", secret=True),
    _compat("computer", "import_computer_api",
            "code runs as written; there is no computer API to import"),
    _compat("computer", "import_skills", "there are no skills to import"),
    _compat("computer", "emit_images", "images code makes are always shown", default=True),
    _compat("computer", "offline", "the top-level offline applies"),
    _compat("computer", "verbose", "the top-level verbose applies"),
    _compat("computer", "max_output", "the top-level max_output applies", kind=INT,
            default=2800),
)  # fmt: skip


def _index() -> dict[tuple[str, ...], Setting]:
    return {s.path: s for s in SETTINGS}


_BY_PATH = _index()


def lookup(path: tuple[str, ...]) -> Setting | None:
    """The setting at ``("llm", "model")`` / ``("auto_run",)``, or None."""
    return _BY_PATH.get(tuple(path))


def setting(dotted: str) -> Setting:
    """The setting called ``"llm.model"`` / ``"auto_run"`` (KeyError if there is none)."""
    found = lookup(tuple(dotted.split(".")))
    if found is None:
        raise KeyError(dotted)
    return found


def held_by(owner: Section) -> Iterator[Setting]:
    """The settings that are attributes of ``owner`` (the interpreter, llm or computer)."""
    return (s for s in SETTINGS if s.attribute and s.held_by == owner)


def holder(interp: Any, item: Setting) -> Any:
    """The object that holds ``item`` as an attribute: ``interp``, ``interp.llm`` or
    ``interp.computer``."""
    return interp if item.held_by == "top" else getattr(interp, item.held_by)


def initialise(obj: Any, owner: Section, owned: Mapping[str, Any] | None = None) -> None:
    """Set every setting ``owner`` holds to its default on ``obj``. ``owned`` gives the
    defaults marked ``OWNED``: exactly those, no more, no less."""
    owned = dict(owned or {})
    expected = {s.name for s in held_by(owner) if s.default is OWNED}
    if set(owned) != expected:
        raise TypeError(f"{owner} defaults: expected {sorted(expected)}, got {sorted(owned)}")
    for item in held_by(owner):
        value = owned[item.name] if item.default is OWNED else item.fresh_default()
        setattr(obj, item.name, value)
