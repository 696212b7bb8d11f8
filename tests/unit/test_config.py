"""syncer.config (file location, validation, interpolation, secrets, redaction) and backends.private_files."""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest

from backends import Registry, RemoteConfig, open_backend
from backends.base import Backend, Entry, Features, NoOptions
from backends.errors import ConfigError
from backends.private_files import private_dir, write_private
from backends.secret_values import Secret
from syncer.config import Config, config_error, config_path, default_config_path, load_config, state_dir

SECRET = "s3cr3t-value-that-must-not-leak"


# -- a test-only backend type -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeOptions:
    flag: bool = False
    count: int = 1
    ratio: float = 0.5
    label: str = "x"
    note: str | None = None
    password: Secret | None = None
    tags: list[str] = field(default_factory=list)
    mode: Literal["fast", "safe"] = "safe"


@dataclass(frozen=True)
class NeedsOptions:
    user: str
    token: Secret


class FakeBackend(Backend):
    type_name = "fake"
    Options: ClassVar[type[Any]] = FakeOptions
    features = Features()

    def list(self, directory: str) -> list[Entry]:
        raise NotImplementedError

    def stat(self, path: str) -> Entry:
        raise NotImplementedError

    def open_read(self, target: Any, offset: int = 0, length: int | None = None) -> Any:
        raise NotImplementedError

    def put(self, path: str, stream: Any, *, size: Any, mtime_ns: Any, hashes: Any = None) -> Entry:
        raise NotImplementedError

    def mkdir(self, path: str) -> None:
        raise NotImplementedError

    def remove(self, target: Any) -> None:
        raise NotImplementedError

    def rmdir(self, path: str) -> None:
        raise NotImplementedError

    def move(self, target: Any, dst_path: str) -> Entry:
        raise NotImplementedError


class NeedsBackend(FakeBackend):
    type_name = "needs"
    Options: ClassVar[type[Any]] = NeedsOptions


@dataclass(frozen=True)
class BadOptions:
    mapping: dict[str, str] = field(default_factory=dict)


