"""Profiles: 0.4.3's files, resolution, validation with one-line errors, and precedence."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from interpreter.store.profiles import (
    ENV_SETTINGS,
    PYTHON_PROFILE,
    ProfileError,
    apply_profile,
    ensure_default_profile,
    env_overrides,
    load_default_profile_into,
    load_profile,
    merge_profiles,
    resolve_profile,
)

FIXTURES = Path(__file__).parent / "fixtures" / "oi043"
SRC = str(Path(__file__).resolve().parents[1] / "src")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_error(path: Path) -> ProfileError:
    before = digest(path)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert digest(path) == before  # never modified
    assert "\n" not in str(caught.value)
    return caught.value


class Language:
    def __init__(self, name: str, aliases: tuple[str, ...] = ()) -> None:
        self.name, self.aliases = name, aliases


def stand_in() -> Any:
    """An object shaped like OpenInterpreter, for where the real one cannot be built."""
    llm = SimpleNamespace(model="gpt-4o", temperature=0, api_base=None, max_budget=None)
    languages = [Language("Python", ("py",)), Language("Shell", ("bash", "sh"))]
    computer = SimpleNamespace(timeout=None, languages=languages)
    return SimpleNamespace(llm=llm, computer=computer, auto_run=False, max_output=2800)


def real_interpreter() -> Any:
    try:
        from interpreter.core.interpreter import OpenInterpreter

        return OpenInterpreter(load_profile=False)
    except ImportError as exc:  # the core is still being written in this tree
        pytest.skip(f"OpenInterpreter cannot be built yet: {exc}")


# -- default.yaml -----------------------------------------------------------------------------


def test_ensure_default_profile_creates_commented_default(config_dir: Path) -> None:
    path = ensure_default_profile()
    assert path == config_dir / "profiles" / "default.yaml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert text.rstrip().endswith("version: 0.2.5  # Profile version (do not modify)")
    assert "# auto_run: false" in text
    assert load_profile(path) == {"llm": {"model": "gpt-4o", "temperature": 0}, "version": "0.2.5"}


def test_ensure_default_profile_keeps_users_file(config_dir: Path) -> None:
    path = write(config_dir / "profiles" / "default.yaml", "auto_run: true\n")
    assert ensure_default_profile() == path
    assert path.read_text() == "auto_run: true\n"


def test_real_043_profiles_load() -> None:
    default = load_profile(FIXTURES / "default.yaml")
    assert default == {
        "llm": {"model": "gpt-4o", "temperature": 0},
        "computer": {"import_computer_api": True},
        "version": "0.2.5",
    }
    assert load_profile(FIXTURES / "fast.yaml")["llm"]["model"] == "gpt-4o-mini"
    vision = load_profile(FIXTURES / "vision.yaml")  # 0.4.3 puts custom_instructions in llm:
    assert vision["custom_instructions"].startswith("The user will show you an image")
    assert "custom_instructions" not in vision["llm"]
    assert vision["llm"]["context_window"] == 110000 and vision["loop"] is True


# -- resolving names --------------------------------------------------------------------------


@pytest.mark.parametrize("extension", [".yaml", ".yml", ".json", ".py", ""])
def test_resolve_name_in_profiles_folder(config_dir: Path, extension: str) -> None:
    path = write(config_dir / "profiles" / f"work{extension}", "{}\n")
    assert resolve_profile("work") == path
    assert resolve_profile(f"work{extension}") == path


def test_resolve_prefers_yaml_and_accepts_paths(config_dir: Path, tmp_path: Path) -> None:
    yaml_file = write(config_dir / "profiles" / "both.yaml", "{}\n")
    write(config_dir / "profiles" / "both.json", "{}\n")
    assert resolve_profile("both") == yaml_file
    elsewhere = write(tmp_path / "elsewhere" / "mine.yml", "{}\n")
    assert resolve_profile(str(elsewhere)) == elsewhere


def test_resolve_default_creates_it(config_dir: Path) -> None:
    assert resolve_profile("default") == config_dir / "profiles" / "default.yaml"
    assert (config_dir / "profiles" / "default.yaml").is_file()


@pytest.mark.parametrize(
    "url",
    ["https://example.com/p.py", "http://example.com/p.yaml", "i.com/profile", "www.i.com/x"],
)
def test_resolve_refuses_urls(config_dir: Path, url: str) -> None:
    with pytest.raises(ProfileError, match="not downloaded"):
        resolve_profile(url)


def test_resolve_missing_and_foreign_python(config_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"no such profile \(looked for nope, nope.yaml"):
        resolve_profile("nope")
    script = write(tmp_path / "evil.py", "import os\n")
    with pytest.raises(ProfileError, match="Python profiles run only from"):
        resolve_profile(str(script))
    with pytest.raises(ProfileError, match="Python profiles run only from"):
        load_profile(script)


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "llm:\n  model: gpt-4o\n  temperatur: 0\n",
            ":3: llm.temperatur: unknown setting (did you mean llm.temperature?)",
        ),
        (
            "auto_run: true\nllm:\n  temperature: hot\n",
            ":3: llm.temperature: expected a number, got 'hot'",
        ),
        ("\nauto_run: maybe\n", ":2: auto_run: expected true or false, got 'maybe'"),
        ("max_output: true\n", ":1: max_output: expected a whole number, got True"),
        (
            "safe_mode: sometimes\n",
            ':1: safe_mode: expected "off", "ask" or "auto", got \'sometimes\'',
        ),
        (
            "computer:\n  languages: python\n",
            ":2: computer.languages: expected a list of text, got 'python'",
        ),
        ("llm: gpt-4o\n", ":1: llm: expected a section of settings (a mapping)"),
        ("version: 0.2.5\nmodel: gpt-4o\n", ":2: model: unknown setting (did you mean llm.model?)"),
        ("llm:\n  model: [gpt-4o\n", ":3: invalid YAML:"),
        ("- a\n- b\n", ":1: a profile is a mapping of settings, not a list"),
        ("auto_run: true\n\tverbose: true\n", ":2: invalid YAML:"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "p.yaml", text)
    assert str(load_error(path)).startswith(f"{path}{expected}")


def test_json_profile_errors(tmp_path: Path) -> None:
    bad = write(tmp_path / "p.json", '{\n  "llm": {\n    "model": 4\n  }\n}\n')
    assert str(load_error(bad)) == f"{bad}:3: llm.model: expected text, got 4"
    broken = write(tmp_path / "q.json", '{\n  "auto_run": true,\n}\n')
    assert str(load_error(broken)).startswith(f"{broken}:3: invalid JSON")
    good = write(tmp_path / "r.json", json.dumps({"llm": {"model": "m"}, "version": "0.2.5"}))
    assert load_profile(good) == {"llm": {"model": "m"}, "version": "0.2.5"}


def test_error_attributes(tmp_path: Path) -> None:
    error = load_error(write(tmp_path / "p.yaml", "llm:\n  max_tokens: lots\n"))
    assert (error.source, error.line, error.key) == (str(tmp_path / "p.yaml"), 2, "llm.max_tokens")


def test_values_and_nulls(tmp_path: Path) -> None:
    text = (
        "llm:\n  model: m\n  temperature: 0.5\n  context_window:\n  api_base: null\n"
        "  supports_functions: false\n  max_output: 900\n"
        "safe_mode: off\ncomputer:\n  timeout: 30\n  languages: [python]\n"
        "wtf:\n  model: small\nversion: 0.2.5\n"
    )
    profile = load_profile(write(tmp_path / "p.yaml", text))
    assert profile == {
        "llm": {
            "model": "m",
            "temperature": 0.5,
            "context_window": None,
            "api_base": None,
            "supports_functions": False,
        },
        "max_output": 900,  # 0.4.3's template puts it under llm:
        "safe_mode": "off",  # YAML reads a bare `off` as false
        "computer": {"timeout": 30, "languages": ["python"]},
        "wtf": {"model": "small"},
        "version": "0.2.5",
    }


def test_empty_profile(tmp_path: Path) -> None:
    assert load_profile(write(tmp_path / "p.yaml", "# nothing yet\n")) == {}
    assert load_profile(write(tmp_path / "p.json", "")) == {}


def test_old_flat_profile_is_migrated_in_memory(tmp_path: Path) -> None:
    text = (
        "model: gpt-4\ntemperature: 0.2\ncontext_window: 8000\nmax_tokens: 1000\n"
        "api_key: sk-old\napi_base: http://localhost:1234/v1\nfunction_calling_llm: false\n"
        "llm_supports_vision: true\nlocal: true\nsystem_message: You are helpful.\n"
        "auto_run: true\n"
    )
    path = write(tmp_path / "config.yaml", text)
    before = digest(path)
    assert load_profile(path) == {
        "llm": {
            "model": "gpt-4",
            "temperature": 0.2,
            "context_window": 8000,
            "max_tokens": 1000,
            "api_key": "sk-old",
            "api_base": "http://localhost:1234/v1",
            "supports_functions": False,
            "supports_vision": True,
        },
        "offline": True,
        "system_message": "You are helpful.",
        "auto_run": True,
    }
    assert digest(path) == before


def test_old_flat_key_error_points_at_old_key(tmp_path: Path) -> None:
    path = write(tmp_path / "old.yaml", "auto_run: true\ncontext_window: big\n")
    assert (
        str(load_error(path))
        == f"{path}:2: context_window: expected a whole number or null, got 'big'"
    )


def test_nested_wins_over_flat(tmp_path: Path) -> None:
    path = write(tmp_path / "p.yaml", "llm:\n  model: new\nmodel: old\n")
    assert load_profile(path) == {"llm": {"model": "new"}}


# -- applying ---------------------------------------------------------------------------------


def test_apply_sets_known_attributes_on_stand_in() -> None:
    interp = stand_in()
    apply_profile(
        interp,
        {"llm": {"model": "m", "temperature": 0.3}, "auto_run": True, "computer": {"timeout": 5}},
    )
    assert (interp.llm.model, interp.llm.temperature, interp.auto_run) == ("m", 0.3, True)
    assert interp.computer.timeout == 5
    with pytest.raises(ProfileError, match="llm.modle: unknown setting"):
        apply_profile(interp, {"llm": {"modle": "x"}})
    assert not hasattr(interp.llm, "modle")


def test_apply_restricts_languages_and_skips_version() -> None:
    interp = stand_in()
    apply_profile(interp, {"computer": {"languages": ["BASH"]}, "version": "0.2.5", "wtf": {}})
    assert [lang.name for lang in interp.computer.languages] == ["Shell"]
    assert not hasattr(interp, "version") and not hasattr(interp, "wtf")


def test_apply_to_real_interpreter() -> None:
    interp = real_interpreter()
    apply_profile(
        interp,
        {
            "llm": {"model": "claude-3-5-sonnet-20240620", "context_window": 1000, "max_budget": 1},
            "computer": {"timeout": 7, "languages": ["bash"]},
            "auto_run": True,
            "safe_mode": "ask",
            "custom_instructions": "Be brief.",
        },
    )
    assert interp.llm.model == "claude-3-5-sonnet-20240620"
    assert interp.llm.context_window == 1000 and interp.llm.max_budget == 1
    assert interp.computer.timeout == 7
    assert [lang.name.lower() for lang in interp.computer.languages] == ["shell"]
    assert interp.auto_run is True and interp.safe_mode == "ask"
    assert interp.custom_instructions == "Be brief."


def test_python_profile_runs_with_the_given_interpreter(config_dir: Path) -> None:
    write(
        config_dir / "profiles" / "mine.py",
        "from interpreter import interpreter\n"
        "from interpreter import interpreter as other\n"
        "interpreter.llm.model = 'from-script'\n"
        "interpreter.auto_run = other is interpreter\n",
    )
    profile = load_profile(resolve_profile("mine"))
    assert profile == {PYTHON_PROFILE: str(config_dir / "profiles" / "mine.py")}
    interp = stand_in()
    apply_profile(interp, merge_profiles(profile, {"max_output": 10}))
    assert interp.llm.model == "from-script"
    assert interp.max_output == 10
    assert interp.auto_run is False  # `other` is the library's, not the one given


def test_python_profile_errors_are_one_line(config_dir: Path) -> None:
    path = write(config_dir / "profiles" / "bad.py", "x = 1\nraise RuntimeError('boom')\n")
    with pytest.raises(ProfileError) as caught:
        apply_profile(stand_in(), load_profile(path))
    assert str(caught.value) == f"{path}:2: the profile failed: RuntimeError('boom')"
    write(path, "def broken(:\n")
    with pytest.raises(ProfileError, match=r"bad.py:1: invalid Python"):
        apply_profile(stand_in(), load_profile(path))


def test_python_marker_outside_folder_is_refused(tmp_path: Path, config_dir: Path) -> None:
    script = write(tmp_path / "x.py", "interpreter.auto_run = True\n")
    interp = stand_in()
    with pytest.raises(ProfileError, match="run only from"):
        apply_profile(interp, {PYTHON_PROFILE: str(script)})
    assert interp.auto_run is False


# -- environment, merging and precedence ---------------------------------------------------------


def test_env_overrides() -> None:
    environ = {
        "INTERPRETER_MODEL": "ollama/llama3",
        "INTERPRETER_API_BASE": "http://127.0.0.1:11434",
        "INTERPRETER_AUTO_RUN": "yes",
        "INTERPRETER_MAX_BUDGET": "0.5",
        "INTERPRETER_CONTEXT_WINDOW": "8000",
        "INTERPRETER_SAFE_MODE": "auto",
        "INTERPRETER_TIMEOUT": "30",
        "INTERPRETER_VERBOSE": "",
        "OPENAI_API_KEY": "sk-not-a-setting",
    }
    assert env_overrides(environ) == {
        "llm": {
            "model": "ollama/llama3",
            "api_base": "http://127.0.0.1:11434",
            "max_budget": 0.5,
            "context_window": 8000,
        },
        "auto_run": True,
        "safe_mode": "auto",
        "computer": {"timeout": 30.0},
    }
    assert env_overrides({}) == {}
    assert "INTERPRETER_API_KEY" not in ENV_SETTINGS  # that one is the server's token


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "INTERPRETER_AUTO_RUN",
            "maybe",
            "environment: INTERPRETER_AUTO_RUN: expected true or false, got 'maybe'",
        ),
        (
            "INTERPRETER_MAX_OUTPUT",
            "1.5",
            "environment: INTERPRETER_MAX_OUTPUT: expected a whole number, got '1.5'",
        ),
        (
            "INTERPRETER_SAFE_MODE",
            "yolo",
            'environment: INTERPRETER_SAFE_MODE: expected "off", "ask" or "auto", got \'yolo\'',
        ),
    ],
)
def test_env_errors(name: str, value: str, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        env_overrides({name: value})
    assert str(caught.value) == message


def test_merge_profiles_is_deep_and_does_not_mutate() -> None:
    base: dict[str, Any] = {"llm": {"model": "a", "temperature": 0}, "auto_run": False}
    top: dict[str, Any] = {"llm": {"model": "b"}, "verbose": True}
    merged = merge_profiles(base, top, {})
    assert merged == {"llm": {"model": "b", "temperature": 0}, "auto_run": False, "verbose": True}
    merged["llm"]["model"] = "c"
    assert base["llm"]["model"] == "a" and top["llm"]["model"] == "b"


PRECEDENCE = [
    # (profile, environment, flags) -> model, auto_run, max_output
    ({}, {}, {}, ("gpt-4o", False, 2800)),
    ({"llm": {"model": "p"}, "max_output": 1}, {}, {}, ("p", False, 1)),
    ({"llm": {"model": "p"}}, {"INTERPRETER_MODEL": "e"}, {}, ("e", False, 2800)),
    (
        {"llm": {"model": "p"}},
        {"INTERPRETER_MODEL": "e"},
        {"llm": {"model": "f"}},
        ("f", False, 2800),
    ),
    ({"auto_run": True}, {"INTERPRETER_AUTO_RUN": "0"}, {}, ("gpt-4o", False, 2800)),
    ({}, {"INTERPRETER_AUTO_RUN": "1"}, {"auto_run": False}, ("gpt-4o", False, 2800)),
    ({"max_output": 5}, {"INTERPRETER_MAX_OUTPUT": "6"}, {"max_output": 7}, ("gpt-4o", False, 7)),
]


@pytest.mark.parametrize(("profile", "environ", "flags", "expected"), PRECEDENCE)
def test_precedence_on_real_object(
    profile: dict[str, Any],
    environ: dict[str, str],
    flags: dict[str, Any],
    expected: tuple[Any, ...],
) -> None:
    interp = real_interpreter()
    apply_profile(interp, merge_profiles(profile, env_overrides(environ), flags))
    assert (interp.llm.model, interp.auto_run, interp.max_output) == expected


# -- the library's default profile ----------------------------------------------------------------


def test_load_default_profile_into(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("INTERPRETER_NO_DEFAULT_PROFILE", raising=False)
    interp = stand_in()
    load_default_profile_into(interp)  # no file: nothing changes, nothing is created
    assert interp.llm.model == "gpt-4o" and not config_dir.exists()

    write(config_dir / "profiles" / "default.yaml", "llm:\n  model: from-file\nauto_run: true\n")
    monkeypatch.setenv("INTERPRETER_MAX_BUDGET", "2")
    load_default_profile_into(interp)
    assert (interp.llm.model, interp.auto_run, interp.llm.max_budget) == ("from-file", True, 2.0)

    monkeypatch.setenv("INTERPRETER_NO_DEFAULT_PROFILE", "1")
    other = stand_in()
    load_default_profile_into(other)
    assert (other.llm.model, other.auto_run, other.llm.max_budget) == ("gpt-4o", False, None)


def test_malformed_default_profile_raises_one_line(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INTERPRETER_NO_DEFAULT_PROFILE", raising=False)
    path = write(config_dir / "profiles" / "default.yaml", "llm:\n  model: [oops\n")
    with pytest.raises(ProfileError) as caught:
        load_default_profile_into(stand_in())
    assert str(caught.value).startswith(f"{path}:3: invalid YAML")


def test_importing_and_no_default_profile_stay_cheap(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from interpreter.store.profiles import load_default_profile_into\n"
        "from types import SimpleNamespace as N\n"
        "load_default_profile_into(N(llm=N(), computer=N()))\n"
        "print(sorted(m for m in ('yaml', 'platformdirs', 'rich', 'httpx') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC, "XDG_CONFIG_HOME": str(tmp_path)}
    env.pop("INTERPRETER_NO_DEFAULT_PROFILE", None)
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "['platformdirs']"


def test_kernel_gateway_from_a_profile(tmp_path: Path) -> None:
    from interpreter import OpenInterpreter

    path = tmp_path / "remote.yaml"
    path.write_text("version: 0.2.5\ncomputer:\n  kernel_gateway: http://127.0.0.1:8888\n")
    interp = OpenInterpreter(load_profile=False)
    apply_profile(interp, load_profile(path))
    assert interp.computer.kernel_gateway == "http://127.0.0.1:8888"
