"""Precedence of global options: built-in < YAML defaults < SYNCER_<OPTION> < command-line flags."""

from __future__ import annotations

import pytest

from backends.errors import ConfigError
from syncer.options import GlobalOptions, resolve_global_options

NO_FLAGS = {"log_level": None, "copy_links": None, "checkers": None, "transfers": None}


def test_built_in_defaults() -> None:
    assert resolve_global_options({}, {}, NO_FLAGS) == GlobalOptions("NOTICE", False, 8, 4)


def test_each_source_overrides_the_one_before() -> None:
    yaml = {"checkers": 2, "transfers": 3, "copy_links": True, "log_level": "ERROR"}
    assert resolve_global_options(yaml, {}, NO_FLAGS) == GlobalOptions(
        "ERROR", True, 2, 3, workers_given=True
    )
    env = {"SYNCER_CHECKERS": "5", "SYNCER_COPY_LINKS": "false", "SYNCER_LOG_LEVEL": "info"}
    assert resolve_global_options(yaml, env, NO_FLAGS) == GlobalOptions(
        "INFO", False, 5, 3, workers_given=True
    )
    flags = {**NO_FLAGS, "checkers": 7, "log_level": "DEBUG"}
    assert resolve_global_options(yaml, env, flags) == GlobalOptions("DEBUG", False, 7, 3, workers_given=True)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SYNCER_CHECKERS": "many"}, "SYNCER_CHECKERS: expected an integer, got 'many'"),
        ({"SYNCER_COPY_LINKS": "maybe"}, "SYNCER_COPY_LINKS: expected true or false, got 'maybe'"),
        ({"SYNCER_LOG_LEVEL": "loud"}, "SYNCER_LOG_LEVEL: expected one of DEBUG, INFO, NOTICE, ERROR"),
        ({"SYNCER_TRANSFERS": "0"}, "--transfers must be at least 1, got 0"),
    ],
)
def test_bad_environment_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_global_options({}, env, NO_FLAGS)
    assert str(info.value).startswith(message)


def test_zero_checkers_flag_is_refused() -> None:
    with pytest.raises(ConfigError, match="--checkers must be at least 1"):
        resolve_global_options({}, {}, {**NO_FLAGS, "checkers": 0})


def test_workers_given_only_when_a_count_was_set() -> None:
    assert resolve_global_options({"copy_links": True}, {}, NO_FLAGS).workers_given is False
    assert resolve_global_options({}, {"SYNCER_CHECKERS": "2"}, NO_FLAGS).workers_given is True
    assert resolve_global_options({}, {}, {**NO_FLAGS, "transfers": 6}).workers_given is True