class BadBackend(FakeBackend):
    type_name = "bad"
    Options: ClassVar[type[Any]] = BadOptions


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    registry.register("fake", FakeBackend)
    registry.register("needs", NeedsBackend)
    registry.register("bad", BadBackend)
    return registry


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home")}


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    """Write ``text`` (dedented; its first line is line 1) to a config file."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load(path: Path, registry: Registry, env: Mapping[str, str] | None = None) -> Config:
    return load_config(path, env or {}, registry)


def error(path: Path, registry: Registry, env: Mapping[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(path, registry, env)
    message = str(info.value)
    assert "\n" not in message
    assert info.value.exit_code == 2
    return message


def py(code: str) -> str:
    return shlex.join([sys.executable, "-c", code])


# -- where the files are ------------------------------------------------------------------------------------


def test_config_path_precedence(tmp_path: Path) -> None:
    env = {"HOME": "/h", "SYNCER_CONFIG": "/from/env.yaml", "XDG_CONFIG_HOME": "/xdg"}
    assert config_path("/explicit.yaml", env) == "/explicit.yaml"
    assert config_path(None, env) == "/from/env.yaml"
    assert config_path(None, {"HOME": "/h", "XDG_CONFIG_HOME": "/xdg"}) == "/xdg/syncer/config.yaml"
    assert config_path(None, {"HOME": "/h"}) == "/h/.config/syncer/config.yaml"
    assert (
        config_path(None, {"HOME": "/h", "SYNCER_CONFIG": "", "XDG_CONFIG_HOME": ""})
        == "/h/.config/syncer/config.yaml"
    )
    # the XDG spec: relative values are ignored
    assert config_path(None, {"HOME": "/h", "XDG_CONFIG_HOME": "rel"}) == "/h/.config/syncer/config.yaml"
    assert config_path("~/c.yaml", {"HOME": "/h"}) == str(Path.home() / "c.yaml")
    assert default_config_path({"HOME": "/h"}) == "/h/.config/syncer/config.yaml"


def test_state_dir() -> None:
    assert state_dir({"HOME": "/h", "SYNCER_STATE_DIR": "/s", "XDG_STATE_HOME": "/x"}) == "/s"
    assert state_dir({"HOME": "/h", "XDG_STATE_HOME": "/x"}) == "/x/syncer"
    assert state_dir({"HOME": "/h"}) == "/h/.local/state/syncer"


def test_missing_default_config_is_empty(registry: Registry, env: dict[str, str]) -> None:
    path = config_path(None, env)
    config = load_config(path, env, registry)
    assert config == Config(path=path)
    assert config.remotes == {} and config.defaults == {} and config.filters is None and config.jobs is None


def test_missing_explicit_config_is_an_error(tmp_path: Path, registry: Registry, env: dict[str, str]) -> None:
    missing = tmp_path / "nope.yaml"
    for path in (config_path(str(missing), env), config_path(None, {**env, "SYNCER_CONFIG": str(missing)})):
        with pytest.raises(ConfigError) as info:
            load_config(path, env, registry)
        assert str(info.value) == f"config file not found: {missing}"
    assert load_config(missing, env, registry, missing_ok=True) == Config(path=str(missing))


def test_unreadable_config(tmp_path: Path, registry: Registry) -> None:
    with pytest.raises(ConfigError, match=rf"^cannot read config file {tmp_path}: "):
        load(tmp_path, registry)


def test_empty_file_and_empty_document(tmp_path: Path, registry: Registry) -> None:
    assert load(write(tmp_path, ""), registry).remotes == {}
    assert load(write(tmp_path, "# only a comment\n---\n"), registry).remotes == {}
    assert load(write(tmp_path, "~\n"), registry).remotes == {}


# -- a valid file -------------------------------------------------------------------------------------------


def test_full_config(tmp_path: Path, registry: Registry) -> None:
    path = write(
        tmp_path,
        """
        remotes:
          box:
            type: fake
            root: /srv/data
            flag: true
            count: 7
            ratio: 2
            label: hello
            note: ~
            password: "${PW}"
            tags: [a, "b c"]
            mode: fast
          "my remote.2":
            type: fake
          mem:
            type: memory
        defaults:
          log_level: debug
          copy_links: true
          checkers: 4
          transfers: 2
        filters:
          rules: ["- *.tmp"]
        jobs:
          - name: mirror
            from: box:a
        """,
    )
    config = load(path, registry, {"PW": SECRET})
    assert list(config.remotes) == ["box", "my remote.2", "mem"]
    box = config.remotes["box"]
    assert box == RemoteConfig(
        name="box",
        type="fake",
        options=FakeOptions(
            flag=True,
            count=7,
            ratio=2.0,
            label="hello",
            note=None,
            password=Secret(SECRET),
            tags=["a", "b c"],
            mode="fast",
        ),
        root="/srv/data",
    )
    assert isinstance(box.options.ratio, float)
    assert box.options.password.reveal() == SECRET
    assert config.remotes["my remote.2"].options == FakeOptions()
    assert config.remotes["my remote.2"].root == ""
    assert config.defaults == {"log_level": "DEBUG", "copy_links": True, "checkers": 4, "transfers": 2}
    assert config.filters == {"rules": ["- *.tmp"]}
    assert config.jobs == [{"name": "mirror", "from": "box:a"}]
    assert config.nodes["jobs"].start_mark.line == 24  # 0-based: for later features' messages


def test_real_memory_type_has_no_options(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        remotes:
          scratch:
            type: memory
            root: a/b
        """,
    )
    config = load(path, Registry())
    assert config.remotes["scratch"] == RemoteConfig("scratch", "memory", NoOptions(), "a/b")
    with open_backend("scratch:x", config.remotes) as backend:  # what the engine does with it
        assert (backend.type_name, backend.name, backend.root) == ("memory", "scratch", "a/b/x")
    bad = write(
        tmp_path,
        """
        remotes:
          scratch:
            type: memory
            copy_links: true
        """,
    )
    assert error(bad, Registry()) == (
        f"{bad}:4: remotes.scratch.copy_links: "
        "unknown option 'copy_links' for remote type memory (known: root)"
    )


