"""``syncer mega-emulator``: run the MEGA emulator in the foreground until SIGINT or SIGTERM.

It prints the API URL and a config snippet for a ``mega`` remote pointing at it (the password as an
environment placeholder: nothing printed or logged ever contains a password), then serves. Settings come from
``--config FILE`` (YAML, see ``settings.load_config``) overridden by the flags. Accounts given with ``--user``
or in the file are signed up on the first start, through the same client-side sign-up a MEGA app runs; on a
later start over the same ``--data`` directory they already exist and are kept as they are.

Exit codes: 0 after a clean stop, 2 for bad arguments or config, 1 when the server cannot run (port taken,
data directory in use).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any, TextIO

from backends.mega.emulator.service import Emulator
from backends.mega.emulator.settings import (
    AccountSpec,
    EmulatorSettings,
    load_config,
    parse_account,
    settings_values,
)
from backends.mega.emulator.store import StoreLocked

__all__ = ["build_parser", "main"]

log = logging.getLogger("syncer.mega.emulator")

PROG = "syncer mega-emulator"
#: Flags that map one-to-one onto settings (their dest is the settings field).
_SETTING_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("--eagain-rate", "RATE", "answer this share of API requests with a bare -3 (EAGAIN), 0..1"),
    ("--ratelimit-rate", "RATE", "answer this share of API requests with a bare -4 (ERATELIMIT), 0..1"),
    ("--http500-rate", "RATE", "answer this share of API and transfer requests with HTTP 500"),
    ("--drop-rate", "RATE", "cut this share of transfers halfway, and lose this share of /cs answers"),
    ("--corrupt-rate", "RATE", "flip a byte in this share of download bodies"),
    ("--bandwidth", "SIZE", "cap all transfers together at SIZE per second (10M = 10 MiB/s; 0 = off)"),
    ("--quota", "SIZE", "storage per account (e.g. 1G; default unlimited)"),
    ("--login-limit", "N", "refuse logins beyond N per account per rolling minute with -6 (0 = off)"),
    (
        "--blocked",
        "EMAIL",
        "block this account as MEGA's administrators do: it still logs in, then every request of its"
        " sessions and its sc polls answer a bare -16 (EBLOCKED), except 'whyamiblocked'; repeatable",
    ),
    (
        "--transfer-quota",
        "SIZE",
        "download allowance per account over --transfer-quota-window (e.g. 1G; 0 = off, the default);"
        " beyond it downloads answer HTTP 509 with X-MEGA-Time-Left and g carries e:-17 and tl",
    ),
    ("--transfer-quota-window", "DURATION", "the rolling window of --transfer-quota (default 1h)"),
    ("--hashcash", "WHEN", "ask for proof of work (HTTP 402) on 'login' requests or on 'all' (default off)"),
    ("--hashcash-easiness", "E", "easiness of the proof of work, 0..255 (higher is easier; default 200)"),
    ("--upload-ttl", "DURATION", "how long an upload URL takes pieces (e.g. 1h; default 24h)"),
    ("--sc-wait", "DURATION", "how long a long poll waits for news (default 30s)"),
    ("--seed", "N", "seed of the fault decisions, for reproducible runs"),
)
#: Setting flags given once per value; the setting gets the list.
_REPEATABLE_FLAGS = frozenset({"--blocked"})


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a local MEGA-compatible server (real protocol, real client-side encryption).",
    )
    parser.add_argument("--data", metavar="DIR", help="data directory (database and file bodies); kept")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on; 0 picks a free one (default)")
    parser.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", metavar="FILE", help="private key of --tls-cert (PEM)")
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="EMAIL:PASSWORD",
        help="create this (v2) account if missing; repeatable (other local users can read a command line:"
        " --config with ${VAR} passwords keeps them out of it)",
    )
    parser.add_argument(
        "--v1-user",
        action="append",
        default=[],
        metavar="EMAIL:PASSWORD",
        help="create this account with MEGA's old v1 key derivation; repeatable",
    )
    parser.add_argument("--config", metavar="FILE", help="YAML file of settings and accounts")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request (DEBUG)")
    faults = parser.add_argument_group("fault injection (all off by default)")
    for flag, metavar, text in _SETTING_FLAGS:
        if flag in _REPEATABLE_FLAGS:
            faults.add_argument(flag, metavar=metavar, help=text, action="append")
        else:
            faults.add_argument(flag, metavar=metavar, help=text)
    return parser


def _settings(args: argparse.Namespace) -> tuple[EmulatorSettings, list[AccountSpec]]:
    """Settings and accounts from the config file, overridden by the flags. ValueError when invalid."""
    values: dict[str, Any] = {}
    accounts: list[AccountSpec] = []
    if args.config:
        config = load_config(args.config)
        values.update(config.values)
        accounts.extend(config.accounts)
    raw: dict[str, Any] = {}
    for name in ("host", "port", "tls_cert", "tls_key"):
        if getattr(args, name) is not None:
            raw[name] = getattr(args, name)
    if args.data is not None:
        raw["data_dir"] = args.data
    for flag, _, _ in _SETTING_FLAGS:
        name = flag[2:].replace("-", "_")
        if getattr(args, name) is not None:
            raw[name] = getattr(args, name)
    values.update(settings_values(raw))
    if values.get("data_dir") is None:
        raise ValueError("--data DIR is required (or data_dir in --config)")
    accounts.extend(parse_account(text) for text in args.user)
    accounts.extend(parse_account(text, version=1) for text in args.v1_user)
    return EmulatorSettings(**values), accounts


def _remote_snippet(api_url: str, accounts: Sequence[AccountSpec]) -> str:
    user = accounts[0].email if accounts else "you@example.com"
    return "\n".join(
        [
            "# A syncer remote for this emulator (the password is read from the environment):",
            "remotes:",
            "  mega-emulator:",
            "    type: mega",
            f"    user: {user}",
            "    pass: ${MEGA_PASS}",
            f"    api_url: {api_url}",
        ]
    )


def _configure_logging(verbose: bool) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.DEBUG if verbose else logging.INFO,
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    elif verbose:
        logging.getLogger("syncer.mega.emulator").setLevel(logging.DEBUG)


def main(argv: Sequence[str], *, out: TextIO | None = None) -> int:
    """Run the emulator until SIGINT/SIGTERM; returns the exit code."""
    out = sys.stdout if out is None else out
    parser = build_parser()
    args = parser.parse_args(list(argv))
    _configure_logging(args.verbose)
    try:
        settings, accounts = _settings(args)
    except ValueError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    try:
        emulator = Emulator(settings)
    except (StoreLocked, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    previous = _install_handlers(stop)
    try:
        for account in accounts:
            if emulator.has_account(account.email):
                log.info("account %s exists; kept as it is", account.email)
            else:
                emulator.add_account(account.email, account.password, account.version, account.mfa_secret)
        api_url = emulator.start()
        print(f"api_url: {api_url}", file=out)
        print(_remote_snippet(api_url, accounts), file=out, flush=True)
        while not stop.wait(1.0):
            pass
    except (OSError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    finally:
        emulator.stop()
        _restore_handlers(previous)
    return 0


_Handlers = dict[int, Any]


def _install_handlers(stop: threading.Event) -> _Handlers:
    """SIGINT and SIGTERM end the serving loop (only possible from the main thread)."""

    def request_stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    previous: _Handlers = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, request_stop)
    return previous


def _restore_handlers(previous: _Handlers) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
