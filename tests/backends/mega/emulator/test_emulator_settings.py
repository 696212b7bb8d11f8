"""Emulator settings: defaults, validation, values from YAML and from command-line text."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.mega.emulator.cli import _settings, build_parser
from backends.mega.emulator.settings import (
    AccountSpec,
    EmulatorSettings,
    load_config,
    parse_account,
    settings_values,
)


def test_defaults_inject_no_faults(tmp_path: Path) -> None:
    settings = EmulatorSettings(data_dir=str(tmp_path))  # type: ignore[arg-type]
    assert settings.data_dir == tmp_path
    assert (settings.host, settings.port, settings.tls) == ("127.0.0.1", 0, False)
    assert settings.eagain_rate == settings.http500_rate == settings.drop_rate == settings.corrupt_rate == 0
    assert (settings.bandwidth, settings.quota, settings.login_limit, settings.hashcash) == (0, None, 0, None)


@pytest.mark.parametrize(
    "bad",
    [
        {"eagain_rate": 1.5},
        {"drop_rate": -0.1},
        {"port": 70000},
        {"bandwidth": -1},
        {"quota": -1},
        {"login_limit": -1},
        {"hashcash": "sometimes"},
        {"hashcash_easiness": 256},
        {"upload_ttl": 0},
        {"sc_wait": float("inf")},
        {"tls_cert": "cert.pem"},  # without its key
    ],
)
def test_out_of_range_values_are_refused(tmp_path: Path, bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        EmulatorSettings(data_dir=tmp_path, **bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"bandwidth": "10M"}, {"bandwidth": 10 * 1024 * 1024}),
        ({"bandwidth": "100"}, {"bandwidth": 100 * 1024}),  # rclone: a bare number is KiB
        ({"bandwidth": 4096}, {"bandwidth": 4096}),  # a YAML number is bytes
        ({"bandwidth": "off"}, {"bandwidth": 0}),
        ({"quota": "1G"}, {"quota": 1 << 30}),
        ({"quota": "off"}, {"quota": None}),
        ({"quota": None}, {"quota": None}),
        ({"upload-ttl": "5m"}, {"upload_ttl": 300.0}),
        ({"sc_wait": 2}, {"sc_wait": 2.0}),
        ({"eagain-rate": "0.25"}, {"eagain_rate": 0.25}),
        ({"hashcash": "off"}, {"hashcash": None}),
        ({"hashcash": "LOGIN"}, {"hashcash": "login"}),
        ({"port": "8080", "seed": "7"}, {"port": 8080, "seed": 7}),
    ],
)
def test_settings_values(raw: dict[str, object], expected: dict[str, object]) -> None:
    assert settings_values(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"bandwith": 1}, "unknown emulator setting 'bandwith'"),
        ({"bandwidth": "10X"}, "bandwidth:"),
        ({"port": "eighty"}, "port:"),
        ({"login_limit": True}, "login_limit:"),
        ({"drop_rate": "often"}, "drop_rate:"),
    ],
)
def test_settings_values_name_the_bad_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings_values(raw)


def test_parse_account() -> None:
    assert parse_account("Me@Example.com:pa:ss") == AccountSpec("me@example.com", "pa:ss", 2)
    assert parse_account("me@example.com:pw", version=1).version == 1
    for bad in ("me@example.com", "no-at:pw", "me@example.com:"):
        with pytest.raises(ValueError):
            parse_account(bad)


def test_password_never_shows_in_repr() -> None:
    assert "secret-pw" not in repr(AccountSpec("a@b.c", "secret-pw", 2, "JBSWY3DPEHPK3PXP"))


def test_load_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMULATOR_PW", "from-env")
    config = tmp_path / "emulator.yaml"
    config.write_text(
        "data_dir: /srv/mega\n"
        "port: 4443\n"
        "quota: 2G\n"
        "login-limit: 5\n"
        "accounts:\n"
        "  - plain@example.com:plain-pw\n"
        "  - email: Env@Example.com\n"
        '    password: "${EMULATOR_PW}"\n'
        "    version: 1\n"
        "    mfa_secret: JBSWY3DPEHPK3PXP\n"
    )
    loaded = load_config(config)
    assert loaded.values == {"data_dir": Path("/srv/mega"), "port": 4443, "quota": 2 << 30, "login_limit": 5}
    assert loaded.accounts == (
        AccountSpec("plain@example.com", "plain-pw", 2),
        AccountSpec("env@example.com", "from-env", 1, "JBSWY3DPEHPK3PXP"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a list\n", "expected a mapping"),
        ("accounts: nope\n", "accounts: expected a list"),
        ("accounts:\n  - email: a@b.c\n", "email and password are required"),
        (
            'accounts:\n  - email: a@b.c\n    password: "${NOT_SET_ANYWHERE_42}"\n',
            "NOT_SET_ANYWHERE_42 is not set",
        ),
        ("colour: blue\n", "unknown emulator setting"),
        ("port: [\n", "emulator.yaml"),
    ],
)
def test_load_config_errors_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "emulator.yaml"
    config.write_text(text)
    with pytest.raises(ValueError, match=message) as raised:
        load_config(config)
    assert str(config) in str(raised.value)


def test_flags_override_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "emulator.yaml"
    config.write_text(
        f"data_dir: {tmp_path / 'from-config'}\nport: 4443\ndrop_rate: 0.5\naccounts: [a@b.c:pw]\n"
    )
    args = build_parser().parse_args(
        [
            "--config",
            str(config),
            "--port",
            "0",
            "--bandwidth",
            "1M",
            "--hashcash",
            "all",
            "--v1-user",
            "v@b.c:x",
        ]
    )
    settings, accounts = _settings(args)
    assert settings.data_dir == tmp_path / "from-config"
    assert (settings.port, settings.drop_rate, settings.bandwidth, settings.hashcash) == (
        0,
        0.5,
        1 << 20,
        "all",
    )
    assert [(a.email, a.version) for a in accounts] == [("a@b.c", 2), ("v@b.c", 1)]


def test_data_dir_is_required() -> None:
    with pytest.raises(ValueError, match="--data"):
        _settings(build_parser().parse_args(["--port", "0"]))


def test_new_fault_settings_from_text_yaml_and_flags(tmp_path: Path) -> None:
    assert settings_values(
        {
            "ratelimit-rate": "0.1",
            "blocked": "A@x.org, b@y.org",
            "transfer-quota": "5M",
            "transfer_quota_window": "10m",
        }
    ) == {
        "ratelimit_rate": 0.1,
        "blocked": frozenset({"a@x.org", "b@y.org"}),
        "transfer_quota": 5 << 20,
        "transfer_quota_window": 600.0,
    }
    assert settings_values({"blocked": ["C@z.org", "d@z.org,e@z.org"], "transfer_quota": "off"}) == {
        "blocked": frozenset({"c@z.org", "d@z.org", "e@z.org"}),
        "transfer_quota": None,
    }
    assert settings_values({"blocked": None, "transfer_quota": 0}) == {
        "blocked": frozenset(),
        "transfer_quota": 0,
    }
    with pytest.raises(ValueError, match="blocked: not an e-mail"):
        settings_values({"blocked": "nobody"})
    args = build_parser().parse_args(
        [
            "--data",
            str(tmp_path),
            "--ratelimit-rate",
            "0.5",
            "--blocked",
            "One@x.org",
            "--blocked",
            "two@x.org",
            "--transfer-quota",
            "1G",
            "--transfer-quota-window",
            "90s",
        ]
    )
    settings, _ = _settings(args)
    assert settings.ratelimit_rate == 0.5
    assert settings.blocked == frozenset({"one@x.org", "two@x.org"})
    assert (settings.transfer_quota, settings.transfer_quota_window) == (1 << 30, 90.0)


def test_new_fault_settings_defaults_and_ranges(tmp_path: Path) -> None:
    settings = EmulatorSettings(data_dir=tmp_path)
    assert (settings.ratelimit_rate, settings.blocked, settings.transfer_quota) == (0, frozenset(), None)
    assert settings.transfer_quota_window == 3600
    assert EmulatorSettings(data_dir=tmp_path, blocked=["A@B.c"]).blocked == frozenset({"a@b.c"})  # type: ignore[arg-type]
    for bad in (
        {"ratelimit_rate": 2},
        {"transfer_quota": -1},
        {"transfer_quota_window": 0},
        {"blocked": "a@b.c"},  # one string, not a set of e-mails
        {"blocked": ["not-an-email"]},
    ):
        with pytest.raises(ValueError):
            EmulatorSettings(data_dir=tmp_path, **bad)  # type: ignore[arg-type]