def test_real_local_type(tmp_path: Path) -> None:
    pytest.importorskip("backends.local")
    path = write(
        tmp_path,
        """
        remotes:
          work:
            type: local
            root: /data
            copy_links: true
            tyep: local
        """,
    )
    message = error(path, Registry())
    assert message.startswith(
        f"{path}:6: remotes.work.tyep: unknown option 'tyep' for remote type local (known: "
    )
    assert "copy_links" in message and "root" in message


def test_required_options(tmp_path: Path, registry: Registry) -> None:
    path = write(
        tmp_path,
        """
        remotes:
          n:
            type: needs
            user: me
            token_command: "echo hi"
        """,
    )
    options = load(path, registry).remotes["n"].options
    assert options.user == "me" and options.token.command == "echo hi"
    path = write(
        tmp_path,
        """
        remotes:
          n:
            type: needs
            token: abc
        """,
    )
    assert error(path, registry) == f"{path}:2: remotes.n: missing required option 'user'"
    path = write(
        tmp_path,
        """
        remotes:
          n:
            type: needs
            user: me
        """,
    )
    assert error(path, registry) == (
        f"{path}:2: remotes.n: missing required option 'token' or 'token_command'"
    )


# -- YAML errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("remotes:\n  a:\n\ttype: local\n", 3, "found character"),
        # an unclosed quote or bracket is reported where it opens, not where the parser gave up
        ("remotes:\n  a: 'unclosed\n", 2, "found unexpected end of stream"),
        ("a: 1\n---\nb: 2\n", 2, "but found another document"),
        ("remotes:\n  x: *nothing\n", 2, "found undefined alias"),
        ("remotes:\n  a: [1, 2\n", 2, "did not find expected ',' or ']'"),
        # a bad dedent is reported on its own line, not on the line of the enclosing block
        ("a:\n  b: 1\n c: 2\n", 3, "did not find expected key"),
    ],
)
def test_malformed_yaml(tmp_path: Path, registry: Registry, text: str, line: int, problem: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    message = error(path, registry)
    assert message.startswith(f"{path}:{line}: invalid YAML: {problem}")


def test_non_utf8_and_control_characters(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"remotes:\n  a:\n    type: \xff\n")
    assert error(path, registry) == f"{path}:3: invalid YAML: the file is not valid UTF-8"
    path.write_bytes(b"remotes:\n\n  a: \x01\n")
    assert error(path, registry).startswith(f"{path}:3: invalid YAML: special characters are not allowed")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "remotes:\n  a:\n    type: fake\n  b:\n    type: fake\n  a:\n    type: fake\n",
            "6: remotes.a: duplicate key 'a' (first set at line 2)",
        ),
        (
            "remotes:\n  a:\n    type: fake\n    flag: true\n    flag: false\n",
            "5: remotes.a.flag: duplicate key 'flag' (first set at line 4)",
        ),
        (
            "remotes: {}\ndefaults: {}\nremotes: {}\n",
            "3: remotes: duplicate key 'remotes' (first set at line 1)",
        ),
        (
            "jobs:\n  - name: x\n    to: a\n    to: b\n",
            "4: jobs[0].to: duplicate key 'to' (first set at line 3)",
        ),
        ('remotes:\n  "a":\n    type: fake\n  a:\n    type: fake\n', "4: remotes.a: duplicate key 'a'"),
    ],
)
def test_duplicate_keys(tmp_path: Path, registry: Registry, text: str, expected: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    assert error(path, registry).startswith(f"{path}:{expected}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "1: the top level must be a mapping, not a list"),
        ("just text\n", "1: the top level must be a mapping, not a string"),
        (
            "remotes: {}\nremote:\n  a: 1\n",
            "2: remote: unknown top-level key 'remote' (known: defaults, filters, jobs, remotes)",
        ),
        ("remotes:\n  - a\n", "2: remotes: expected a mapping of remote names to remotes, got a list"),
        ("defaults: 3\n", "1: defaults: expected a mapping, got an integer"),
        ("filters: [a]\n", "1: filters: expected a mapping, got a list"),
        ("jobs:\n  a: 1\n", "2: jobs: expected a list, got a mapping"),
        ("remotes:\n  [a]: 1\n", "2: remotes: keys must be plain strings, not a list"),
        ("remotes:\n  ~: {type: fake}\n", "2: remotes: empty key"),
        (
            "remotes:\n  base: &b {type: fake}\n  a:\n    <<: *b\n",
            "4: remotes.a: merge keys ('<<') are not supported here",
        ),
    ],
)
def test_structure_errors(tmp_path: Path, registry: Registry, text: str, expected: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    assert error(path, registry) == f"{path}:{expected}"


def test_reserved_sections_may_be_empty(tmp_path: Path, registry: Registry) -> None:
    config = load(write(tmp_path, "remotes:\ndefaults:\nfilters:\njobs:\n"), registry)
    assert config == Config(path=str(tmp_path / "config.yaml"))


# -- remotes ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [" lead", "a/b", "a:b", "é/x", "a\tb"])
def test_invalid_remote_names(tmp_path: Path, registry: Registry, name: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"remotes:\n  {json.dumps(name)}:\n    type: fake\n")
    message = error(path, registry)
    assert message.startswith(f"{path}:2: remotes.{name}: invalid remote name {name!r}: use letters")


@pytest.mark.parametrize("name", ["a", "A_1", "x.y", "a+b@c", "-dash", "with space", "123", "ünï"])
def test_valid_remote_names(tmp_path: Path, registry: Registry, name: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"remotes:\n  {json.dumps(name)}:\n    type: fake\n")
    assert list(load(path, registry).remotes) == [name]


def test_remote_without_type(tmp_path: Path, registry: Registry) -> None:
    path = write(
        tmp_path,
        """
        remotes:
          ok:
            type: fake
          a:
            root: /x
        """,
    )
    assert error(path, registry) == f"{path}:4: remotes.a: missing 'type'"
    path = write(tmp_path, "remotes:\n  ok: {type: fake}\n  a:\n")
    assert error(path, registry) == f"{path}:3: remotes.a: missing 'type'"
    path = write(tmp_path, "remotes:\n  a: local\n")
    assert error(path, registry) == f"{path}:2: remotes.a: expected a mapping, got a string"


def test_unknown_and_mistyped_type(tmp_path: Path, registry: Registry) -> None:
    path = write(
        tmp_path,
        """
        remotes:
          a:
            root: /x

            type: dropbox
        """,
    )
    assert error(path, registry) == (
        f"{path}:5: remotes.a.type: unknown remote type 'dropbox' "
        "(known: bad, fake, local, mega, memory, needs)"
    )
    path = write(tmp_path, "remotes:\n  a:\n    type: 3\n")
    assert error(path, registry) == f"{path}:3: remotes.a.type: expected a string, got an integer"


def test_type_whose_module_is_missing(tmp_path: Path, registry: Registry) -> None:
    registry.register("ghost", "backends.no_such_module:Ghost")
    path = write(tmp_path, "remotes:\n  g:\n    type: ghost\n")
    assert error(path, registry).startswith(
        f"{path}:3: remotes.g.type: remote type 'ghost' is not available: "
    )


def test_unknown_option(tmp_path: Path, registry: Registry) -> None:
    path = write(
        tmp_path,
        """
        remotes:
          work:
            type: fake
            root: /x
            flag: true

            tyep: local
        """,
    )
    assert error(path, registry) == (
        f"{path}:7: remotes.work.tyep: unknown option 'tyep' for remote type fake "
        "(known: count, flag, label, mode, note, password, password_command, ratio, root, tags)"
    )


def test_command_suffix_on_a_non_secret_field_is_unknown(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, "remotes:\n  a:\n    type: fake\n    label_command: echo hi\n")
    assert error(path, registry).startswith(
        f"{path}:4: remotes.a.label_command: unknown option 'label_command' for remote type fake (known: "
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("flag: 'true'", "flag: expected a boolean (true or false), got a string"),
        ("flag: 1", "flag: expected a boolean (true or false), got an integer"),
        ("flag: ~", "flag: expected a boolean (true or false), got nothing (null)"),
        ("count: true", "count: expected an integer, got a boolean"),
        ("count: 1.5", "count: expected an integer, got a number"),
        ("count: '3'", "count: expected an integer, got a string"),
        ("ratio: yes", "ratio: expected a number, got a boolean"),
        ("label: 12", "label: expected a string, got an integer"),
        ("label: 2024-01-02", "label: expected a string, got a date"),
        ("label: [a]", "label: expected a string, got a list"),
        ("label: ~", "label: expected a string, got nothing (null)"),
        ("note: {a: 1}", "note: expected a string, got a mapping"),
        ("password: 1234", "password: expected a string, got an integer"),
        ("tags: a", "tags: expected a list of strings, got a string"),
        ("tags: [a, 1]", "tags[1]: expected a string, got an integer"),
        ("mode: slow", "mode: expected one of fast, safe, got 'slow'"),
        ("root: 5", "root: expected a string, got an integer"),
        ("password_command: ~", "password_command: expected a command (a string), got nothing (null)"),
        ('password_command: "pass \'show"', "password_command: cannot parse command: No closing quotation"),
        ("password_command: '  '", "password_command: empty command"),
    ],
)
def test_option_type_errors(tmp_path: Path, registry: Registry, line: str, expected: str) -> None:
    path = write(tmp_path, f"remotes:\n  r:\n    type: fake\n\n    {line}\n")
    assert error(path, registry) == f"{path}:5: remotes.r.{expected}"


