"""Backend options from flags (``--<type>-<key>``) and variables (``SYNCER_<TYPE>_<KEY>``), generated from a
backend's Options dataclass, and how ``open_backend`` lays them over each remote's options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import pytest

from backends import Registry, RemoteConfig, open_backend
from backends.errors import ConfigError
from backends.memory import MemoryBackend
from backends.secret_values import Secret
from syncer.backend_flags import Layered, env_name, flag_name, from_env, merge, take_flags
from syncer.errors import UsageError


@dataclass(frozen=True)
class ToyOptions:
    user: str = ""
    password: Secret | None = field(default=None, metadata={"key": "pass"})
    code: Secret | None = field(default=None, metadata={"key": "2fa", "argv": True})
    hard_delete: bool = False
    count: int = 4
    ratio: float = 0.5
    mode: Literal["a", "b"] = "a"
    tags: list[str] = field(default_factory=list)
    state_dir: str = field(default="", metadata={"internal": True})


class ToyBackend(MemoryBackend):
    type_name: ClassVar[str] = "toy"
    Options: ClassVar[type[Any]] = ToyOptions


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    registry.register("toy", ToyBackend)
    return registry


def test_names() -> None:
    assert flag_name("mega", "api_url") == "--mega-api-url"
    assert flag_name("mega", "2fa") == "--mega-2fa"
    assert env_name("mega", "api_url") == "SYNCER_MEGA_API_URL"
    assert env_name("mega", "pass_command") == "SYNCER_MEGA_PASS_COMMAND"


def test_flags_are_taken_out_and_typed(registry: Registry) -> None:
    argv = ["lsf", "--toy-user", "me", ":toy:", "--toy-count=7", "--toy_ratio", "1.5", "--toy-mode=b",
            "--toy-tags", "x, y", "--toy-2fa", "123456", "-v"]  # fmt: skip
    rest, found = take_flags(argv, registry)
    assert rest == ["lsf", ":toy:", "-v"]
    values = found["toy"]
    code = values.pop("code")
    assert values == {"user": "me", "count": 7, "ratio": 1.5, "mode": "b", "tags": ["x", "y"]}
    assert isinstance(code, Secret) and code.reveal() == "123456"


def test_a_bool_flag_alone_is_true_and_never_takes_the_next_word(registry: Registry) -> None:
    rest, found = take_flags(["copy", "--toy-hard-delete", "false", "dst"], registry)
    assert (rest, found) == (["copy", "false", "dst"], {"toy": {"hard_delete": True}})
    assert take_flags(["--toy-hard-delete=no"], registry)[1] == {"toy": {"hard_delete": False}}


def test_tokens_after_double_dash_are_left_alone(registry: Registry) -> None:
    assert take_flags(["cat", "--", "--toy-user"], registry) == (["cat", "--", "--toy-user"], {})


def test_other_tokens_never_import_a_backend() -> None:
    registry = Registry(types={"ghost": "no_such_module_anywhere:Backend"})
    assert take_flags(["ls", "--ghosted", "--gho-x", "ghost:"], registry) == (
        ["ls", "--ghosted", "--gho-x", "ghost:"],
        {},
    )
    with pytest.raises(UsageError, match="remote type 'ghost' is not available"):
        take_flags(["--ghost-x=1"], registry)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--toy-count=many"], "--toy-count: expected an integer, got 'many'"),
        (["--toy-ratio=x"], "--toy-ratio: expected a number, got 'x'"),
        (["--toy-mode", "c"], "--toy-mode: expected one of a, b, got 'c'"),
        (["--toy-hard-delete=maybe"], "--toy-hard-delete: expected true or false, got 'maybe'"),
        (["--toy-user"], "flag --toy-user needs a value"),
        (["--toy-usr=x"], "unknown flag --toy-usr (flags of toy remotes: --toy-2fa, --toy-count,"),
        (["--toy-state-dir=/x"], "unknown flag --toy-state-dir"),
    ],
)
def test_bad_flags(registry: Registry, argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        take_flags(argv, registry)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "argv", [["--toy-pass", "s3cret"], ["--toy-pass=s3cret"], ["--toy-pass-command=cat x"]]
)
def test_secrets_have_no_flag(registry: Registry, argv: list[str]) -> None:
    with pytest.raises(UsageError) as caught:
        take_flags(argv, registry)
    message = str(caught.value)
    assert "SYNCER_TOY_PASS" in message and "pass_command" in message and "${VAR}" in message
    assert "s3cret" not in message and "\n" not in message


def test_environment(registry: Registry) -> None:
    env = {
        "SYNCER_TOY_USER": "me",
        "SYNCER_TOY_PASS": "s3cret",
        "SYNCER_TOY_HARD_DELETE": "yes",
        "SYNCER_TOY_COUNT": "",  # empty: not set
        "SYNCER_CHECKERS": "3",  # a global option: not a backend's
        "OTHER": "x",
    }
    values = from_env(env, registry)["toy"]
    password = values.pop("password")
    assert values == {"user": "me", "hard_delete": True}
    assert isinstance(password, Secret) and password.reveal() == "s3cret"


def test_environment_secret_command(registry: Registry) -> None:
    found = from_env({"SYNCER_TOY_PASS_COMMAND": "echo from-a-command"}, registry)
    assert found["toy"]["password"].reveal() == "from-a-command"
    with pytest.raises(ConfigError, match="set either SYNCER_TOY_PASS or SYNCER_TOY_PASS_COMMAND, not both"):
        from_env({"SYNCER_TOY_PASS": "a", "SYNCER_TOY_PASS_COMMAND": "echo b"}, registry)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SYNCER_TOY_COUNT": "x"}, "SYNCER_TOY_COUNT: expected an integer, got 'x'"),
        ({"SYNCER_TOY_MODE": "z"}, "SYNCER_TOY_MODE: expected one of a, b, got 'z'"),
        (
            {"SYNCER_TOY_USR": "x"},
            "unknown variable SYNCER_TOY_USR (variables of toy remotes: SYNCER_TOY_2FA,",
        ),
    ],
)
def test_bad_environment(registry: Registry, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        from_env(env, registry)
    assert message in str(caught.value)


def test_flags_win_over_the_environment_field_by_field() -> None:
    env: dict[str, dict[str, Any]] = {"toy": {"user": "env", "count": 1}}
    flags: dict[str, dict[str, Any]] = {"toy": {"user": "flag"}, "local": {"copy_links": True}}
    assert merge(env, flags) == {"toy": {"user": "flag", "count": 1}, "local": {"copy_links": True}}


def test_open_backend_lays_type_options_over_each_remote_of_that_type(registry: Registry) -> None:
    remotes = {"cfg": RemoteConfig("cfg", "toy", ToyOptions(user="yaml", count=2))}
    layered: dict[str, dict[str, Any]] = {"toy": {"user": "flag"}, "local": {"copy_links": True}}
    configured = open_backend("cfg:", remotes, registry=registry, type_overrides=layered)
    assert (configured.options.user, configured.options.count) == ("flag", 2)
    on_the_fly = open_backend(":toy:", remotes, registry=registry, type_overrides=layered)
    assert on_the_fly.options.user == "flag"
    only_local: dict[str, dict[str, Any]] = {"local": {"copy_links": True}}
    untouched = open_backend("cfg:", remotes, registry=registry, type_overrides=only_local)
    assert untouched.options.user == "yaml"


def test_layered_reads_a_type_s_variables_only_when_that_type_is_looked_up() -> None:
    registry = Registry(types={"ghost": "no_such_module_anywhere:Backend", "toy": "x:y"})
    registry.register("toy", ToyBackend)
    env = {"SYNCER_GHOST_X": "1", "SYNCER_TOY_USER": "env", "SYNCER_TOY_COUNT": "3"}
    layered = Layered(env, registry, {"toy": {"user": "flag"}})
    assert sorted(layered) == ["ghost", "toy"] and len(layered) == 2  # nothing imported to know that
    assert layered["toy"] == {"user": "flag", "count": 3}
    assert layered.get("local") is None
    with pytest.raises(ConfigError, match="SYNCER_GHOST_X: remote type 'ghost' is not available"):
        layered["ghost"]
