"""The settings table drives everything: defaults, flags, profiles, environment, server."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from helpers import make_interpreter
from interpreter import OpenInterpreter
from interpreter.execution.computer import Computer
from interpreter.llm.llm import Llm
from interpreter.server import ServerSettings, create_app
from interpreter.server.client import LmcClient
from interpreter.server.config import clone_interpreter
from interpreter.server.runner import ServerThread, listen
from interpreter.settings import OWNED, SETTINGS, Setting, held_by, holder, setting
from interpreter.store.profiles import (
    ENV_SETTINGS,
    ProfileError,
    apply_profile,
    env_overrides,
    load_profile,
)
from interpreter.terminal.args import COMMAND_FLAGS, UsageError, build_parser, parse_args
from interpreter.terminal.magic import MagicContext, run_magic
from interpreter.terminal.settings import build_interpreter
from interpreter.testing.fake_server import FakeModelServer, Reply

ATTRIBUTES = [s for s in SETTINGS if s.attribute]
WITH_FLAGS = [s for s in SETTINGS if s.flag]
IN_PROFILES = [s for s in SETTINGS if s.profile]


def sandbox_works() -> bool:
    from interpreter.execution.sandbox import SandboxUnavailable, require

    try:
        require()
    except SandboxUnavailable:
        return False
    return True


def other_value(item: Setting) -> Any:
    """A valid value of ``item`` that is not its default."""
    kind = item.kind
    if item.path == ("computer", "languages"):
        return ["python"]
    if kind.choices:
        return next(c for c in kind.choices if c != item.default)
    if bool in kind.kinds:
        return not item.default if item.default is not None else True
    if dict in kind.kinds:
        return {"allow": [{"language": "shell", "command": "ls"}]}
    if list in kind.kinds:
        return ["Stop here."]
    if float in kind.kinds:
        return 0.5
    if int in kind.kinds:
        return 7
    return "http://127.0.0.1:9/v1" if "api_base" in item.name else f"{item.name}-value"


def value_of(interp: OpenInterpreter, item: Setting) -> Any:
    value = getattr(holder(interp, item), item.name)
    if item.path == ("computer", "languages"):
        return [cls.name.lower() for cls in value]
    return value


# -- defaults ---------------------------------------------------------------------------------


def test_defaults_of_the_three_objects_come_from_the_table() -> None:
    interp = OpenInterpreter(load_profile=False)
    for item in ATTRIBUTES:
        value = getattr(holder(interp, item), item.name)
        if item.default is not OWNED:
            assert value == item.default, item.dotted
        if item.path != ("computer", "languages"):
            assert item.kind.accepts(value), item.dotted
    assert Llm().model == setting("llm.model").default
    assert Computer().max_output_bytes == setting("computer.max_output_bytes").default
    first, second = OpenInterpreter(load_profile=False), OpenInterpreter(load_profile=False)
    first.permissions["allow"].append({"language": "python"})
    assert second.permissions == {"allow": []}  # each instance has its own copy


@pytest.mark.parametrize(
    ("cls", "owner"), [(OpenInterpreter, "top"), (Llm, "llm"), (Computer, "computer")]
)
def test_every_attribute_is_declared_for_the_type_checker(cls: type, owner: str) -> None:
    declared = {n for klass in cls.__mro__ for n in getattr(klass, "__annotations__", {})}
    for item in held_by(owner):  # type: ignore[arg-type]
        assert item.name in declared or isinstance(getattr(cls, item.name, None), property)


def test_compat_rows_say_why_and_set_no_attribute() -> None:
    interp = OpenInterpreter(load_profile=False)
    for item in SETTINGS:
        if not item.attribute:
            assert item.compat, item.dotted
            assert not hasattr(holder(interp, item), item.name), item.dotted


# -- command-line flags -----------------------------------------------------------------------


def test_every_flag_is_in_help_and_is_a_setting_or_a_command() -> None:
    shown = build_parser().format_help()
    for item in WITH_FLAGS:
        assert f"--{item.flag}" in shown
        assert item.short is None or re.search(rf"[\s,]-{item.short}\b", shown), item.short
        assert str(item.flag_help).split()[0] in shown
    flags = {a.dest for a in build_parser()._actions} - {"help", "message", "reset_profile"}
    assert flags == {s.flag for s in WITH_FLAGS} | set(COMMAND_FLAGS)


@pytest.mark.parametrize("item", WITH_FLAGS, ids=lambda s: str(s.flag))
def test_every_setting_flag_reaches_its_attribute(item: Setting, config_dir: Path) -> None:
    value = other_value(item)
    if item.kind.kinds == (bool,):
        argv = [f"--{item.flag}"]
        value = not item.default if item.negated_flag else True
    else:
        argv = [f"--{item.flag}", str(value)]
    if not item.attribute:  # a 0.4.3 flag for a feature this version lacks: refused
        with pytest.raises(UsageError, match="not supported"):
            parse_args(argv)
        return
    args = parse_args(argv)
    if item.name == "sandbox" and not sandbox_works():
        with pytest.raises(ProfileError, match="--sandbox"):
            build_interpreter(args)
        return
    assert value_of(build_interpreter(args), item) == value


def test_flags_beat_the_profile(config_dir: Path) -> None:
    profile = config_dir / "profiles" / "default.yaml"
    profile.parent.mkdir(parents=True)
    profile.write_text("version: 0.2.5\nhighlight_active_line: false\nmulti_line: false\n")
    interp = build_interpreter(parse_args(["-ml"]))
    assert interp.multi_line is True and interp.highlight_active_line is False


# -- profiles and the environment ---------------------------------------------------------------


def profile_text(item: Setting, value: Any) -> str:
    nested: dict[str, Any] = {item.name: value}
    data = {"version": "0.2.5", **({item.section: nested} if item.section != "top" else nested)}
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize("item", IN_PROFILES, ids=lambda s: s.dotted)
def test_every_profile_key_round_trips(
    item: Setting, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    value = other_value(item)
    path = tmp_path / "p.yaml"
    path.write_text(profile_text(item, value))
    loaded = load_profile(path)
    section = loaded if item.section == "top" else loaded[item.section]
    assert section[item.name] == value
    interp = OpenInterpreter(load_profile=False)
    if item.name == "sandbox" and not sandbox_works():
        return
    apply_profile(interp, loaded)
    if item.attribute:
        assert value_of(interp, item) == value
    else:
        assert not hasattr(holder(interp, item), item.name)
    warned = [r.getMessage() for r in caplog.records]
    assert warned == (
        [f"{path}:2: {item.name}: {item.compat}; ignored"] if item.unsupported else []
    )


def test_unknown_key_is_a_one_line_warning_naming_key_and_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("version: 0.2.5\nauto_run: true\nfrobnicate: 3\ncomputer:\n  warp_drive: on\n")
    with caplog.at_level(logging.WARNING, logger="interpreter"):
        loaded = load_profile(path)
    assert loaded == {"version": "0.2.5", "auto_run": True}
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}:3: frobnicate: unknown setting, ignored",
        f"{path}:5: computer.warp_drive: unknown setting, ignored",
    ]
    interp = OpenInterpreter(load_profile=False)
    apply_profile(interp, {"frobnicate": 1})
    assert not hasattr(interp, "frobnicate")
    assert caplog.records[-1].getMessage() == "profile: frobnicate: unknown setting, ignored"


def test_0_4_3_keys_load_quietly_and_set_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(
        "version: 0.2.5\nos: false\nspeak_messages: false\ncontribute_conversation: false\n"
        "computer:\n  import_computer_api: true\n  emit_images: true\n  verbose: false\n"
    )
    interp = OpenInterpreter(load_profile=False)
    apply_profile(interp, load_profile(path))
    assert caplog.records == []
    assert not hasattr(interp, "os") and not hasattr(interp.computer, "import_computer_api")


def test_environment_overrides_are_the_tables() -> None:
    assert {s.env: (s.path, s.kind.parser) for s in SETTINGS if s.env} == ENV_SETTINGS
    for item in SETTINGS:
        if item.env and item.kind.parser != "str":
            raw = {"bool": "true", "int": "7", "number": "0.5"}[item.kind.parser]
            got = env_overrides({item.env: raw})
            got = got if item.section == "top" else got[item.section]
            assert got == {item.name: {"true": True, "7": 7, "0.5": 0.5}[raw]}


# -- the server ---------------------------------------------------------------------------------


def test_sessions_inherit_every_setting_of_the_operator(model: FakeModelServer) -> None:
    operator = make_interpreter(model)
    changed = [s for s in ATTRIBUTES if s.inherit and s.name != "sandbox"]
    for item in changed:
        target = holder(operator, item)
        if item.path == ("computer", "languages"):
            target.languages = target.languages[:1]
        else:
            setattr(target, item.name, other_value(item))
    session = clone_interpreter(operator)
    for item in changed:
        assert value_of(session, item) == value_of(operator, item), item.dotted
    assert session.permissions is not operator.permissions
    assert session.computer.languages is not operator.computer.languages


def test_a_session_runs_what_the_operators_permissions_allow(
    model: FakeModelServer, tmp_path: Path
) -> None:
    marker = tmp_path / "allowed"
    operator = make_interpreter(model)
    operator.permissions = {"allow": [{"language": "shell", "command": f"touch {marker}"}]}
    model.script(Reply.tool_call("shell", f"touch {marker}"), Reply.text("done"))
    sock = listen()
    settings = ServerSettings(
        make_interpreter=lambda: clone_interpreter(operator),
        token="t",
        port=sock.getsockname()[1],
    )
    server = ServerThread(create_app(settings), sock).start()
    try:
        with LmcClient(f"ws://127.0.0.1:{server.port}/", "t", timeout=15) as client:
            chunks = client.chat("make the marker")
    finally:
        server.stop()
    assert not client.pending_code(chunks)
    assert marker.exists()


def test_settings_api_follows_the_table(model: FakeModelServer) -> None:
    sock = listen()
    settings = ServerSettings(
        make_interpreter=lambda: make_interpreter(model), token="t", port=sock.getsockname()[1]
    )
    server = ServerThread(create_app(settings), sock).start()
    headers = {"X-API-KEY": "t", "X-Session-Id": "s"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", headers=headers) as c:
            for item in SETTINGS:
                view = c.get("/settings").json()
                shown = view if item.section == "top" else view.get(item.section, {})
                assert (item.name in shown) == (item.server != "hidden"), item.dotted
                change = {item.name: other_value(item)}
                reply = c.post(
                    "/settings", json=change if item.section == "top" else {item.section: change}
                )
                if item.server == "write":
                    assert reply.status_code == 200, item.dotted
                    got = c.get(f"/settings/{item.dotted}").json()
                    assert list(got.values()) == [other_value(item)]
                elif item.attribute:
                    assert reply.status_code == 403, item.dotted
    finally:
        server.stop()


# -- %info ------------------------------------------------------------------------------------


def test_info_lists_every_setting_and_no_secret() -> None:
    interp = OpenInterpreter(load_profile=False)
    interp.llm.api_key = "sk-very-secret"
    said: list[str] = []
    run_magic(MagicContext(interp, said.append, said.append), "%info")
    lines = said[0].splitlines()
    names = {line.split()[0] for line in lines}
    assert {s.dotted for s in ATTRIBUTES if s.compat is None} <= names
    assert "sk-very-secret" not in said[0]
    assert "llm.api_key" in said[0] and any(
        line.split() == ["llm.api_key", "set"] for line in lines
    )