def test_value_on_the_next_line_reports_the_value_line(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, "remotes:\n  r:\n    type: fake\n    tags:\n      - a\n      - 2\n")
    assert error(path, registry) == f"{path}:6: remotes.r.tags[1]: expected a string, got an integer"


def test_optional_fields_accept_null(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, "remotes:\n  r:\n    type: fake\n    note:\n    password: ~\n")
    options = load(path, registry).remotes["r"].options
    assert options.note is None and options.password is None


def test_unsupported_option_annotation_is_a_programming_error(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, "remotes:\n  r:\n    type: bad\n")
    with pytest.raises(TypeError, match=r"BadOptions\.mapping: unsupported option type"):
        load(path, registry)


def test_both_secret_and_command(tmp_path: Path, registry: Registry) -> None:
    path = write(
        tmp_path,
        f"""
        remotes:
          r:
            type: fake
            password: {SECRET}
            password_command: echo hi
        """,
    )
    message = error(path, registry)
    assert message == (
        f"{path}:5: remotes.r.password_command: set either 'password' or 'password_command', not both "
        "('password' is at line 4)"
    )
    assert SECRET not in message


# -- defaults -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "retries: 3",
            "defaults.retries: unknown option 'retries' in defaults "
            "(known: checkers, copy_links, debris_keep, log_level, transfers)",
        ),
        ("log_level: WARN", "defaults.log_level: expected one of DEBUG, INFO, NOTICE, ERROR, got 'WARN'"),
        ("log_level: 1", "defaults.log_level: expected a string, got an integer"),
        ("checkers: 0", "defaults.checkers: must be a positive integer, got 0"),
        ("transfers: -2", "defaults.transfers: must be a positive integer, got -2"),
        ("transfers: '8'", "defaults.transfers: expected an integer, got a string"),
        ("copy_links: yes please", "defaults.copy_links: expected a boolean (true or false), got a string"),
    ],
)
def test_defaults_errors(tmp_path: Path, registry: Registry, line: str, expected: str) -> None:
    path = write(tmp_path, f"remotes: {{}}\ndefaults:\n  {line}\n")
    assert error(path, registry) == f"{path}:3: {expected}"


