"""Every 0.4.3 flag and short form parses to the right setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from interpreter.terminal.args import UsageError, parse_args

SHORT_FORMS = {
    "-ci": ("custom_instructions", "x"), "-sm": ("system_message", "x"),
    "-m": ("model", "x"), "-t": ("temperature", 0.5), "-cw": ("context_window", 9),
    "-x": ("max_tokens", 9), "-b": ("max_budget", 0.5), "-ab": ("api_base", "x"),
    "-ak": ("api_key", "x"), "-av": ("api_version", "x"), "-xo": ("max_output", 9),
    "-safe": ("safe_mode", "ask"),
}  # fmt: skip
BOOL_SHORT = {
    "-y": "auto_run", "-nhl": "no_highlight_active_line", "-v": "verbose", "-dt":
    "disable_telemetry", "-o": "offline", "-f": "fast", "-ml": "multi_line", "-l": "local",
    "-pl": "plain", "-s": "stdin", "-lsv": "llm_supports_vision", "-lsf": "llm_supports_functions",
}  # fmt: skip


@pytest.mark.parametrize("flag", SHORT_FORMS)
def test_short_forms_with_values(flag: str) -> None:
    name, value = SHORT_FORMS[flag]
    assert getattr(parse_args([flag, str(value)]), name) == value


@pytest.mark.parametrize("flag", BOOL_SHORT)
def test_short_boolean_forms(flag: str) -> None:
    assert getattr(parse_args([flag]), BOOL_SHORT[flag]) is True


def test_p_is_the_profile_if_one_has_that_name_else_the_task(config_dir: Path) -> None:
    assert (parse_args(["-p", "mine"]).prompt, parse_args(["-p", "mine"]).profile) == ("mine", None)
    (config_dir / "profiles").mkdir(parents=True)
    (config_dir / "profiles" / "mine.yaml").write_text("auto_run: false\n")
    ns = parse_args(["-p", "mine", "do", "it"])
    assert (ns.profile, ns.prompt, ns.message) == ("mine", None, "do it")
    assert parse_args(["--profile", "other"]).profile == "other"  # --profile is always one
    assert parse_args(["-p", "gone.yaml"]).profile == "gone.yaml"  # its error is --profile's
    assert parse_args(["--prompt", "mine"]).prompt == "mine"
    with pytest.raises(UsageError, match="two profiles"):
        parse_args(["-p", "mine", "--profile", "mine"])


def test_bare_words_and_defaults() -> None:
    ns = parse_args(["-y", "list", "my", "files"])
    assert ns.message == "list my files" and ns.auto_run is True
    assert parse_args([]).message is None and parse_args([]).auto_run is None


def test_negative_booleans_and_reset_profile() -> None:
    assert parse_args(["--no-llm_supports_functions"]).llm_supports_functions is False
    assert parse_args(["--reset_profile"]).reset_profile == ""
    assert parse_args(["--reset_profile", "fast"]).reset_profile == "fast"


@pytest.mark.parametrize("argv", [["--os"], ["-os"], ["--vision"], ["-sp"], ["--safe_mode", "x"]])
def test_refused(argv: list[str]) -> None:
    with pytest.raises(UsageError):
        parse_args(argv)