def test_defaults_log_level_interpolated(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, "defaults:\n  log_level: ${LEVEL}\n")
    assert load(path, registry, {"LEVEL": "notice"}).defaults == {"log_level": "NOTICE"}


# -- interpolation ------------------------------------------------------------------------------------------


def test_interpolation(tmp_path: Path, registry: Registry) -> None:
    path = write(
        tmp_path,
        """
        remotes:
          r:
            type: fake
            root: ${BASE}/sub
            label: "$${NOT} ${A}${B} $$ $x ${EMPTY}."
            tags: ["${A}", "lit $${A}"]
            password: ${PW}
        """,
    )
    env = {"BASE": "/srv", "A": "1", "B": "two", "EMPTY": "", "PW": SECRET}
    remote = load(path, registry, env).remotes["r"]
    assert remote.root == "/srv/sub"
    assert remote.options.label == "${NOT} 1two $$ $x ."
    assert remote.options.tags == ["1", "lit ${A}"]
    assert remote.options.password == Secret(SECRET)


def test_interpolated_values_are_not_retyped(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, "remotes:\n  r:\n    type: fake\n    label: ${N}\n")
    assert load(path, registry, {"N": "12"}).remotes["r"].options.label == "12"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("${MISSING}", "environment variable 'MISSING' is not set"),
        ("a ${SET} ${MISSING}", "environment variable 'MISSING' is not set"),
        ("${1BAD}", "invalid environment variable name '1BAD' in '${...}'"),
        ("${}", "invalid environment variable name '' in '${...}'"),
        ("${OPEN", "unterminated '${' (write '$${' for a literal '${')"),
    ],
)
def test_interpolation_errors(tmp_path: Path, registry: Registry, value: str, expected: str) -> None:
    for key in ("label", "password", "root"):
        path = write(tmp_path, f"remotes:\n  r:\n    type: fake\n    {key}: {json.dumps(value)}\n")
        message = error(path, registry, {"SET": SECRET})
        assert message == f"{path}:4: remotes.r.{key}: {expected}"
        assert SECRET not in message


def test_interpolation_in_list_item_error_names_the_item(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, "remotes:\n  r:\n    type: fake\n    tags:\n      - ok\n      - ${NOPE}\n")
    assert error(path, registry) == f"{path}:6: remotes.r.tags[1]: environment variable 'NOPE' is not set"


def test_reserved_sections_are_not_interpolated(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, "jobs:\n  - to: ${UNSET}\n")
    assert load(path, registry).jobs == [{"to": "${UNSET}"}]


# -- password_command ---------------------------------------------------------------------------------------


def test_password_command_is_lazy_and_runs_once(tmp_path: Path, registry: Registry) -> None:
    counter = tmp_path / "runs"
    command = py(f"open({str(counter)!r}, 'a').write('x'); print({SECRET!r})")
    path = write(tmp_path, f"remotes:\n  r:\n    type: fake\n    password_command: {json.dumps(command)}\n")
    config = load(path, registry)
    assert not counter.exists()
    password = config.remotes["r"].options.password
    assert password.command == command
    assert password.reveal() == SECRET
    assert password.reveal() == SECRET
    assert counter.read_text() == "x"


def test_password_command_interpolates_each_word(tmp_path: Path, registry: Registry) -> None:
    command = py("import sys; print(sys.argv[1] + '|' + sys.argv[2])") + " ${WORD} $${LIT}"
    path = write(tmp_path, f"remotes:\n  r:\n    type: fake\n    password_command: {json.dumps(command)}\n")
    config = load(path, registry, {"WORD": "a b; rm -rf /"})
    assert config.remotes["r"].options.password.reveal() == "a b; rm -rf /|${LIT}"
    assert config.redacted()["remotes"]["r"]["password_command"] == command  # as written


def test_password_command_unset_variable_fails_at_load(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, "remotes:\n  r:\n    type: fake\n    password_command: pass show ${ENTRY}\n")
    assert (
        error(path, registry)
        == f"{path}:4: remotes.r.password_command: environment variable 'ENTRY' is not set"
    )


def test_password_command_failure(tmp_path: Path, registry: Registry) -> None:
    command = py(f"import sys; print({SECRET!r}); print('bad passphrase', file=sys.stderr); sys.exit(2)")
    path = write(
        tmp_path,
        f"""
        remotes:
          r:
            type: fake

            password_command: {json.dumps(command)}
        """,
    )
    password = load(path, registry).remotes["r"].options.password
    with pytest.raises(ConfigError) as info:
        password.reveal()
    message = str(info.value)
    assert message.startswith(f"{path}:5: remotes.r.password_command: command ")
    assert message.endswith("exited with status 2: bad passphrase")
    assert SECRET not in message


def test_password_command_not_found(tmp_path: Path, registry: Registry) -> None:
    path = write(tmp_path, "remotes:\n  r:\n    type: fake\n    password_command: /no/such/cmd-xyz get\n")
    password = load(path, registry).remotes["r"].options.password
    with pytest.raises(ConfigError) as info:
        password.reveal()
    assert str(info.value) == f"{path}:4: remotes.r.password_command: command not found: /no/such/cmd-xyz"


# -- redaction ----------------------------------------------------------------------------------------------


def test_secrets_never_leak(tmp_path: Path, registry: Registry) -> None:
    command = py(f"print({SECRET[::-1]!r}[::-1])")  # the command text must not hold the secret itself
    path = write(
        tmp_path,
        f"""
        remotes:
          plain:
            type: fake
            password: {SECRET}
          fromenv:
            type: fake
            password: ${{PW}}
            label: shown
            count: 3
          fromcmd:
            type: fake
            password_command: {json.dumps(command)}
          n:
            type: needs
            user: me
            token: ${{PW}}
        defaults:
          transfers: 3
        filters:
          rules: []
        """,
    )
    config = load(path, registry, {"PW": SECRET})
    assert config.remotes["fromcmd"].options.password.reveal() == SECRET  # even once revealed
    redacted = config.redacted()
    for text in (repr(config), str(config), repr(config.remotes), repr(redacted), json.dumps(redacted)):
        assert SECRET not in text
    assert redacted == {
        "remotes": {
            "plain": {"type": "fake", "password": "***"},
            "fromenv": {"type": "fake", "password": "***", "label": "shown", "count": 3},
            "fromcmd": {"type": "fake", "password_command": command},
            "n": {"type": "needs", "user": "me", "token": "***"},
        },
        "defaults": {"transfers": 3},
        "filters": {"rules": []},
    }
    # and in an error raised later in the same file
    bad = write(tmp_path, path.read_text() + "bogus: 1\n", name="bad.yaml")
    message = error(bad, registry, {"PW": SECRET})
    assert message.startswith(f"{bad}:21: bogus: unknown top-level key")
    assert SECRET not in message


def test_redacted_shows_root_and_non_default_options(tmp_path: Path, registry: Registry) -> None:
    path = write(
        tmp_path,
        "remotes:\n  r:\n    type: fake\n    root: /x\n    flag: false\n    tags: [a]\n    mode: fast\n",
    )
    assert load(path, registry).redacted() == {
        "remotes": {"r": {"type": "fake", "root": "/x", "tags": ["a"], "mode": "fast"}},
    }
    assert load(write(tmp_path, "remotes:\n"), registry).redacted() == {}


def test_config_error_helper(tmp_path: Path) -> None:
    assert str(config_error(tmp_path / "c.yaml", None, "jobs[0]", "bad\n  thing")) == (
        f"{tmp_path / 'c.yaml'}: jobs[0]: bad thing"
    )


# -- private files ------------------------------------------------------------------------------------------


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_private_dir_creates_0700(tmp_path: Path, umask: None) -> None:
    target = tmp_path / "a" / "b" / "state"
    assert private_dir(target) == target
    assert target.is_dir()
    for directory in (target, target.parent, target.parent.parent):
        assert mode(directory) == 0o700
    assert private_dir(str(target)) == target  # idempotent, accepts str


def test_private_dir_fixes_an_existing_directory(tmp_path: Path, umask: None) -> None:
    target = tmp_path / "open"
    target.mkdir(mode=0o755)
    (target / "keep").write_text("x")
    os.chmod(target, 0o755)
    private_dir(target)
    assert mode(target) == 0o700
    assert (target / "keep").read_text() == "x"
    os.chmod(tmp_path, 0o755)
    private_dir(target)
    assert mode(tmp_path) == 0o755


def test_private_dir_on_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError):
        private_dir(tmp_path / "f")


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o277])
def test_write_private_is_0600_whatever_the_umask(tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        write_private(tmp_path / "session", b"\x00bytes")
        write_private(tmp_path / "text", "héllo")
    finally:
        os.umask(old)
    assert mode(tmp_path / "session") == 0o600
    assert mode(tmp_path / "text") == 0o600
    assert (tmp_path / "session").read_bytes() == b"\x00bytes"
    assert (tmp_path / "text").read_bytes() == "héllo".encode()


def test_write_private_replaces_atomically(tmp_path: Path, umask: None) -> None:
    target = tmp_path / "cache.json"
    target.write_text("old")
    os.chmod(target, 0o644)
    old_inode = os.stat(target).st_ino
    with open(target, "rb") as reader:  # a reader holding the old file keeps seeing it whole
        write_private(target, b"new")
        assert reader.read() == b"old"
    assert target.read_bytes() == b"new"
    assert os.stat(target).st_ino != old_inode  # a rename, not an in-place rewrite
    assert mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.json"]  # no temp file left


def test_write_private_failure_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.db"
    write_private(target, b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        write_private(target, b"new" * 1000)
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.db"]


def test_write_private_never_writes_through_an_existing_temp_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a planted symlink at the temp name is not followed (O_EXCL): another random name is drawn
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    (tmp_path / f".target.{'00' * 6}.tmp").symlink_to(victim)
    draws = iter([bytes(6), b"\x01" * 6])
    monkeypatch.setattr(os, "urandom", lambda n: next(draws))
    write_private(tmp_path / "target", b"data")
    monkeypatch.undo()
    assert victim.read_text() == "untouched"
    assert (tmp_path / "target").read_bytes() == b"data"
    assert not (tmp_path / f".target.{'01' * 6}.tmp").exists()


def test_redacted_hides_a_public_links_key(tmp_path: Path) -> None:
    from backends import default_registry

    link = "https://mega.nz/folder/abcdEFGH#" + "K" * 22
    path = write(tmp_path, f"remotes:\n  shared:\n    type: mega\n    link: {link}\n")
    redacted = load(path, default_registry()).redacted()
    assert redacted == {"remotes": {"shared": {"type": "mega", "link": "***"}}}
    assert "K" * 22 not in str(redacted)


def test_mega_password_is_accepted_under_either_spelling(tmp_path: Path) -> None:
    from backends import default_registry

    registry = default_registry()
    head = "remotes:\n  m:\n    type: mega\n    user: me@example.com\n"
    for line in ("pass: ${PW}", "password: ${PW}", "pass_command: echo x", "password_command: echo x"):
        options = load(write(tmp_path, head + f"    {line}\n"), registry, {"PW": SECRET}).remotes["m"].options
        assert options.password is not None
        if "${PW}" in line:
            assert options.password.reveal() == SECRET
        else:
            assert options.password.command is not None
    both = write(tmp_path, head + "    pass: ${PW}\n    password_command: echo x\n")
    message = error(both, registry, {"PW": SECRET})
    assert "set either 'pass' or 'pass_command', not both" in message
    assert SECRET not in message
